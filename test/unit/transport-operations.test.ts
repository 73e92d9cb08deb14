/**
 * The operations table of one connection (src/transport/Operations.ts) with a recording
 * host instead of a socket: what it pushes, answers and closes with, the authorize request
 * it builds, and what it stops when an operation or the connection ends. The same paths
 * over a real socket are in test/transport/operations.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { createRuntime, reply, SimulatedClock } from '../../src/index.js';
import type { BusRecord } from '../../src/bus/records.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { Operations, type OperationsHost } from '../../src/transport/Operations.js';
import { resolveOptions, type Authorize, type AuthorizeRequest } from '../../src/transport/options.js';
import { PRIORITY_LANE } from '../../src/mailbox/envelope.js';
import type { Outbox } from '../../src/transport/Outbox.js';

const machine = setup({ types: {} as { context: { n: number }; events: { type: 'inc' } | { type: 'get' } | { type: 'never' } } }).createMachine({
  context: { n: 0 },
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) }, get: { actions: reply(({ context }) => context.n) }, never: {} },
});

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.shutdown({ drain: false })));
});

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

interface Log {
  pushes: { text: string; key: string | undefined }[];
  closes: [number, string][];
  errors: { id: string | undefined; err: { code?: string; message?: string } }[];
  results: { id: string; data: unknown }[];
  asked: AuthorizeRequest[];
}

function setupOps(options: { authorize?: Authorize; maxSubscriptions?: number; onPush?: (ops: Operations) => void; now?: () => number } = {}) {
  const clock = new SimulatedClock(5_000);
  const rt = createRuntime({ kinds: { vault: { machine, publicEvents: ['inc', 'get', 'never'] } }, clock }) as unknown as Runtime;
  runtimes.push(rt);
  const log: Log = { pushes: [], closes: [], errors: [], results: [], asked: [] };
  const authorize = options.authorize && ((r: AuthorizeRequest) => (log.asked.push(r), options.authorize!(r)));
  let ops!: Operations;
  const outbox = {
    push: (text: string, key?: string) => {
      log.pushes.push({ text, key });
      options.onPush?.(ops);
    },
  } as unknown as Outbox;
  const host: OperationsHost = {
    ctx: {
      runtime: rt,
      // The transport's clock may differ from the runtime's (`now` stands in for a failing one).
      limits: resolveOptions({ clock: options.now ? { now: options.now, setTimeout: clock.setTimeout.bind(clock), clearTimeout: clock.clearTimeout.bind(clock) } : clock, maxSubscriptions: options.maxSubscriptions ?? 100 }),
      base: 1_000_000,
      kinds: new Set(['vault']),
      verify: () => true,
      authorize,
    },
    token: 'tok',
    outbox,
    close: (code, reason) => void log.closes.push([code, reason]),
    sendError: (id, err) => void log.errors.push({ id, err: err as Log['errors'][number]['err'] }),
    sendResult: (id, data) => void log.results.push({ id, data }),
  };
  ops = new Operations(host);
  const nexts = (id: string) => log.pushes.filter((p) => p.text.startsWith(`{"type":"next","id":"${id}"`)).map((p) => JSON.parse(p.text).payload as BusRecord);
  return { rt, ops, log, clock, nexts };
}

describe('Operations of one connection', () => {
  it('asks authorize for exactly { token, address, pattern, action } of each operation', async () => {
    const { ops, log } = setupOps({ authorize: () => true });
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    ops.subscribe({ type: 'subscribe', id: 'p', payload: { pattern: 'vault/*' } });
    ops.request({ type: 'send', id: 'r', payload: { address: 'vault/1', event: { type: 'inc' } } });
    ops.request({ type: 'ask', id: 'q', payload: { address: 'vault/1', event: { type: 'get' } } });
    expect(log.asked).toEqual([
      { token: 'tok', address: 'vault/1', pattern: false, action: 'subscribe' },
      { token: 'tok', address: 'vault/*', pattern: true, action: 'subscribe' },
      { token: 'tok', address: 'vault/1', pattern: false, action: 'send' },
      { token: 'tok', address: 'vault/1', pattern: false, action: 'ask' },
    ]);
    await flush();
  });

  it('answers a synchronous authorize at once, without a promise that would hold the connection', () => {
    const { ops, log } = setupOps({ authorize: () => true });
    expect(ops.request({ type: 'send', id: 'r', payload: { address: 'vault/1', event: { type: 'inc' } } })).toBeUndefined();
    expect(log.results).toEqual([{ id: 'r', data: null }]);
  });

  it('refuses an address of an unknown kind before asking authorize, naming the known kinds', () => {
    const { ops, log } = setupOps({ authorize: () => true });
    ops.request({ type: 'send', id: 'r', payload: { address: 'nope/1', event: { type: 'inc' } } });
    expect(log.asked).toEqual([]);
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0]!.err.code).toBe('INTERLOCK_UNKNOWN_KIND');
    expect(log.errors[0]!.err.message).toContain('Known kinds: vault.');
  });

  it('names at most 200 characters of a since address and of the pattern it does not match', () => {
    const { ops, log } = setupOps();
    // Keys may be 256 characters long, so an address and a pattern may pass 200.
    const key = 'k'.repeat(250);
    const pattern = `vault/${'a'.repeat(250)}*`;
    ops.subscribe({ type: 'subscribe', id: 'p', payload: { pattern, since: { [`vault/${key}`]: { epoch: 1, seq: 1 } } } });
    expect(log.errors.map((e) => [e.id, e.err.code, e.err.message])).toEqual([
      [
        'p',
        'INTERLOCK_INVALID_MESSAGE',
        expect.stringContaining(`'payload.since' names '${`vault/${key}`.slice(0, 200)}', which pattern '${pattern.slice(0, 200)}' does not match`),
      ],
    ]);
  });

  it('closes 4409 naming the duplicate id', () => {
    const { ops, log } = setupOps();
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/2' } });
    expect(log.closes).toEqual([[4409, 'An operation with this id already exists']]);
  });

  it('closes 1001 saying the server is shutting down when the runtime ends a subscription', async () => {
    const { rt, ops, log } = setupOps();
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    await rt.shutdown({ drain: false });
    expect(log.closes).toEqual([[1001, 'The server is shutting down']]);
  });

  it('coalesces snapshots by subscription, and by subscription and address for a pattern; other records never', async () => {
    const { rt, ops, log } = setupOps();
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    ops.subscribe({ type: 'subscribe', id: 'p', payload: { pattern: 'vault/*' } });
    rt.tell('vault/1', { type: 'inc' } as never);
    await flush();
    const keys = (id: string) => new Set(log.pushes.filter((p) => p.text.includes(`"id":"${id}"`) && p.text.includes('"type":"snapshot"')).map((p) => p.key));
    expect(keys('s')).toEqual(new Set(['s']));
    expect(keys('p')).toEqual(new Set(['p\nvault/1']));
    expect(log.pushes.filter((p) => !p.text.includes('"type":"snapshot"')).every((p) => p.key === undefined)).toBe(true);
  });

  it("stamps the first snapshot of a subscription with the server clock's time of subscribing", async () => {
    const { rt, ops, nexts, clock } = setupOps();
    rt.tell('vault/1', { type: 'inc' } as never);
    await flush();
    clock.advance(250);
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    expect(nexts('s')).toMatchObject([{ type: 'snapshot', ts: 5_250 }]);
  });

  it('puts a send of priority high in the high lane, and one without a priority in the normal lane', async () => {
    const { ops, nexts } = setupOps();
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    ops.request({ type: 'send', id: 'h', payload: { address: 'vault/1', event: { type: 'inc' }, priority: 'high' } });
    ops.request({ type: 'send', id: 'n', payload: { address: 'vault/1', event: { type: 'inc' } } });
    await flush();
    const lanes = nexts('s').filter((r) => r.type === 'mailbox.enqueued').map((r) => (r.data as { lane: number }).lane);
    expect(lanes).toEqual([PRIORITY_LANE.high, PRIORITY_LANE.normal]);
  });

  it('counts only subscriptions against maxSubscriptions: ended sends and asks free no subscription slot', async () => {
    const { ops, log } = setupOps({ maxSubscriptions: 1 });
    ops.request({ type: 'send', id: 'r', payload: { address: 'vault/1', event: { type: 'inc' } } });
    ops.subscribe({ type: 'subscribe', id: 'a', payload: { address: 'vault/1' } });
    ops.subscribe({ type: 'subscribe', id: 'b', payload: { address: 'vault/2' } });
    expect(log.errors.map((e) => [e.id, e.err.code])).toEqual([['b', 'INTERLOCK_TOO_MANY_SUBSCRIPTIONS']]);
    await flush();
  });

  it('sends no answer to an ask completed after its reply was settled but before it was delivered', async () => {
    const { rt, ops, log } = setupOps();
    const sub = rt.events('vault/1').subscribe((r) => {
      if (r.type === 'turn.replied') queueMicrotask(() => ops.complete('q'));
    });
    ops.request({ type: 'ask', id: 'q', payload: { address: 'vault/1', event: { type: 'get' } } });
    await flush();
    sub.unsubscribe();
    expect(log.results).toEqual([]);
    expect(log.errors).toEqual([]);
    expect(log.pushes.map((p) => p.text)).toEqual(['{"type":"complete","id":"q"}']);
  });

  it('starts nothing when an async authorize allows an operation the client completed meanwhile', async () => {
    let allow!: (ok: boolean) => void;
    const { rt, ops, log } = setupOps({ authorize: () => new Promise<boolean>((r) => (allow = r)) });
    const decided = ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    ops.complete('s');
    allow(true);
    await decided;
    rt.tell('vault/1', { type: 'inc' } as never);
    await flush();
    expect(log.pushes.map((p) => p.text)).toEqual(['{"type":"complete","id":"s"}']);
    expect(log.errors).toEqual([]);
  });

  it('sends nothing when an async authorize allows a send the client completed meanwhile', async () => {
    let allow!: (ok: boolean) => void;
    const { rt, ops, log } = setupOps({ authorize: () => new Promise<boolean>((r) => (allow = r)) });
    const decided = ops.request({ type: 'send', id: 'r', payload: { address: 'vault/1', event: { type: 'inc' } } });
    ops.complete('r');
    allow(true);
    await decided;
    await flush();
    expect([log.results, log.errors]).toEqual([[], []]);
    expect(rt.view('vault/1')).toBeUndefined();
  });

  it('stops a subscription whose connection closed while it replayed (its first record overflowed the outbox)', async () => {
    const { rt, ops, log } = setupOps({ onPush: (o) => o.closeAll() });
    rt.tell('vault/1', { type: 'inc' } as never);
    await flush();
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    const pushed = log.pushes.length;
    expect(pushed).toBe(1);
    rt.tell('vault/1', { type: 'inc' } as never);
    await flush();
    expect(log.pushes).toHaveLength(pushed);
  });

  it('on closeAll stops every subscription, cancels every ask, and frees every id and subscription slot', async () => {
    const { rt, ops, log } = setupOps({ maxSubscriptions: 1 });
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    ops.request({ type: 'ask', id: 'q', payload: { address: 'vault/1', event: { type: 'never' } } });
    await flush();
    expect(rt.view('vault/1')!.postponed).toBe(1);
    ops.closeAll();
    const pushed = log.pushes.length;
    rt.tell('vault/1', { type: 'inc' } as never);
    await flush();
    expect(log.pushes).toHaveLength(pushed);
    expect(rt.view('vault/1')!.postponed).toBe(0);
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/2' } });
    expect([log.closes, log.errors, log.results]).toEqual([[], [], []]);
  });
  it('answers a subscription whose start fails with an error on its id, and frees the id and its slot', async () => {
    let fail = true;
    const { rt, ops, log } = setupOps({
      maxSubscriptions: 1,
      now: () => {
        if (fail) throw new Error('clock failure');
        return 0;
      },
    });
    rt.tell('vault/1', { type: 'inc' } as never);
    await flush();
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    expect(log.errors.map((e) => [e.id, e.err.message])).toEqual([['s', 'clock failure']]);
    fail = false;
    ops.subscribe({ type: 'subscribe', id: 's', payload: { address: 'vault/1' } });
    expect([log.closes, log.errors.length]).toEqual([[], 1]);
    expect(log.pushes.filter((p) => p.text.includes('"id":"s"'))).toHaveLength(1);
  });

  it('sends no error for a subscription whose start fails after its connection closed', async () => {
    let calls = 0;
    const { rt, ops, log } = setupOps({
      onPush: (o) => o.closeAll(),
      now: () => {
        if (++calls === 2) throw new Error('clock failure');
        return 0;
      },
    });
    for (const a of ['vault/1', 'vault/2']) rt.tell(a, { type: 'inc' } as never);
    await flush();
    // Points of another boot: each address is answered with its current snapshot, stamped with now().
    const since = { 'vault/1': { epoch: 1, seq: 1 }, 'vault/2': { epoch: 1, seq: 1 } };
    ops.subscribe({ type: 'subscribe', id: 'p', payload: { pattern: 'vault/*', since } });
    expect(calls).toBe(2);
    expect(log.pushes).toHaveLength(1);
    expect(log.errors).toEqual([]);
  });
});
