/**
 * A chat client that hangs up reaches its request's disconnect policy, end to end: HTTP
 * client → gateway → session actor → the real `openAICompatible` provider → the
 * real-HTTP upstream fixture (held replies: the test steps each piece, so nothing depends
 * on this machine's speed).
 *
 * - `cancel` (the default): the session cuts the stream and the abort reaches the
 *   upstream socket; `detach`: the upstream streams on to its end, the answer lands in the
 *   session's history, and no client is written anything more. The policy is the
 *   gateway's (`onDisconnect`) unless the request names its own (`X-Interlock-On-Disconnect`).
 * - A prompt whose client leaves while it waits: `cancel` drops it before it reaches the
 *   upstream; `detach` runs it when its turn comes.
 * - A disconnect of request A delivered late, after B replaced A, never cuts B.
 */
import { tap } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectPolicy, SessionContext } from '../../machines/session.js';
import type { BusRecord } from '../../src/index.js';
import { upstreamTokens, waitUntil } from '../fixtures/upstream.js';
import { prompt } from '../scenarios/helpers-002.js';
import { createGateway } from '../../src/gateway/createGateway.js';
import { errors } from '../../src/errors.js';
import type { SnapshotStore } from '../../src/store/SnapshotStore.js';
import { MODEL, startGateway, type TestGateway } from './helpers.js';
import { closeWorlds, Curl, world, type World } from './streams.js';

afterEach(closeWorlds);

const history = (gw: TestGateway, session: string) => (gw.rt.snapshot(`session/${session}`)?.context as SessionContext | undefined)?.history ?? [];
const logged = (gw: TestGateway, msg: string, trace?: string) => gw.logs.some((l) => l.msg === msg && (trace === undefined || l.trace === trace));

/** Steps every held reply of `text` until it has no piece left. */
function stepToEnd(w: World, text: string): void {
  while (w.upstream.held(prompt(text)) > 0) w.upstream.step(prompt(text));
}

/** The session's emitted events, as `type` or `type(reason)`. */
function emittedLog(w: World): string[] {
  const out: string[] = [];
  w.gw.rt.events$.subscribe((r: BusRecord) => {
    if (r.type !== 'emitted') return;
    const e = (r.data as { event: { type: string; reason?: string } }).event;
    if (e.type !== 'chunk') out.push(e.reason === undefined ? e.type : `${e.type}(${e.reason})`);
  });
  return out;
}

