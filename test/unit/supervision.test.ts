import fc from 'fast-check';
import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, heartbeat, reply, runTask, SimulatedClock } from '../../src/index.js';
import { backoffDelay, RestartBudget } from '../../src/supervisor/backoff.js';
import { gate, newLog, record, workMachine } from './fixtures.js';
import { peek, rejected, settled, track } from '../helpers/outcome.js';
import { fcParams } from '../helpers/scenario.js';

const seeded = () => 0.5; // jitter midpoint: delays equal the base

describe('supervisor', () => {
  it('gives the in-flight ask the crash, keeps queued envelopes, and restarts after the backoff', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({
      clock,
      random: seeded,
      kinds: { w: { machine: workMachine(log), supervision: { backoff: { initialMs: 100 } } } },
    });
    const bus = record(rt.events$);
    const ref = rt.ref('w/1');
    const boom = ref.ask({ type: 'work', id: 'A', throwInAction: true }).catch((e: unknown) => e);
    const next = ref.ask({ type: 'work', id: 'B' });
    expect(await settled(boom)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED', address: 'w/1' });
    expect(rt.stats().addresses[0]).toMatchObject({ status: 'restarting', depth: 1 });
    await clock.tick(99);
    expect(log.events).toEqual(['start:A']);
    await clock.tick(1);
    expect(await settled(next)).toBe('done:B');
    expect(bus.types('w/1').filter((t) => t.startsWith('lifecycle'))).toEqual([
      'lifecycle.activated',
      'lifecycle.crashed',
      'lifecycle.restarted',
    ]);
    await rt.shutdown();
  });

  it('fails the actor when the restart budget is spent, rejecting queued and new envelopes with ActorFailed', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({
      clock,
      random: seeded,
      kinds: { w: { machine: workMachine(log), supervision: { maxRestarts: 2, windowMs: 10_000, backoff: { initialMs: 10 } } } },
    });
    const ref = rt.ref('w/1');
    const outcomes = ['A', 'B', 'C'].map((id) => ref.ask({ type: 'work', id, throwInAction: true }).catch((e: unknown) => e));
    const queued = ref.ask({ type: 'work', id: 'D' }).catch((e: unknown) => e);
    await clock.runAll();
    const codes = (await settled(Promise.all([...outcomes, queued]))).map((e) => (e as { code: string }).code);
    expect(codes).toEqual(['INTERLOCK_ACTOR_CRASHED', 'INTERLOCK_ACTOR_CRASHED', 'INTERLOCK_ACTOR_CRASHED', 'INTERLOCK_ACTOR_FAILED']);
    expect(() => ref.tell({ type: 'note', text: 'x' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_ACTOR_FAILED' }));
    expect(rt.revive('w/1')).toBe(true);
    expect(await settled(ref.ask({ type: 'work', id: 'E' }))).toBe('done:E');
    await rt.shutdown();
  });

  it('grows the backoff exponentially, caps it, and spreads it with jitter', () => {
    const policy = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.2 };
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 0.5))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelay(policy, 1, () => 0)).toBe(160);
    expect(backoffDelay(policy, 1, () => 0.999999)).toBeCloseTo(240, 3);
  });

  it('treats a stall (no progress past meta.stallAfterMs) like a crash and delivers the queue after restart', async () => {
    const clock = new SimulatedClock();
    const machine = setup({
      types: {} as { context: { done: string[] }; events: { type: 'job'; id: string; hang?: boolean } | { type: '@finished'; id: string } },
    }).createMachine({
      context: { done: [] },
      initial: 'idle',
      states: {
        idle: { on: { job: 'working' } },
        working: {
          meta: { stallAfterMs: 5_000 },
          entry: runTask(({ event }) => (event as { hang?: boolean }).hang ? new Promise<string>(() => {}) : Promise.resolve((event as { id: string }).id), {
            done: (id) => ({ type: '@finished', id: id as string }),
            error: () => ({ type: '@finished', id: 'error' }),
          }),
          on: { '@finished': { target: 'idle', actions: [assign({ done: ({ context, event }) => [...context.done, event.id] }), reply(({ event }) => event.id)] } },
        },
      },
    });
    const rt = createRuntime({ clock, random: seeded, kinds: { worker: { machine, supervision: { backoff: { initialMs: 1_000 } } } } });
    const bus = record(rt.events$);
    const ref = rt.ref('worker/1');
    const stuck = ref.ask({ type: 'job', id: 'x', hang: true }).catch((e: unknown) => e);
    const after = ref.ask({ type: 'job', id: 'y' });
    await clock.tick(4_999);
    expect(bus.of('lifecycle.stalled')).toHaveLength(0);
    await clock.tick(1);
    expect(await settled(stuck)).toMatchObject({ code: 'INTERLOCK_ACTOR_STALLED', details: { state: 'working', stallAfterMs: 5_000 } });
    expect(bus.of('lifecycle.stalled')).toHaveLength(1);
    await clock.tick(1_000);
    expect(await settled(after)).toBe('y');
    expect(rt.stats().kinds[0]).toMatchObject({ stalls: 1, restarts: 1 });
    await rt.shutdown();
  });

  it('does not stall a turn that heartbeats, and stalls it exactly stallAfterMs after its last heartbeat', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'job' } | { type: 'beat' } | { type: 'end' } } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { job: 'working' } },
        working: { meta: { stallAfterMs: 1_000 }, on: { beat: { actions: heartbeat() }, end: { target: 'idle', actions: reply('ok') } } },
      },
    });
    const rt = createRuntime({ clock, random: seeded, kinds: { worker: { machine } } });
    const bus = record(rt.events$);
    const ref = rt.ref('worker/1');
    const job = track(ref.ask({ type: 'job' }));
    for (let i = 0; i < 10; i++) {
      await clock.tick(900);
      ref.tell({ type: 'beat' });
    }
    // A last heartbeat out of step with the stall timer's period: the timer must count
    // the remainder after it, not a whole new period from whenever it last fired.
    await clock.tick(450);
    ref.tell({ type: 'beat' });
    await clock.tick(999);
    expect(bus.of('lifecycle.stalled')).toHaveLength(0);
    expect(peek(job)).toEqual({ status: 'pending' });
    await clock.tick(1);
    expect(bus.of('lifecycle.stalled').map((r) => [r.ts, r.data])).toEqual([
      [10_450, expect.objectContaining({ state: 'working', stallAfterMs: 1_000 })],
    ]);
    expect(await rejected(job)).toMatchObject({ code: 'INTERLOCK_ACTOR_STALLED' });
    await rt.shutdown();
  });

  it('counts the stall from the last heartbeat (the remainder), not a whole period from when the timer last fired', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'job' } | { type: 'beat' } } }).createMachine({
      initial: 'idle',
      states: { idle: { on: { job: 'working' } }, working: { meta: { stallAfterMs: 1_000 }, on: { beat: { actions: heartbeat() } } } },
    });
    const rt = createRuntime({ clock, random: seeded, kinds: { worker: { machine } } });
    const bus = record(rt.events$);
    rt.tell('worker/1', { type: 'job' });
    await clock.tick(300);
    rt.tell('worker/1', { type: 'beat' });
    await clock.tick(999);
    expect(bus.of('lifecycle.stalled')).toHaveLength(0);
    await clock.tick(1);
    expect(bus.of('lifecycle.stalled').map((r) => r.ts)).toEqual([1_300]);
    await rt.shutdown();
  });

  for (const [outer, inner] of [
    [5_000, 1_000],
    [1_000, 5_000],
  ] as const) {
    it(`uses the smallest meta.stallAfterMs of nested states, and names the state by its whole value (parent ${outer} ms, child ${inner} ms)`, async () => {
      const clock = new SimulatedClock();
      const machine = setup({ types: {} as { events: { type: 'job' } } }).createMachine({
        initial: 'idle',
        states: {
          idle: { on: { job: 'working' } },
          working: { meta: { stallAfterMs: outer }, initial: 'step', states: { step: { meta: { stallAfterMs: inner } } } },
        },
      });
      const rt = createRuntime({ clock, random: seeded, kinds: { worker: { machine } } });
      const bus = record(rt.events$);
      rt.tell('worker/1', { type: 'job' });
      await clock.tick(999);
      expect(bus.of('lifecycle.stalled')).toHaveLength(0);
      await clock.tick(1);
      // A nested state is named by its whole value, as JSON.
      expect(bus.of('lifecycle.stalled').map((r) => [r.ts, r.data])).toEqual([[1_000, expect.objectContaining({ state: '{"working":"step"}', stallAfterMs: 1_000 })]]);
      await rt.shutdown();
    });
  }

  it('ignores a meta.stallAfterMs of 0 or a non-number (no watch there): the parent\'s 1,000 ms applies, and a state with only those never stalls', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'job' } | { type: 'rest' } | { type: 'odd' } } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { job: 'working', rest: 'resting', odd: 'odd' } },
        odd: { meta: { stallAfterMs: '500' } },
        working: { meta: { stallAfterMs: 1_000 }, initial: 'step', states: { step: { meta: { stallAfterMs: 0 } } } },
        resting: { meta: { stallAfterMs: 0 } },
      },
    });
    const rt = createRuntime({ clock, random: seeded, kinds: { worker: { machine } } });
    const bus = record(rt.events$);
    rt.tell('worker/1', { type: 'job' });
    rt.tell('worker/2', { type: 'rest' });
    rt.tell('worker/3', { type: 'odd' });
    await clock.tick(999);
    expect(bus.of('lifecycle.stalled')).toHaveLength(0);
    await clock.tick(1);
    expect(bus.of('lifecycle.stalled').map((r) => [r.address, r.ts])).toEqual([['worker/1', 1_000]]);
    await clock.tick(10_000);
    expect(bus.of('lifecycle.stalled').filter((r) => r.address !== 'worker/1')).toHaveLength(0);
    await rt.shutdown();
  });

  it('starts a revived actor with a fresh restart budget', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({
      clock,
      random: seeded,
      kinds: { w: { machine: workMachine(log), supervision: { maxRestarts: 2, windowMs: 60_000, backoff: { initialMs: 10 } } } },
    });
    const bus = record(rt.events$);
    const ref = rt.ref('w/1');
    const crash = (id: string) => track(ref.ask({ type: 'work', id, throwInAction: true }));
    for (const id of ['A', 'B', 'C']) {
      expect(await rejected(crash(id), clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
      await clock.tick(100);
    }
    expect(rt.stats().addresses[0]!.status).toBe('failed');
    expect(rt.revive('w/1')).toBe(true);
    // Still inside the window: a spent budget would fail the actor at this crash.
    expect(await rejected(crash('D'), clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
    expect(rt.stats().addresses[0]!.status).toBe('restarting');
    await clock.tick(9);
    expect(rt.stats().addresses[0]!.status).toBe('restarting');
    await clock.tick(1); // attempt 0 of the fresh budget: the initial 10 ms backoff
    expect(rt.stats().addresses[0]!.status).toBe('running');
    expect(bus.types('w/1').filter((t) => t.startsWith('lifecycle'))).toEqual([
      'lifecycle.activated',
      'lifecycle.crashed',
      'lifecycle.restarted',
      'lifecycle.crashed',
      'lifecycle.restarted',
      'lifecycle.crashed',
      'lifecycle.failed',
      'lifecycle.revived',
      'lifecycle.crashed',
      'lifecycle.restarted',
    ]);
    await rt.shutdown();
  });
});

describe('restart budget', () => {
  it('admits at most max restarts within any window and forgets a restart exactly windowMs later', () => {
    const budget = new RestartBudget(2, 1_000);
    expect([budget.admit(0), budget.admit(100), budget.admit(200), budget.admit(999)]).toEqual([0, 1, -1, -1]);
    expect(budget.admit(1_000)).toBe(1); // the restart at 0 left the window; the one at 100 is still in it
    expect(budget.admit(1_050)).toBe(-1);
    budget.reset();
    expect(budget.admit(1_060)).toBe(0);
  });
});

describe('backoff', () => {
  it('never lets jitter push a delay above maxMs, nor below zero', () => {
    const policy = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.2 };
    // Attempt 4 is capped at 1,000 ms; the upper jitter would make it 1,199.6 ms.
    expect(backoffDelay(policy, 4, () => 0.999)).toBe(1_000);
    expect(backoffDelay(policy, 4, () => 0)).toBe(800);
    expect(backoffDelay({ ...policy, jitter: 1 }, 0, () => 0)).toBe(0);
  });

  it('keeps every delay within [base × (1 − jitter), min(maxMs, base × (1 + jitter))]', () => {
    fc.assert(
      fc.property(
        fc.record({
          initialMs: fc.integer({ min: 0, max: 1_000 }),
          extraMs: fc.integer({ min: 0, max: 20_000 }),
          factor: fc.double({ min: 1, max: 4, noNaN: true }),
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        fc.nat(12),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        ({ initialMs, extraMs, factor, jitter }, attempt, r) => {
          const policy = { initialMs, maxMs: initialMs + extraMs, factor, jitter };
          const base = Math.min(policy.maxMs, initialMs * factor ** attempt);
          const d = backoffDelay(policy, attempt, () => r);
          expect(d).toBeLessThanOrEqual(policy.maxMs);
          expect(d).toBeGreaterThanOrEqual(Math.max(0, base * (1 - jitter)) - 1e-9);
          expect(d).toBeLessThanOrEqual(base * (1 + jitter) + 1e-9);
        },
      ),
      fcParams(),
    );
  });
});

describe('async work (runTask)', () => {
  it('holds the actor for the whole turn: 20 concurrent asks never overlap and each gets its own answer', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log) } } });
    const ref = rt.ref('w/1');
    const gates = Array.from({ length: 20 }, () => gate());
    const answers = gates.map((g, i) => ref.ask({ type: 'work', id: String(i), gate: g.promise }));
    // Open the gates in reverse: order of completion of work must not reorder turns.
    for (const g of [...gates].reverse()) g.open();
    expect(await settled(Promise.all(answers))).toEqual(gates.map((_, i) => `done:${i}`));
    expect(log.maxActive).toBe(1);
    await rt.shutdown();
  });

  it('aborts the task signal when the actor restarts and drops its late result', async () => {
    const clock = new SimulatedClock();
    let seenSignal: AbortSignal | undefined;
    const late = gate();
    const machine = setup({ types: {} as { events: { type: 'go' } | { type: '@result'; v: string } | { type: 'explode' } } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { go: 'busy' } },
        busy: {
          entry: runTask(
            async ({ signal }) => {
              seenSignal = signal;
              await settled(late.promise);
              return 'late';
            },
            { done: (v) => ({ type: '@result', v: v as string }), error: () => ({ type: '@result', v: 'err' }) },
          ),
          on: {
            '@result': { target: 'idle', actions: reply(({ event }) => event.v) },
            explode: { actions: () => { throw new Error('kaboom'); } },
          },
        },
      },
    });
    const rt = createRuntime({ clock, random: seeded, kinds: { m: { machine, supervision: { backoff: { initialMs: 10 } } } } });
    const bus = record(rt.events$);
    const ref = rt.ref('m/1');
    const first = ref.ask({ type: 'go' }).catch((e: unknown) => e);
    await flushMicrotasks();
    ref.tell({ type: 'explode' });
    expect(await settled(first)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
    expect(seenSignal?.aborted).toBe(true);
    await clock.tick(10);
    late.open();
    await flushMicrotasks();
    expect(ref.snapshot()!.value).toBe('idle');
    expect(bus.of('task.settled').map((r) => r.data)).toEqual([{ task: 'task-1', requestId: expect.any(String), ok: true, fenced: true, dropped: 0 }]);
    await rt.shutdown();
  });
});
