/**
 * Seed 004 — two subscription failures on one agent (two chat requests, or a chat
 * overlapping a scheduled task, both hitting a 429 on the agent's API subscription) both
 * ran `handle_subscription_failure`'s read → decide → assign → restart sequence with no
 * mutual exclusion: both picked an alternative, both assigned it, both restarted the
 * container — wedging it, duplicating the switch notification. With three or more viable
 * subscriptions a loser whose failure was about the now-previous subscription switched
 * again: A → B → C. The fix was a per-agent lock plus a "did the subscription change
 * under me?" guard.
 *
 * Interlock's guarantee: the agent is an actor whose `switching-subscription` and
 * `restarting` are states, so a second switch for one failure is unrepresentable. Every
 * failure carries the subscription epoch it happened under; an old epoch is dropped and
 * recorded (`failure.stale`), so no cascade. Requests arriving while the agent switches or
 * restarts are postponed and run afterwards, on the new subscription. A restart that
 * fails or hangs is retried with backoff, then the agent is `failed` and every queued
 * request is rejected with INTERLOCK_AGENT_UNAVAILABLE — none is dropped silently.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentMachine, agentRestartInput, type AgentEmitted, type AgentEvent, type AgentOptions, type Subscription } from '../../machines/agent.js';
import { createRuntime, flushMicrotasks, isInterlockError, SimulatedClock, type BusRecord, type Runtime } from '../../src/index.js';

const RESTART_TIMEOUT_MS = 1_000;
const BACKOFF_MS = 100;

interface Chat {
  id: string;
  /** Its work fails with a 429 while it runs on this subscription. */
  quotaOn?: string;
  /** Its work fails with a 500 (not a subscription failure) on this subscription. */
  brokenOn?: string;
}

/** What the provider answers when the subscription's quota is spent. */
const quota429 = (sub: string) => Object.assign(new Error(`429 Too Many Requests on ${sub}`), { details: { status: 429 } });

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

type Outcome = { ok: true; value: string } | { ok: false; code: string };

/** An ask whose outcome is read after the clock ran, so a lost request fails an assertion instead of hanging the test. */
interface Tracked {
  id: string;
  outcome: Outcome | undefined;
}

function track(id: string, p: Promise<unknown>): Tracked {
  const t: Tracked = { id, outcome: undefined };
  p.then(
    (value) => (t.outcome = { ok: true, value: value as string }),
    (err: unknown) => (t.outcome = { ok: false, code: isInterlockError(err) ? err.code : `uncoded: ${String(err)}` }),
  );
  return t;
}

const outcomes = (ts: Tracked[]) => Object.fromEntries(ts.map((t) => [t.id, t.outcome ?? 'pending']));
const via = (sub: string, ...ids: string[]) => Object.fromEntries(ids.map((id) => [id, { ok: true, value: `${id} via ${sub}` }]));

type Switched = Extract<AgentEmitted, { type: 'subscription.switched' }> & { address: string };

interface Harness {
  clock: SimulatedClock;
  rt: Runtime<any>;
  /** `id@subscription` per handle() call, in order. */
  calls: string[];
  /** The subscription of each restart() call, in order, with its signal. */
  restarts: Array<{ sub: string; signal: AbortSignal; at: number }>;
  records: BusRecord[];
  emitted(address?: string): Array<AgentEmitted & { address: string }>;
  switched(address?: string): Switched[];
  /** Sends a failure report about the epoch it happened under (a chat's or a scheduled task's). */
  report(address: string, epoch: number, reason?: string): void;
  chat(address: string, chat: Chat): Tracked;
  /** Every timer fired, every promise callback run. */
  idle(): Promise<void>;
}

