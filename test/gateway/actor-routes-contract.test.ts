/**
 * The exact contract of the actor routes (src/gateway/actors.ts) over real HTTP: the 202
 * body of tell, the body of ask (an answer of undefined is null), a client that leaves
 * aborts its ask, coded 404s for an unknown kind or a never-activated actor (the message
 * names the fix), the route schemas refusing bad input, and list paging at the exact end.
 * An ask of an event its kind never answers (a session's `cancel`) is refused at once, over
 * HTTP and over the WebSocket (H24).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { reply, type KindConfig } from '../../src/index.js';
import { RawClient } from '../transport/helpers.js';
import { closeAll, startGateway, type TestGateway } from './helpers.js';

afterEach(closeAll);

/** `inc` counts, `get` answers the count, `nothing` answers undefined, `wait` is postponed (no action answers it). */
const counter = setup({
  types: {} as { context: { n: number }; events: { type: 'inc' } | { type: 'get' } | { type: 'nothing' } | { type: 'wait' } },
}).createMachine({
  context: { n: 0 },
  on: {
    inc: { actions: assign({ n: ({ context }) => context.n + 1 }) },
    get: { actions: reply(({ context }) => context.n) },
    nothing: { actions: reply(() => undefined) },
    // Handled by no action and no reply: an ask of it is postponed until it leaves.
    wait: {},
  },
});

const counterKind: KindConfig<typeof counter> = { machine: counter, publicEvents: ['inc', 'get', 'nothing', 'wait'] };

async function gateway(): Promise<TestGateway> {
  return startGateway({ kinds: { counter: counterKind as KindConfig }, logLevel: 'warn' });
}

const post = (gw: TestGateway, path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${gw.url}${path}`, { method: 'POST', ...(signal ? { signal } : {}), headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Polls a condition of the runtime (no fixed sleep), bounded. */
async function waitUntil(what: string, cond: () => boolean, rounds = 500): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`still not ${what}`);
}

/** What a refused ask of a session's `cancel` says, over either transport. */
const cancelNotAnswered = (address: string) =>
  `'cancel' is not answered by kind 'session' (it answers: prompt), so an ask or stream of it to '${address}' would wait for its deadline; send it with tell (WebSocket \`send\`, POST /v1/actors/${address}/tell).`;

describe('an ask nobody answers (H24)', () => {
  it("refuses POST …/ask of a session's cancel at once with 400 INTERLOCK_NOT_ANSWERED naming tell, activating nothing; the tell is accepted", async () => {
    const gw = await gateway();
    // Far past the test's own timeout: only the refusal can answer in time.
    const res = await post(gw, '/v1/actors/session/x/ask', { event: { type: 'cancel' }, timeoutMs: 600_000 });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { message: cancelNotAnswered('session/x'), type: 'invalid_request_error', param: null, code: 'INTERLOCK_NOT_ANSWERED' },
    });
    expect(gw.rt.view('session/x')).toBeUndefined();
    const told = await post(gw, '/v1/actors/session/x/tell', { event: { type: 'cancel' } });
    expect([told.status, await told.json()]).toEqual([202, { accepted: true, address: 'session/x' }]);
  });

  it("answers a WebSocket ask of a session's cancel at once with an error INTERLOCK_NOT_ANSWERED on its id; a send of it gets its result", async () => {
    const gw = await gateway();
    const c = await RawClient.connect(gw.url.replace(/^http/, 'ws'));
    c.send({ type: 'ask', id: 'a', payload: { address: 'session/x', event: { type: 'cancel' }, timeoutMs: 600_000 } });
    expect(await c.until((m) => (m.type === 'error' || m.type === 'result') && m.id === 'a')).toEqual({
      type: 'error',
      id: 'a',
      payload: { code: 'INTERLOCK_NOT_ANSWERED', message: cancelNotAnswered('session/x') },
    });
    expect(gw.rt.view('session/x')).toBeUndefined();
    c.send({ type: 'send', id: 's', payload: { address: 'session/x', event: { type: 'cancel' } } });
    expect(await c.until((m) => (m.type === 'error' || m.type === 'result') && m.id === 's')).toEqual({ type: 'result', id: 's', payload: { data: null } });
    c.terminate();
  });
});