describe('a client that hangs up reaches its request\'s disconnect policy', { timeout: 30_000 }, () => {
  const cases: { server: DisconnectPolicy; header?: DisconnectPolicy; applies: DisconnectPolicy }[] = [
    { server: 'cancel', applies: 'cancel' },
    { server: 'detach', applies: 'detach' },
    { server: 'cancel', header: 'detach', applies: 'detach' },
    { server: 'detach', header: 'cancel', applies: 'cancel' },
  ];
  for (const c of cases) {
    const name = `server ${c.server}${c.header ? `, X-Interlock-On-Disconnect: ${c.header}` : ''}`;
    const expected =
      c.applies === 'cancel'
        ? 'the stream is cut and the abort reaches the upstream socket'
        : 'the upstream streams on to its end, the answer lands in the history, no client gets it';
    it(`${name}: ${expected}`, async () => {
      const w = await world({ gateway: { onDisconnect: c.server } });
      const emitted = emittedLog(w);
      w.tracing.plan('S:A', { tokens: 8, hold: true });
      const a = new Curl(w.gw.url, 'S:A', 'S', c.header ? { 'x-interlock-on-disconnect': c.header } : {});
      await a.firstChunk;
      a.kill();
      await a.ended;
      await waitUntil(() => logged(w.gw, 'client_disconnect', a.trace), 'the gateway saw the client leave');
      const writtenBefore = w.written.filter((x) => x.trace === a.trace).length;

      if (c.applies === 'cancel') {
        await waitUntil(() => w.upstream.busySockets() === 0, "the upstream socket of A closed");
        expect(w.upstream.clientAborts).toBe(1);
        expect(w.upstream.completed).toBe(0);
        expect(emitted).toEqual(['stream.started', 'stream.end(disconnected)']);
        expect(w.gw.vocabulary('S', { A: a.trace })).toEqual(['stream_start A', 'stream_cancelled A reason=client_disconnect', 'stream_end A reason=client_disconnect']);
        // The partial answer stays (as for a cancel): what the model said before the abort.
        expect(history(w.gw, 'S')).toEqual([
          { role: 'user', content: 'S:A' },
          { role: 'assistant', content: upstreamTokens(1).join('') },
        ]);
      } else {
        await waitUntil(() => logged(w.gw, 'stream_detached', a.trace), 'the session detached the stream');
        stepToEnd(w, 'S:A');
        await waitUntil(() => w.gw.rt.view('session/S')?.state === 'idle', 'the detached stream ran to its end');
        expect(w.upstream.clientAborts).toBe(0);
        await waitUntil(() => w.upstream.completed === 1, 'the upstream completed its reply');
        expect(emitted).toEqual(['stream.started', 'stream.detached', 'stream.end(done)']);
        expect(w.gw.vocabulary('S', { A: a.trace })).toEqual(['stream_start A', 'stream_end A reason=done']);
        expect(history(w.gw, 'S')).toEqual([
          { role: 'user', content: 'S:A' },
          { role: 'assistant', content: upstreamTokens(8).join('') },
        ]);
      }
      // Nothing reached a client after it left.
      expect(w.written.filter((x) => x.trace === a.trace)).toHaveLength(writtenBefore);
    });
  }

  for (const policy of ['cancel', 'detach'] as const) {
    it(`a prompt whose client leaves while it waits (enqueued behind another): ${policy === 'cancel' ? 'dropped before it reaches the upstream' : 'runs when its turn comes, into the history'}`, async () => {
      const w = await world({ gateway: { onDisconnect: policy } });
      w.tracing.plan('S:A', { tokens: 4, hold: true });
      w.tracing.plan('S:B', { tokens: 3, delayMs: 2 });
      const a = new Curl(w.gw.url, 'S:A', 'S');
      await a.firstChunk;
      const b = new Curl(w.gw.url, 'S:B', 'S', { 'x-interlock-on-busy': 'enqueue' });
      await waitUntil(() => (w.gw.rt.view('session/S')?.postponed ?? 0) === 1, 'B waits behind A');
      b.kill();
      await b.ended;
      await waitUntil(() => logged(w.gw, 'client_disconnect'), "the gateway saw B's client leave");
      if (policy === 'cancel') await waitUntil(() => (w.gw.rt.view('session/S')?.postponed ?? 0) === 0, 'B is removed from the mailbox');
      stepToEnd(w, 'S:A');
      await a.ended;
      expect(a.outcome()).toBe('done');
      await waitUntil(() => w.gw.rt.view('session/S')?.state === 'idle' && w.gw.rt.view('session/S')?.postponed === 0, 'the session is idle');
      if (policy === 'cancel') {
        expect(w.tracing.lines('S')).toEqual(['open S:A', 'release S:A']);
        expect(history(w.gw, 'S').map((m) => m.content)).toEqual(['S:A', upstreamTokens(4).join('')]);
      } else {
        await waitUntil(() => history(w.gw, 'S').length === 4, "B's answer is in the history");
        expect(history(w.gw, 'S').map((m) => m.content)).toEqual(['S:A', upstreamTokens(4).join(''), 'S:B', upstreamTokens(3).join('')]);
        expect(w.tracing.lines('S').filter((l) => l.startsWith('open'))).toEqual(['open S:A', 'open S:B']);
      }
      // Only A's client was written chunks.
      expect(new Set(w.written.map((x) => x.trace))).toEqual(new Set([a.trace]));
      // B's lines: under detach, its stream.started sends the disconnect its client could not (the session detaches it).
      const bTrace = w.gw.logs.find((l) => l.msg === 'client_disconnect')!.trace;
      const fields = (l: Record<string, unknown>) => ['policy', 'started', 'reason', 'chunks'].filter((f) => f in l).map((f) => ` ${f}=${String(l[f])}`).join('');
      expect(w.gw.logs.filter((l) => l.trace === bTrace && l.session === 'S').map((l) => `${l.msg}${fields(l)}`)).toEqual(
        policy === 'cancel'
          ? ['client_disconnect policy=cancel started=false', 'stream_end reason=client_disconnect chunks=0']
          : ['client_disconnect policy=detach started=false', 'stream_start', 'stream_detached', 'stream_end reason=done chunks=3'],
      );
    });
  }

  it('a per-request session (no X-Session-Id) whose client left under detach is cleaned up once its stream ends', async () => {
    const w = await world({ gateway: { onDisconnect: 'detach' } });
    w.tracing.plan('anon:A', { tokens: 4, hold: true });
    const a = new Curl(w.gw.url, 'anon:A');
    await a.firstChunk;
    a.kill();
    await waitUntil(() => logged(w.gw, 'stream_detached', a.trace), 'the session detached the stream');
    expect(w.gw.rt.addresses('session')).toHaveLength(1);
    stepToEnd(w, 'anon:A');
    await waitUntil(() => w.gw.rt.addresses('session').length === 0, 'the per-request session is gone');
    expect(w.upstream.completed).toBe(1);
  });

  it('a per-request session that is quiet when its response ends is passivated at once and its snapshot dropped, with no second activation', async () => {
    const kept = new Map<string, unknown>();
    const store: SnapshotStore = { load: () => undefined, save: (address, snapshot) => void kept.set(address, snapshot), delete: (address) => void kept.delete(address) };
    const gw = await startGateway({ store, logLevel: 'warn' });
    const life: string[] = [];
    gw.rt.events$.subscribe((r: BusRecord) => {
      if (r.type.startsWith('lifecycle.') || r.type === 'mailbox.delivered') life.push(r.type === 'mailbox.delivered' ? `delivered ${(r.data as { type: string }).type}` : r.type);
    });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    await waitUntil(() => life.includes('lifecycle.passivated') && kept.size === 0, 'the per-request session passivated and its snapshot deleted');
    // A turn later: no close was sent, nothing activated it again.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(life).toEqual(['lifecycle.activated', 'delivered prompt', 'lifecycle.passivated']);
    expect(gw.rt.addresses('session')).toEqual([]);
  });

  /**
   * A per-request session its gateway cannot passivate yet: the store holds the session's load
   * until the test lets it go, the prompt waits, its client hangs up (cancel), and the gateway,
   * after the response, finds the session still loading. `refuseClose` makes the runtime refuse
   * the gateway's `close` with that error instead of taking it.
   */
  async function loadingAnonymous(refuseClose?: Error) {
    const loads: string[] = [];
    let letGo!: () => void;
    const loaded = new Promise<undefined>((resolve) => (letGo = () => resolve(undefined)));
    const kept = new Map<string, unknown>();
    const store: SnapshotStore = {
      load: (address) => (loads.push(address), loaded),
      save: (address, snapshot) => void kept.set(address, snapshot),
      delete: (address) => void kept.delete(address),
    };
    const gw = await startGateway({ store, logLevel: 'warn' });
    const passivated: boolean[] = [];
    const passivate = gw.rt.passivate.bind(gw.rt);
    gw.rt.passivate = (address: string, options?: { discard?: boolean }) => {
      const done = passivate(address, options);
      passivated.push(done);
      return done;
    };
    // How many watches of a session's records the gateway holds open.
    const watch = { open: 0 };
    const events = gw.rt.events.bind(gw.rt);
    gw.rt.events = ((address: string) =>
      events(address).pipe(tap({ subscribe: () => void watch.open++, finalize: () => void watch.open-- }))) as typeof gw.rt.events;
    if (refuseClose) {
      const tell = gw.rt.tell.bind(gw.rt);
      gw.rt.tell = ((address: string, event: { type: string }, options?: never) => {
        if (event.type === 'close') throw refuseClose;
        tell(address, event as never, options);
      }) as typeof gw.rt.tell;
    }
    const life: string[] = [];
    gw.rt.events$.subscribe((r: BusRecord) => {
      if (r.type.startsWith('lifecycle.')) life.push(r.type);
      if (r.type === 'mailbox.delivered') life.push(`delivered ${(r.data as { type: string }).type}`);
    });
    const abort = new AbortController();
    const res = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      signal: abort.signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    }).catch((err: Error) => err.name);
    await waitUntil(() => loads.length === 1, 'the per-request session is loading');
    abort.abort();
    expect(await res).toBe('AbortError');
    await waitUntil(() => passivated.length > 0, 'the gateway tried to passivate the per-request session');
    expect(passivated[0]).toBe(false);
    return { gw, letGo, kept, life, passivated, watch };
  }

  it('a per-request session its gateway cannot passivate yet (still loading) when its client has gone is told to close, then dropped once quiet', async () => {
    // Told to close, the session ends (what it held is dropped) and the runtime restarts it fresh.
    const { gw, letGo, kept, life, passivated, watch } = await loadingAnonymous();
    expect(watch.open).toBe(1);
    letGo();
    // Then, quiet, it is passivated and its snapshot dropped: nothing of the request is left (it
    // used to live on until its idle timeout and leave its snapshot in the store for good).
    await waitUntil(() => life.includes('lifecycle.passivated'), 'the per-request session passivated once quiet', 2_000);
    expect(life).toEqual(['lifecycle.activated', 'delivered close', 'lifecycle.restarted', 'lifecycle.passivated']);
    await waitUntil(() => kept.size === 0, 'its snapshot deleted');
    expect(gw.rt.addresses('session')).toEqual([]);
    // It tried again after the session's records until the session was quiet: refused until then, once done.
    expect([passivated.at(-1), passivated.slice(0, -1).every((done) => !done)]).toEqual([true, true]);
    expect(watch.open).toBe(0);
  });

  it("a per-request session whose mailbox is full when told to close is still retried after its own records, and dropped once quiet", async () => {
    const { gw, letGo, kept, life, watch } = await loadingAnonymous(errors.mailboxFull('session/x', 1));
    expect(watch.open).toBe(1);
    letGo();
    await waitUntil(() => life.includes('lifecycle.passivated'), 'the per-request session passivated once quiet', 2_000);
    await waitUntil(() => kept.size === 0, 'its snapshot deleted');
    expect(gw.rt.addresses('session')).toEqual([]);
    expect(watch.open).toBe(0);
  });

  it('a per-request session that refuses its close for any other reason (failed, the runtime stopping) is no longer watched: no record will come', async () => {
    const { watch } = await loadingAnonymous(errors.failed('session/x'));
    // The watch ended at the refusal itself, not at some later record.
    expect(watch.open).toBe(0);
  });

  it('refuses an unknown policy: X-Interlock-On-Disconnect with 400, the gateway option at creation', async () => {
    const w = await world();
    const res = await fetch(`${w.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-interlock-on-disconnect': 'later' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_INVALID_REQUEST');
    expect(() => createGateway(w.gw.rt, { onDisconnect: 'later' as never })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG', message: "Invalid createGateway options: `onDisconnect` must be 'cancel' or 'detach', got later." }));
  });

  it("a disconnect of request A delivered late, after B replaced A, never cuts B's newer stream", async () => {
    const w = await world();
    const emitted = emittedLog(w);
    // Hold the gateway's disconnect on its way to the session, to deliver it late.
    const held: (() => void)[] = [];
    const rt = w.gw.rt;
    const tell = rt.tell.bind(rt);
    rt.tell = ((address: string, event: { type: string }, options?: never) => {
      if (event.type === 'disconnect') held.push(() => tell(address, event as never, options));
      else tell(address, event as never, options);
    }) as typeof rt.tell;
    w.tracing.plan('S:A', { tokens: 50, hold: true });
    w.tracing.plan('S:B', { tokens: 5, hold: true });

    const a = new Curl(w.gw.url, 'S:A', 'S');
    await a.firstChunk;
    a.kill();
    await waitUntil(() => held.length === 1, "the gateway sent A's disconnect");
    const b = new Curl(w.gw.url, 'S:B', 'S');
    await b.firstChunk; // A was interrupted (its upstream socket closed), B streams
    expect(w.tracing.lines('S')).toEqual(['open S:A', 'release S:A', 'open S:B']);
    held.shift()!(); // A's disconnect arrives now
    await waitUntil(() => emitted.includes('event.ignored(not the active request)'), 'the session took the late disconnect, and ignored it');
    stepToEnd(w, 'S:B');
    await b.ended;

    expect(b.outcome()).toBe('done');
    expect(b.contents).toEqual(upstreamTokens(5));
    expect(emitted).toEqual(['stream.started', 'stream.end(interrupted)', 'stream.started', 'event.ignored(not the active request)', 'stream.end(done)']);
    expect(w.tracing.lines('S')).toEqual(['open S:A', 'release S:A', 'open S:B', 'release S:B']);
    await waitUntil(() => w.upstream.busySockets() === 0, 'no exchange busy upstream');
    expect(w.upstream.clientAborts).toBe(1);
    expect(w.upstream.completed).toBe(1);
  });
});