function harness(options: {
  subscriptions?: string[];
  /** Decides how restart() call number `n` (0-based) behaves; default: resolves at once. */
  restart?: (n: number, sub: string, signal: AbortSignal) => Promise<void>;
  /** Decides how a handle() call waits; default: resolves at once. */
  work?: (chat: Chat, sub: string) => Promise<void>;
}): Harness {
  const clock = new SimulatedClock();
  const calls: string[] = [];
  const restarts: Harness['restarts'] = [];
  const agentOptions: AgentOptions<Chat, string> = {
    subscriptions: (options.subscriptions ?? ['A', 'B']).map((id): Subscription => ({ id })),
    now: () => clock.now(),
    restartTimeoutMs: RESTART_TIMEOUT_MS,
    restartBackoffMs: BACKOFF_MS,
    restartAttempts: 3,
    handle: async (chat, { subscription }) => {
      calls.push(`${chat.id}@${subscription.id}`);
      await options.work?.(chat, subscription.id);
      if (chat.quotaOn === subscription.id) throw quota429(subscription.id);
      if (chat.brokenOn === subscription.id) throw Object.assign(new Error('500 Internal Server Error'), { details: { status: 500 } });
      return `${chat.id} via ${subscription.id}`;
    },
    restart: async (subscription, { signal }) => {
      const n = restarts.length;
      restarts.push({ sub: subscription.id, signal, at: clock.now() });
      await options.restart?.(n, subscription.id, signal);
    },
  };
  const rt = createRuntime({
    clock,
    random: () => 0.5,
    kinds: { agent: { machine: agentMachine(agentOptions), mailbox: { control: ['subscription.failed'] }, cancelEvent: 'cancel' } },
  });
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));
  const emitted = (address?: string) =>
    records
      .filter((r) => r.type === 'emitted' && (address === undefined || r.address === address))
      .map((r) => ({ ...(r.data as { event: AgentEmitted }).event, address: r.address }));
  return {
    clock,
    rt,
    calls,
    restarts,
    records,
    emitted,
    switched: (address) => emitted(address).filter((e): e is Switched => e.type === 'subscription.switched'),
    report: (address, epoch, reason) => {
      const event: AgentEvent = { type: 'subscription.failed', epoch, ...(reason ? { reason } : {}) };
      rt.tell(address, event);
    },
    chat: (address, chat) => {
      const event: AgentEvent = { type: 'request', input: chat };
      return track(chat.id, rt.ask(address, event));
    },
    idle: () => clock.runAll(),
  };
}

const epochOf = (h: Harness, address: string) => h.rt.snapshot(address)!.context.epoch as number;
const currentOf = (h: Harness, address: string) => {
  const c = h.rt.snapshot(address)!.context as { subscriptions: string[]; current: number };
  return c.subscriptions[c.current]!;
};

