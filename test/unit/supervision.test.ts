import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, heartbeat, reply, runTask, SimulatedClock } from '../../src/index.js';
import { backoffDelay } from '../../src/supervisor/backoff.js';
import { gate, newLog, record, workMachine } from './fixtures.js';
import { settled } from '../helpers/outcome.js';

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
      types: {} as { context: { done: string[] }; events: { type: 'job'; id: string; hang?: boolean } | { type: 'finished'; id: string } },
    }).createMachine({
      context: { done: [] },
      initial: 'idle',
      states: {
        idle: { on: { job: 'working' } },
        working: {
          meta: { stallAfterMs: 5_000 },
          entry: runTask(({ event }) => (event as { hang?: boolean }).hang ? new Promise<string>(() => {}) : Promise.resolve((event as { id: string }).id), {
            done: (id) => ({ type: 'finished', id: id as string }),
            error: () => ({ type: 'finished', id: 'error' }),
          }),
          on: { finished: { target: 'idle', actions: [assign({ done: ({ context, event }) => [...context.done, event.id] }), reply(({ event }) => event.id)] } },
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

  it('does not treat a long turn that heartbeats as stalled', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'job' } | { type: 'beat' } | { type: 'end' } } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { job: 'working' } },
        working: { meta: { stallAfterMs: 1_000 }, on: { beat: { actions: heartbeat() }, end: { target: 'idle', actions: reply('ok') } } },
      },
    });
    const rt = createRuntime({ clock, kinds: { worker: { machine } } });
    const bus = record(rt.events$);
    const ref = rt.ref('worker/1');
    const job = ref.ask({ type: 'job' });
    for (let i = 0; i < 10; i++) {
      await clock.tick(900);
      ref.tell({ type: 'beat' });
    }
    ref.tell({ type: 'end' });
    expect(await settled(job)).toBe('ok');
    expect(bus.of('lifecycle.stalled')).toHaveLength(0);
    await rt.shutdown();
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
    const machine = setup({ types: {} as { events: { type: 'go' } | { type: 'result'; v: string } | { type: 'explode' } } }).createMachine({
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
            { done: (v) => ({ type: 'result', v: v as string }), error: () => ({ type: 'result', v: 'err' }) },
          ),
          on: {
            result: { target: 'idle', actions: reply(({ event }) => event.v) },
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