describe('tell and ask', () => {
  it('tell answers 202 with exactly { accepted: true, address }', async () => {
    const gw = await gateway();
    const res = await post(gw, '/v1/actors/counter/t1/tell', { event: { type: 'inc' }, timeoutMs: 5_000, priority: 'high' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, address: 'counter/t1' });
    await waitUntil('counted', () => (gw.rt.view('counter/t1')?.context as { n: number } | undefined)?.n === 1);
  });

  it('ask answers { address, reply } with the actor\'s answer, and null for an answer of undefined', async () => {
    const gw = await gateway();
    await post(gw, '/v1/actors/counter/a1/tell', { event: { type: 'inc' } });
    await post(gw, '/v1/actors/counter/a1/tell', { event: { type: 'inc' } });
    const got = await post(gw, '/v1/actors/counter/a1/ask', { event: { type: 'get' }, priority: 'low' });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ address: 'counter/a1', reply: 2 });
    const none = await post(gw, '/v1/actors/counter/a1/ask', { event: { type: 'nothing' } });
    expect(none.status).toBe(200);
    expect(await none.json()).toEqual({ address: 'counter/a1', reply: null });
  });

  it('a client that leaves aborts its ask: the postponed envelope leaves the mailbox', async () => {
    const gw = await gateway();
    const abort = new AbortController();
    const pending = post(gw, '/v1/actors/counter/w1/ask', { event: { type: 'wait' }, timeoutMs: 600_000 }, abort.signal).catch((err: unknown) => err);
    await waitUntil('postponed', () => gw.rt.view('counter/w1')?.postponed === 1);
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    await waitUntil('removed after the client left', () => gw.rt.view('counter/w1')?.postponed === 0);
  });

  it('refuses an ask without an event (400, by the route schema) before it reaches the actor', async () => {
    const gw = await gateway();
    const res = await post(gw, '/v1/actors/counter/s1/ask', { timeoutMs: 10 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_INVALID_REQUEST');
    expect(gw.rt.view('counter/s1')).toBeUndefined();
  });
});

describe('unknown kinds and actors', () => {
  const unknownKind = async (res: Response, address: string) => {
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('INTERLOCK_UNKNOWN_KIND');
    expect(error.message).toContain(`Address '${address}' names kind 'nokind'`);
    expect(error.message).toContain('Known kinds: session, counter.');
  };

  it('tell, ask and view of an unknown kind answer 404 INTERLOCK_UNKNOWN_KIND naming the known kinds', async () => {
    const gw = await gateway();
    await unknownKind(await post(gw, '/v1/actors/nokind/x/tell', { event: { type: 'inc' } }), 'nokind/x');
    await unknownKind(await post(gw, '/v1/actors/nokind/x/ask', { event: { type: 'get' } }), 'nokind/x');
    await unknownKind(await fetch(`${gw.url}/v1/actors/nokind/x`), 'nokind/x');
    await unknownKind(await fetch(`${gw.url}/v1/actors?kind=nokind`), 'nokind/*');
    expect(gw.rt.addresses()).toEqual([]);
  });

  it('view of an actor never activated answers 404 INTERLOCK_NOT_FOUND telling the client to send it an event', async () => {
    const gw = await gateway();
    const res = await fetch(`${gw.url}/v1/actors/counter/ghost`);
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('INTERLOCK_NOT_FOUND');
    expect(error.message).toBe("No live actor at 'counter/ghost' (never activated, or passivated while idle). Send it an event to activate it.");
  });

  it('view refuses a key outside the key pattern (400 INTERLOCK_INVALID_ADDRESS, by the route schema)', async () => {
    const gw = await gateway();
    const res = await fetch(`${gw.url}/v1/actors/counter/${encodeURIComponent('-bad key')}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_INVALID_ADDRESS');
  });
});

describe('GET /v1/actors', () => {
  it('a page that ends exactly at the last actor says has_more false and next_after null, as { object: "list" }', async () => {
    const gw = await gateway();
    for (const k of ['b', 'a']) await post(gw, `/v1/actors/counter/${k}/tell`, { event: { type: 'inc' } });
    await waitUntil('both active', () => gw.rt.addresses('counter').length === 2);
    const res = await fetch(`${gw.url}/v1/actors?kind=counter&limit=2`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: { address: string }[]; has_more: boolean; next_after: string | null };
    expect(body.object).toBe('list');
    expect(body.data.map((d) => d.address)).toEqual(['counter/a', 'counter/b']);
    expect(body).toMatchObject({ has_more: false, next_after: null });
  });

  it('refuses a limit outside 1..1000 (400, by the route schema)', async () => {
    const gw = await gateway();
    for (const q of ['limit=0', 'limit=1001', 'limit=2x']) {
      const res = await fetch(`${gw.url}/v1/actors?${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code, q).toBe('INTERLOCK_INVALID_REQUEST');
    }
  });
});