describe('seed 004: one switch per failure epoch', () => {
  it('(a) switches once and restarts once when a chat and a scheduled task report the same 429 while the chat runs', async () => {
    const call = gate();
    const restart = gate();
    const h = harness({ work: (_chat, sub) => (sub === 'A' ? call.promise : Promise.resolve()), restart: () => restart.promise });
    const running = h.chat('agent/a1', { id: 'c1', quotaOn: 'A' });
    await flushMicrotasks();
    expect(h.calls).toEqual(['c1@A']);
    // Both callers saw the 429 under epoch 0 and report it at once.
    const epoch = epochOf(h, 'agent/a1');
    h.report('agent/a1', epoch, 'chat: 429');
    h.report('agent/a1', epoch, 'scheduled task: 429');
    await h.clock.tick(10);
    // The chat's own call on A comes back with its 429 during the restart: fenced, it answers nobody.
    call.open();
    await h.clock.tick(10);
    expect(h.rt.snapshot('agent/a1')!.value).toEqual({ restarting: 'attempt' });
    restart.open();
    await h.idle();

    expect(h.restarts.map((r) => r.sub)).toEqual(['B']);
    expect(h.switched()).toEqual([{ type: 'subscription.switched', from: 'A', to: 'B', epoch: 1, reason: 'chat: 429', address: 'agent/a1' }]);
    expect(h.emitted().filter((e) => e.type === 'failure.stale')).toEqual([{ type: 'failure.stale', epoch: 0, current: 1, address: 'agent/a1' }]);
    expect(h.emitted().filter((e) => e.type === 'agent.restarted')).toHaveLength(1);
    // The interrupted chat was re-run once, on B, and answered from there.
    expect(h.calls).toEqual(['c1@A', 'c1@B']);
    expect(outcomes([running])).toEqual(via('B', 'c1'));
    expect(h.rt.snapshot('agent/a1')!.value).toBe('idle');
    await h.rt.shutdown({ drain: false });
  });

  it('(a) switches once and re-runs the chat when the two reports arrive while its call on A is still streaming (it returns only later)', async () => {
    // The seed's exact trigger: the chat's own call hangs on the dead subscription while the
    // failures are reported; the old call ignores its abort signal and returns much later.
    const stream = gate();
    const h = harness({ work: (_chat, sub) => (sub === 'A' ? stream.promise : Promise.resolve()) });
    const running = h.chat('agent/a1', { id: 'c1' });
    await flushMicrotasks();
    h.report('agent/a1', 0, 'chat: 429');
    h.report('agent/a1', 0, 'scheduled task: 429');
    await h.idle();
    stream.open();
    await h.idle();

    expect(h.restarts.map((r) => r.sub)).toEqual(['B']);
    expect(h.switched().map((e) => `${e.from}→${e.to}@${e.epoch}`)).toEqual(['A→B@1']);
    expect(h.records.filter((r) => r.type === 'lifecycle.crashed')).toEqual([]);
    expect(h.calls).toEqual(['c1@A', 'c1@B']);
    expect(outcomes([running])).toEqual(via('B', 'c1'));
    await h.rt.shutdown({ drain: false });
  });

  it('(a) switches once when a chat fails with a 429 and a report of the same epoch arrives during the restart', async () => {
    const restart = gate();
    const h = harness({ restart: () => restart.promise });
    const failing = h.chat('agent/a1', { id: 'c1', quotaOn: 'A' });
    await flushMicrotasks();
    expect(h.rt.snapshot('agent/a1')!.value).toEqual({ restarting: 'attempt' });
    h.report('agent/a1', 0, 'scheduled task: 429');
    restart.open();
    await h.idle();
    expect(h.restarts.map((r) => r.sub)).toEqual(['B']);
    expect(h.switched().map((e) => [`${e.from}→${e.to}`, e.reason])).toEqual([['A→B', 'request failed on subscription']]);
    expect(h.emitted().filter((e) => e.type === 'failure.stale')).toEqual([{ type: 'failure.stale', epoch: 0, current: 1, address: 'agent/a1' }]);
    expect(outcomes([failing])).toEqual(via('B', 'c1'));
    await h.rt.shutdown({ drain: false });
  });

  it('(a) keeps its epoch across a supervisor restart: a stale report that arrives after a machine crash does not switch again', async () => {
    // Any machine error (here a classifier that throws on an odd error) restarts the actor.
    // The restarted agent must not come back on the subscription it left, at epoch 0, where a
    // late report about A would switch and restart it a second time.
    const clock = new SimulatedClock();
    const restarts: string[] = [];
    const calls: string[] = [];
    const machine = agentMachine<Chat & { odd?: boolean }, string>({
      subscriptions: [{ id: 'A' }, { id: 'B' }, { id: 'C' }],
      now: () => clock.now(),
      handle: async (chat, { subscription }) => {
        calls.push(`${chat.id}@${subscription.id}`);
        if (chat.odd) throw new Error('odd');
        return `${chat.id} via ${subscription.id}`;
      },
      isSubscriptionFailure: (error) => {
        if ((error as Error).message === 'odd') throw new TypeError('classifier bug');
        return false;
      },
      restart: async (s) => {
        restarts.push(s.id);
      },
    });
    // restartInput: what must survive a supervisor restart (agentKind() sets it for you).
    const rt = createRuntime({
      clock,
      random: () => 0.5,
      kinds: { agent: { machine, cancelEvent: 'cancel', mailbox: { control: ['subscription.failed'] }, supervision: { restartInput: agentRestartInput } } },
    });
    const ref = rt.ref('agent/a1');
    ref.tell({ type: 'subscription.failed', epoch: 0, reason: 'chat: 429' });
    await clock.runAll();
    const crashed = track('odd', ref.ask({ type: 'request', input: { id: 'odd', odd: true } }));
    await clock.runAll();
    expect(crashed.outcome).toEqual({ ok: false, code: 'INTERLOCK_ACTOR_CRASHED' });

    // After the restart, work must still go to B, and a late report about A must be stale.
    const after = track('after', ref.ask({ type: 'request', input: { id: 'after' } }));
    await clock.runAll();
    ref.tell({ type: 'subscription.failed', epoch: 0, reason: 'scheduled task: 429 (late)' });
    await clock.runAll();
    expect(outcomes([after])).toEqual(via('B', 'after'));
    expect(calls).toEqual(['odd@B', 'after@B']);
    expect(restarts).toEqual(['B']);
    expect(rt.snapshot('agent/a1')!.context).toMatchObject({ epoch: 1, current: 1 });
    await rt.shutdown({ drain: false });
  });

  it('(b) does not cascade A → B → C: with three subscriptions, two failures of one epoch leave the agent on B', async () => {
    const h = harness({ subscriptions: ['A', 'B', 'C'] });
    h.report('agent/a1', 0, 'chat: 429');
    h.report('agent/a1', 0, 'scheduled task: 429');
    await h.idle();
    expect(currentOf(h, 'agent/a1')).toBe('B');
    expect(epochOf(h, 'agent/a1')).toBe(1);
    expect(h.restarts.map((r) => r.sub)).toEqual(['B']);
    expect(h.switched().map((e) => `${e.from}→${e.to}`)).toEqual(['A→B']);
    expect(h.emitted().filter((e) => e.type === 'failure.stale')).toHaveLength(1);
    expect(Object.keys(h.rt.snapshot('agent/a1')!.context.cooldowns as object)).toEqual(['A']);
    // Work goes to B; C was never assigned, restarted or used.
    const c1 = h.chat('agent/a1', { id: 'c1' });
    await h.idle();
    expect(outcomes([c1])).toEqual(via('B', 'c1'));
    expect([...h.calls, ...h.restarts.map((r) => r.sub)].filter((x) => x.endsWith('C'))).toEqual([]);
    await h.rt.shutdown({ drain: false });
  });

  it('(b) still switches, once, on a genuine failure of the new subscription: the guard is the epoch, not a lock held forever', async () => {
    const h = harness({ subscriptions: ['A', 'B', 'C'] });
    h.report('agent/a1', 0, 'A: 429');
    await h.idle();
    h.report('agent/a1', 1, 'B: 402');
    h.report('agent/a1', 0, 'a late report about A');
    h.report('agent/a1', 1, 'B: 402 again');
    await h.idle();
    expect(h.switched().map((e) => `${e.from}→${e.to}@${e.epoch}`)).toEqual(['A→B@1', 'B→C@2']);
    expect(h.emitted().filter((e) => e.type === 'failure.stale').map((e) => (e as { epoch: number }).epoch)).toEqual([0, 1]);
    expect(h.restarts.map((r) => r.sub)).toEqual(['B', 'C']);
    expect(h.rt.stats({ address: 'agent/a1' }).addresses[0]).toMatchObject({ depth: 0, postponed: 0 });
    await h.rt.shutdown({ drain: false });
  });

  it('(c) switches two agents that fail at once independently: one slow restart does not hold up the other', async () => {
    const slow = gate();
    // The first restart to start hangs until released; the second completes at once.
    const h = harness({ restart: (n) => (n === 0 ? slow.promise : Promise.resolve()) });
    h.report('agent/a1', 0, 'chat: 429');
    h.report('agent/a2', 0, 'chat: 429');
    h.report('agent/a1', 0, 'scheduled task: 429');
    h.report('agent/a2', 0, 'scheduled task: 429');
    await h.clock.tick(10);

    expect(h.restarts.map((r) => r.sub)).toEqual(['B', 'B']);
    expect({ a1: h.rt.snapshot('agent/a1')!.value, a2: h.rt.snapshot('agent/a2')!.value }).toEqual({ a1: { restarting: 'attempt' }, a2: 'idle' });
    // a2 serves while a1 is still restarting.
    const x2 = h.chat('agent/a2', { id: 'x2' });
    await h.clock.tick(10);
    expect(outcomes([x2])).toEqual(via('B', 'x2'));
    expect(h.rt.snapshot('agent/a1')!.value).toEqual({ restarting: 'attempt' });
    slow.open();
    await h.clock.tick(10);
    const x1 = h.chat('agent/a1', { id: 'x1' });
    await h.idle();
    expect(outcomes([x1])).toEqual(via('B', 'x1'));

    for (const address of ['agent/a1', 'agent/a2']) {
      expect(h.switched(address).map((e) => `${e.from}→${e.to}@${e.epoch}`)).toEqual(['A→B@1']);
      expect(h.emitted(address).filter((e) => e.type === 'failure.stale')).toHaveLength(1);
      expect(epochOf(h, address)).toBe(1);
    }
    await h.rt.shutdown({ drain: false });
  });

  it('(c) tells restart() which agent it is restarting, so two agents of one kind restart their own backends', async () => {
    // The seed restarts `agent_name`'s container. Agents of one kind share one machine, so
    // restart() must learn the agent from its context, as handle() can from `self`.
    const seen: unknown[] = [];
    const clock = new SimulatedClock();
    const machine = agentMachine<Chat, string>({
      subscriptions: [{ id: 'A' }, { id: 'B' }],
      now: () => clock.now(),
      handle: async (chat, { subscription }) => `${chat.id} via ${subscription.id}`,
      restart: async (_subscription, ctx) => {
        const c = ctx as { address?: string; self?: { id?: string } };
        seen.push(c.address ?? c.self?.id);
      },
    });
    const rt = createRuntime({ clock, kinds: { agent: { machine, cancelEvent: 'cancel', mailbox: { control: ['subscription.failed'] } } } });
    rt.tell('agent/a1', { type: 'subscription.failed', epoch: 0 });
    rt.tell('agent/a2', { type: 'subscription.failed', epoch: 0 });
    await clock.runAll();
    expect(seen.sort()).toEqual(['agent/a1', 'agent/a2']);
    await rt.shutdown({ drain: false });
  });

});

