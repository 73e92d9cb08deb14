/**
 * The inspector's HTTP routes on a real socket: kinds and machine graphs, an actor's
 * mailbox, cancel and revive, the actor list at 10,000 actors, the gateway's auth, and
 * no secret in anything they return.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { agentKind } from '../../machines/agent.js';
import { workerKind } from '../../machines/worker.js';
import type { KindConfig } from '../../src/index.js';
import type { MachineGraph } from '../../src/inspect/machineGraph.js';
import type { MailboxView } from '../../src/inspect/mailboxView.js';
import { rejected, track } from '../helpers/outcome.js';
import { newLog, workMachine } from '../unit/fixtures.js';
import { closeAll, startGateway } from './helpers.js';

afterEach(closeAll);

const SECRET = 'sk-live-NEVER-SHOW-THIS';

const crashy = setup({ types: {} as { events: { type: 'boom' } | { type: 'ping' } } }).createMachine({
  id: 'crashy',
  on: {
    ping: { actions: () => undefined },
    boom: {
      actions: () => {
        throw new Error(`boom ${SECRET}`);
      },
    },
  },
});

const dot = setup({}).createMachine({ id: 'dot', initial: 'idle', states: { idle: { on: { ping: { actions: () => undefined } } } } });

/** Lets the runtime's microtasks and immediates run until `done()` holds (bounded: no sleeps). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !done(); i++) await new Promise<void>((r) => setImmediate(r));
  expect(done()).toBe(true);
}

function kinds() {
  return {
    work: { machine: workMachine(newLog()), cancelEvent: 'cancel' } as KindConfig,
    // No cancelEvent: its turns cannot be cancelled from outside.
    plain: { machine: workMachine(newLog()), maxActive: 5 } as KindConfig,
    failing: { machine: crashy, supervision: { maxRestarts: 0 } } as KindConfig,
    // Restarts after a minute: what is sent meanwhile stays queued.
    slow: { machine: crashy, supervision: { backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } } } as KindConfig,
    agent: agentKind({ subscriptions: [{ id: 'main', apiKey: SECRET }], handle: async () => 'ok', restart: async () => undefined }) as KindConfig,
    worker: workerKind({ process: async () => 'done' }) as KindConfig,
    dot: { machine: dot } as KindConfig,
  };
}

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
const post = (url: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers });

describe('inspector routes', () => {
  it('lists the kinds and serves each machine as a graph', async () => {
    const gw = await startGateway({ kinds: kinds(), logLevel: 'warn' });
    const list = await json<{ object: string; data: { name: string; machine: string; publicEvents: string[]; answers: string[] | null; cancelEvent: string | null; active: number }[] }>(
      await fetch(`${gw.url}/v1/kinds`),
    );
    expect(list.object).toBe('list');
    // answers: what an ask or stream may carry (the bundled kinds' helpers declare it); null: any type.
    expect(list.data.map((k) => [k.name, k.machine, k.cancelEvent, k.answers])).toEqual([
      ['session', 'session', 'cancel', ['prompt']],
      ['work', 'work', 'cancel', null],
      ['plain', 'work', null, null],
      ['failing', 'crashy', null, null],
      ['slow', 'crashy', null, null],
      ['agent', 'agent', 'cancel', ['request']],
      ['worker', 'worker', null, ['item']],
      ['dot', 'dot', null, null],
    ]);
    expect(list.data[0]!.publicEvents).toEqual(['prompt', 'cancel', 'disconnect', 'close']);
    expect(list.data.map((k) => (k as { maxActive?: number | null }).maxActive)).toEqual([10_000, null, 5, null, null, null, null, null]); // the gateway's session kind has a bound
    for (const kind of ['session', 'agent', 'worker']) {
      const res = await fetch(`${gw.url}/v1/kinds/${kind}/machine`);
      expect(res.status).toBe(200);
      const graph = await json<MachineGraph>(res);
      expect(graph).toEqual(JSON.parse(JSON.stringify(gw.rt.machine(kind))));
    }
    const session = await json<MachineGraph>(await fetch(`${gw.url}/v1/kinds/session/machine`));
    expect(session.root.states.map((s) => s.key)).toEqual(['idle', 'streaming', 'cancelling', 'settled', 'closed']);
    const nope = await fetch(`${gw.url}/v1/kinds/nope/machine`);
    expect([nope.status, (await json<{ error: { code: string; message: string } }>(nope)).error]).toEqual([
      404,
      expect.objectContaining({ code: 'INTERLOCK_UNKNOWN_KIND', message: `Address 'nope/*' names kind 'nope', which this runtime does not have. Known kinds: session, work, plain, failing, slow, agent, worker, dot.` }),
    ]);
    const bad = await fetch(`${gw.url}/v1/kinds/NO!/machine`);
    expect([bad.status, (await json<{ error: { code: string } }>(bad)).error.code]).toEqual([400, 'INTERLOCK_INVALID_ADDRESS']);
  });

  it("builds each kind's graph once (machines are fixed at createRuntime), whichever route asks first", async () => {
    const gw = await startGateway({ kinds: kinds(), logLevel: 'warn' });
    const built: string[] = [];
    const machine = gw.rt.machine.bind(gw.rt);
    gw.rt.machine = (kind: string) => (built.push(kind), machine(kind));
    await fetch(`${gw.url}/v1/kinds/work/machine`);
    await fetch(`${gw.url}/v1/kinds`);
    await fetch(`${gw.url}/v1/kinds`);
    expect((await fetch(`${gw.url}/v1/kinds/work/machine`)).status).toBe(200);
    expect(built).toEqual(['work', 'session', 'plain', 'failing', 'slow', 'agent', 'worker', 'dot']);
  });

  it('refuses an unknown kind (404 INTERLOCK_UNKNOWN_KIND, naming the kinds), an actor not live (404 INTERLOCK_NOT_FOUND) and a malformed key (400) on the mailbox, cancel and revive routes', async () => {
    const gw = await startGateway({ kinds: kinds(), logLevel: 'warn' });
    const known = 'session, work, plain, failing, slow, agent, worker, dot';
    for (const [method, route] of [['GET', 'mailbox'], ['POST', 'cancel'], ['POST', 'revive']] as const) {
      const unknown = await fetch(`${gw.url}/v1/actors/nope/x/${route}`, { method });
      expect([route, unknown.status, (await json<{ error: { code: string; message: string } }>(unknown)).error]).toEqual([
        route,
        404,
        expect.objectContaining({ code: 'INTERLOCK_UNKNOWN_KIND', message: `Address 'nope/x' names kind 'nope', which this runtime does not have. Known kinds: ${known}.` }),
      ]);
      const gone = await fetch(`${gw.url}/v1/actors/work/nobody/${route}`, { method });
      expect([route, gone.status, (await json<{ error: { code: string; message: string } }>(gone)).error]).toEqual([
        route,
        404,
        expect.objectContaining({ code: 'INTERLOCK_NOT_FOUND', message: "No live actor at 'work/nobody' (never activated, or passivated while idle). Send it an event to activate it." }),
      ]);
      // A key the address pattern refuses never reaches the runtime.
      const bad = await fetch(`${gw.url}/v1/actors/work/-bad/${route}`, { method });
      expect([route, bad.status, (await json<{ error: { code: string } }>(bad)).error.code]).toEqual([route, 400, 'INTERLOCK_INVALID_ADDRESS']);
    }
  });

  it('shows the mailbox: the running turn, postponed envelopes oldest first, queued ones in lane order with deadlines', async () => {
    const gw = await startGateway({ kinds: kinds(), logLevel: 'warn' });
    const held = track(gw.rt.ask('work/1', { type: 'work', id: 'one', gate: new Promise<void>(() => {}) } as never));
    const tell = (address: string, body: unknown) =>
      fetch(`${gw.url}/v1/actors/${address}/tell`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await tell('work/1', { event: { type: 'work', id: 'two' }, timeoutMs: 60_000 })).status).toBe(202);
    expect((await tell('work/1', { event: { type: 'work', id: 'three' } })).status).toBe(202);
    const work = await json<MailboxView>(await fetch(`${gw.url}/v1/actors/work/1/mailbox`));
    expect(work.running.map((e) => [e.event.type, e.reply, e.settled])).toEqual([['work', 'ask', false]]);
    expect(work.queued).toEqual([]);
    expect(work.postponed.map((e) => [e.event, e.lane, e.reply, e.deadline === null ? null : e.deadline - e.enqueuedAt])).toEqual([
      [{ type: 'work', internal: false }, 'normal', 'tell', 60_000],
      [{ type: 'work', internal: false }, 'normal', 'tell', null],
    ]);

    // A crashed actor waiting a minute for its restart: everything sent meanwhile stays queued.
    await tell('slow/1', { event: { type: 'boom' } });
    await tell('slow/1', { event: { type: 'ping' }, priority: 'low' });
    await tell('slow/1', { event: { type: 'ping' }, priority: 'high', timeoutMs: 30_000 });
    await tell('slow/1', { event: { type: 'ping' } });
    const slow = await json<MailboxView>(await fetch(`${gw.url}/v1/actors/slow/1/mailbox`));
    expect(slow.depth).toBe(3);
    expect(slow.queued.map((e) => [e.event.type, e.lane, e.remainingMs === null ? null : e.remainingMs <= 30_000])).toEqual([
      ['ping', 'high', true],
      ['ping', 'normal', null],
      ['ping', 'low', null],
    ]);
    expect(slow.queued.every((e) => e.ageMs >= 0 && e.enqueuedAt <= slow.now)).toBe(true);

    const none = await fetch(`${gw.url}/v1/actors/work/nobody/mailbox`);
    expect([none.status, (await json<{ error: { code: string } }>(none)).error.code]).toEqual([404, 'INTERLOCK_NOT_FOUND']);
    gw.rt.cancel('work/1');
    await rejected(held);
  });

  it('cancels the running turn (its caller gets INTERLOCK_CANCELLED), and refuses for a kind without a cancel event', async () => {
    const gw = await startGateway({ kinds: kinds(), logLevel: 'warn' });
    const held = track(gw.rt.ask('work/1', { type: 'work', id: 'one', gate: new Promise<void>(() => {}) } as never));
    const mailbox = await json<MailboxView>(await fetch(`${gw.url}/v1/actors/work/1/mailbox`));
    const res = await post(`${gw.url}/v1/actors/work/1/cancel`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ address: 'work/1', cancelled: [mailbox.running[0]!.id] });
    expect(await rejected(held)).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    // Idempotent: nothing left to cancel.
    expect(await (await post(`${gw.url}/v1/actors/work/1/cancel`)).json()).toEqual({ address: 'work/1', cancelled: [] });

    const plainHeld = track(gw.rt.ask('plain/1', { type: 'work', id: 'one', gate: new Promise<void>(() => {}) } as never));
    await fetch(`${gw.url}/v1/actors/plain/1/mailbox`);
    const refused = await post(`${gw.url}/v1/actors/plain/1/cancel`);
    expect(refused.status).toBe(409);
    expect((await json<{ error: { code: string; message: string } }>(refused)).error).toMatchObject({ code: 'INTERLOCK_NOT_CANCELLABLE', message: expect.stringContaining('cancelEvent') });
    const gone = await post(`${gw.url}/v1/actors/work/nobody/cancel`);
    expect([gone.status, (await json<{ error: { code: string } }>(gone)).error.code]).toEqual([404, 'INTERLOCK_NOT_FOUND']);
    await gw.close();
    await rejected(plainHeld);
  });

  it('revives a failed actor, and answers 409 INTERLOCK_NOT_FAILED for one that is not', async () => {
    const gw = await startGateway({ kinds: kinds(), logLevel: 'warn' });
    gw.rt.tell('failing/1', { type: 'boom' } as never);
    await until(() => gw.rt.view('failing/1')?.status === 'failed');
    const res = await post(`${gw.url}/v1/actors/failing/1/revive`);
    expect([res.status, await res.json()]).toEqual([200, { address: 'failing/1', revived: true, status: 'running' }]);
    const again = await post(`${gw.url}/v1/actors/failing/1/revive`);
    expect(again.status).toBe(409);
    expect((await json<{ error: { code: string; message: string } }>(again)).error).toMatchObject({ code: 'INTERLOCK_NOT_FAILED', message: "'failing/1' is running, not failed: only a failed actor can be revived." });
    const one = await json<{ restarts: number; status: string }>(await fetch(`${gw.url}/v1/actors/failing/1`));
    expect(one).toMatchObject({ status: 'running', restarts: 0 });
  });

  it('pages through 10,000 live actors with kind, state, depth, postponed and restarts, and filters by text', async () => {
    const gw = await startGateway({ kinds: kinds(), logLevel: 'warn' });
    for (let i = 0; i < 10_000; i++) gw.rt.tell(`dot/w${String(i).padStart(5, '0')}`, { type: 'ping' } as never);
    await until(() => gw.rt.stats({ addresses: false }).kinds.find((k) => k.kind === 'dot')!.delivered === 10_000);
    type Page = { data: { address: string; kind: string; status: string; state: unknown; depth: number; postponed: number; inFlight: number; restarts: number }[]; has_more: boolean; next_after: string | null };
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const page: Page = await json<Page>(await fetch(`${gw.url}/v1/actors?kind=dot&limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`));
      seen.push(...page.data.map((d) => d.address));
      if (!page.has_more) break;
      after = page.next_after;
    }
    expect(seen.length).toBe(10_000);
    expect(new Set(seen).size).toBe(10_000);
    const first = await json<Page>(await fetch(`${gw.url}/v1/actors?kind=dot&limit=1`));
    expect(first.data[0]).toEqual({ address: 'dot/w00000', kind: 'dot', status: 'running', state: 'idle', depth: 0, postponed: 0, inFlight: 0, restarts: 0 });
    const filtered = await json<Page>(await fetch(`${gw.url}/v1/actors?q=w0999`));
    expect(filtered.data.map((d) => d.address)).toEqual(Array.from({ length: 10 }, (_, i) => `dot/w0999${i}`));
  });

  it('guards every inspector route with the token, and returns no secret from any of them', async () => {
    const gw = await startGateway({ kinds: kinds(), gateway: { token: 't0k' }, logLevel: 'warn' });
    const auth = { authorization: 'Bearer t0k' };
    await gw.rt.ask('agent/a', { type: 'request', input: 'hi' } as never);
    gw.rt.tell('failing/x', { type: 'boom' } as never);
    await until(() => gw.rt.view('failing/x')?.status === 'failed');
    const gets = ['/v1/kinds', '/v1/kinds/agent/machine', '/v1/actors/agent/a/mailbox', '/v1/actors?limit=1000', '/v1/actors/agent/a'];
    const posts = ['/v1/actors/agent/a/cancel', '/v1/actors/failing/x/revive'];
    for (const path of [...gets, ...posts]) {
      const res = await fetch(`${gw.url}${path}`, { method: gets.includes(path) ? 'GET' : 'POST' });
      expect([path, res.status]).toEqual([path, 401]);
    }
    for (const path of gets) {
      const res = await fetch(`${gw.url}${path}`, { headers: auth });
      expect([path, res.status]).toEqual([path, 200]);
      expect(await res.text()).not.toContain(SECRET);
    }
    for (const path of posts) expect(await (await post(`${gw.url}${path}`, auth)).text()).not.toContain(SECRET);
  });
});