describe('seed 004: requests around a switch', () => {
  it('(d) postpones chats that arrive during the restart and runs them after it, in order, on the new subscription', async () => {
    const restart = gate();
    const h = harness({ restart: () => restart.promise });
    h.report('agent/a1', 0, 'chat: 429');
    await h.clock.tick(0);
    expect(h.rt.snapshot('agent/a1')!.value).toEqual({ restarting: 'attempt' });
    const chats = ['d1', 'd2', 'd3'].map((id) => h.chat('agent/a1', { id }));
    await h.clock.tick(RESTART_TIMEOUT_MS / 2);
    // Waiting, not failed, not run against a backend that is restarting; visible in the stats.
    expect(h.calls).toEqual([]);
    expect(h.rt.stats({ address: 'agent/a1' }).addresses[0]).toMatchObject({ postponed: 3, depth: 3 });
    restart.open();
    await h.idle();
    expect(outcomes(chats)).toEqual(via('B', 'd1', 'd2', 'd3'));
    expect(h.calls).toEqual(['d1@B', 'd2@B', 'd3@B']);
    expect(h.restarts.map((r) => r.sub)).toEqual(['B']);
    await h.rt.shutdown({ drain: false });
  });

  it('(d) runs a chat that arrived during the restart after the seed\'s two failure reports, on the new subscription', async () => {
    const restart = gate();
    const h = harness({ restart: () => restart.promise });
    h.report('agent/a1', 0, 'chat: 429');
    h.report('agent/a1', 0, 'scheduled task: 429');
    await h.clock.tick(0);
    const chat = h.chat('agent/a1', { id: 'd1' });
    await h.clock.tick(RESTART_TIMEOUT_MS / 2);
    expect(h.calls).toEqual([]);
    restart.open();
    await h.idle();
    expect(h.emitted().filter((e) => e.type === 'failure.stale')).toHaveLength(1);
    expect(outcomes([chat])).toEqual(via('B', 'd1'));
    expect(h.calls).toEqual(['d1@B']);
    expect(h.rt.stats({ address: 'agent/a1' }).addresses[0]).toMatchObject({ depth: 0, postponed: 0 });
    await h.rt.shutdown({ drain: false });
  });

  it("(e) switches once when a chat's own work fails with a 429, re-runs it once on the new subscription and answers it", async () => {
    const h = harness({ subscriptions: ['A', 'B', 'C'] });
    const failing = h.chat('agent/a1', { id: 'e1', quotaOn: 'A' });
    const behind = h.chat('agent/a1', { id: 'e2', quotaOn: 'A' });
    await h.idle();
    expect(outcomes([failing, behind])).toEqual(via('B', 'e1', 'e2'));
    expect(h.calls).toEqual(['e1@A', 'e1@B', 'e2@B']);
    expect(h.switched().map((e) => [`${e.from}→${e.to}`, e.reason])).toEqual([['A→B', 'request failed on subscription']]);
    expect(h.restarts.map((r) => r.sub)).toEqual(['B']);

    // A failure that is not about the subscription (a 500) answers the chat with it, and switches nothing.
    const broken = h.chat('agent/a1', { id: 'e3', brokenOn: 'B' });
    const fine = h.chat('agent/a1', { id: 'e4' });
    await h.idle();
    expect(outcomes([broken, fine])).toEqual({ e3: { ok: false, code: 'INTERLOCK_TURN_FAILED' }, ...via('B', 'e4') });
    expect(h.switched()).toHaveLength(1);
    await h.rt.shutdown({ drain: false });
  });

  it('(f) retries a failing, then hanging restart with backoff, then fails and rejects every queued chat with INTERLOCK_AGENT_UNAVAILABLE', async () => {
    const h = harness({
      // Attempt 1 fails outright; attempts 2 and 3 hang past the restart deadline; after a reset it works.
      restart: (n, _sub, signal) =>
        n === 0
          ? Promise.reject(new Error('container did not start'))
          : n <= 2
            ? new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
            : Promise.resolve(),
    });
    const t0 = h.clock.now();
    const inflight = h.chat('agent/a1', { id: 'f0', quotaOn: 'A' });
    await flushMicrotasks();
    const queued = ['f1', 'f2', 'f3'].map((id) => h.chat('agent/a1', { id }));
    await h.idle();

    // Backoff: attempt 2 after 100 ms; attempt 3 after attempt 2's 1 s deadline plus 200 ms.
    expect(h.restarts.map((r) => [r.sub, r.at - t0])).toEqual([
      ['B', 0],
      ['B', BACKOFF_MS],
      ['B', BACKOFF_MS + RESTART_TIMEOUT_MS + 2 * BACKOFF_MS],
    ]);
    // The hung attempts were told to stop when their deadline passed.
    expect(h.restarts.map((r) => r.signal.aborted)).toEqual([false, true, true]);
    expect(h.emitted().filter((e) => e.type === 'restart.failed').map((e) => (e as { error: string }).error)).toEqual([
      'container did not start',
      'timed out',
      'timed out',
    ]);
    expect(h.emitted().filter((e) => e.type === 'agent.failed')).toEqual([{ type: 'agent.failed', reason: 'backend restart failed', address: 'agent/a1' }]);
    expect(h.rt.snapshot('agent/a1')!.value).toBe('failed');

    // Nothing dropped silently: the interrupted chat and every queued one end with the code, and so does a new one.
    const unavailable = { ok: false, code: 'INTERLOCK_AGENT_UNAVAILABLE' };
    const late = h.chat('agent/a1', { id: 'f4' });
    await h.idle();
    expect(outcomes([inflight, ...queued, late])).toEqual({ f0: unavailable, f1: unavailable, f2: unavailable, f3: unavailable, f4: unavailable });
    expect(h.calls).toEqual(['f0@A']);
    const stats = h.rt.stats({ address: 'agent/a1' }).addresses[0]!;
    expect(stats).toMatchObject({ depth: 0, inFlight: 0, enqueued: 5, delivered: 5, rejected: 0, replied: 5 });

    // An operator's reset restarts it (on B) and it serves again.
    h.rt.tell('agent/a1', { type: 'reset' });
    await h.idle();
    const again = h.chat('agent/a1', { id: 'f5' });
    await h.idle();
    expect(h.restarts.map((r) => r.sub)).toEqual(['B', 'B', 'B', 'B']);
    expect(outcomes([again])).toEqual(via('B', 'f5'));
    expect(h.switched()).toHaveLength(1);
    await h.rt.shutdown({ drain: false });
  });
});

describe('seed 004: any interleaving (fast-check scheduler)', () => {
  it('switches at most once per epoch and loses no request, however two failure reports, chats, their calls and the restart interleave', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom(2, 3),
        fc.array(fc.record({ quota: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        async (s, subscriptions, chatSpecs) => {
          const clock = new SimulatedClock();
          const violations: string[] = [];
          const log: string[] = [];
          const calls: string[] = [];
          const restarts: string[] = [];
          let restarting = 0;
          let switchedAt = -1;
          const machine = agentMachine<Chat, string>({
            subscriptions: ['A', 'B', 'C'].slice(0, subscriptions).map((id) => ({ id })),
            now: () => clock.now(),
            restartTimeoutMs: RESTART_TIMEOUT_MS,
            restartBackoffMs: BACKOFF_MS,
            handle: async (chat, { subscription }) => {
              const sub = subscription.id;
              calls.push(`${chat.id}@${sub}`);
              log.push(`call ${chat.id}@${sub}`);
              if (restarting > 0) violations.push(`${chat.id} ran on ${sub} while the backend was restarting`);
              if (switchedAt >= 0 && sub === 'A') violations.push(`${chat.id} ran on A after the switch`);
              await s.schedule(Promise.resolve(), `${chat.id}@${sub} returns`);
              if (chat.quotaOn === sub) throw quota429(sub);
              return `${chat.id} via ${sub}`;
            },
            restart: async (subscription) => {
              restarts.push(subscription.id);
              restarting++;
              log.push(`restart ${subscription.id}`);
              try {
                await s.schedule(Promise.resolve(), `restart ${subscription.id} done`);
              } finally {
                restarting--;
              }
            },
          });
          const rt = createRuntime({ clock, random: () => 0.5, kinds: { agent: { machine, mailbox: { control: ['subscription.failed'] }, cancelEvent: 'cancel' } } });
          const switched: Array<{ epoch: number }> = [];
          rt.events$.subscribe((r) => {
            if (r.type !== 'emitted') return;
            const e = (r.data as { event: AgentEmitted }).event;
            log.push(e.type);
            if (e.type === 'subscription.switched') {
              switched.push(e);
              switchedAt = log.length;
            }
          });
          const chats: Tracked[] = [];
          // The callers: two failure reports about epoch 0 and the chats, each sent when the scheduler says.
          for (const [i, reason] of ['chat: 429', 'scheduled task: 429'].entries()) {
            s.schedule(Promise.resolve(), `report ${i}`).then(() => {
              log.push(`report ${i}`);
              rt.tell('agent/a1', { type: 'subscription.failed', epoch: 0, reason });
            });
          }
          chatSpecs.forEach((spec, i) => {
            const chat: Chat = { id: `c${i}`, ...(spec.quota ? { quotaOn: 'A' } : {}) };
            s.schedule(Promise.resolve(), `send ${chat.id}${spec.quota ? ' (429 on A)' : ''}`).then(() => {
              log.push(`send ${chat.id}`);
              chats.push(track(chat.id, rt.ask('agent/a1', { type: 'request', input: chat })));
            });
          });

          // Quiescence: the scheduler drained and no timer left.
          for (let step = 0; step < 200; step++) {
            await s.waitAll();
            await flushMicrotasks();
            if (s.count() > 0) continue;
            const at = clock.nextAt();
            if (at === undefined) break;
            await clock.tick(at - clock.now());
          }

          const why = `\n${log.join('\n')}`;
          // At most one switch per epoch; every failure here is about A, so exactly one, to B, one restart.
          expect(switched.map((e) => e.epoch), why).toEqual([1]);
          expect(restarts, why).toEqual(['B']);
          expect(violations, why).toEqual([]);
          expect(rt.snapshot('agent/a1')!.context.epoch, why).toBe(1);
          // No request lost: every chat answered, from the subscription its last call ran on.
          expect(chats.length).toBe(chatSpecs.length);
          for (const chat of chats) {
            const last = calls.filter((c) => c.startsWith(`${chat.id}@`)).at(-1);
            expect(chat.outcome, `${chat.id}${why}`).toEqual({ ok: true, value: `${chat.id} via ${last?.split('@')[1]}` });
          }
          expect(rt.stats({ address: 'agent/a1' }).addresses[0], why).toMatchObject({ depth: 0, inFlight: 0 });
          expect(neverRestarted(rt), why).toBe(true);
          await rt.shutdown({ drain: false });
          await s.waitAll();
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 200), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
  });
});

/** The agent never crashed (a crash restarts it fresh, at epoch 0, which would hide a double switch). */
function neverRestarted(rt: { stats(): { kinds: Array<{ restarts: number; failures: number }> } }): boolean {
  const k = rt.stats().kinds[0]!;
  return k.restarts === 0 && k.failures === 0;
}
