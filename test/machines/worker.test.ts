import { describe, expect, it } from 'vitest';
import { workerKind, workerMachine, type WorkerContext, type WorkerEvent, type WorkerInternalEvent } from '../../machines/index.js';
import { createRuntime, runTask, SimulatedClock } from '../../src/index.js';

describe('worker machine', () => {
  it('keeps its processed and failed counters across a stall restart (workerKind), counting the stalled item as failed', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({
      clock,
      random: () => 0.5,
      kinds: {
        worker: workerKind<string, string>(
          {
            stallAfterMs: 1_000,
            process: async (item) => {
              if (item === 'bad') throw new Error('bad item');
              if (item === 'stall') return new Promise<string>(() => {});
              return item.toUpperCase();
            },
          },
          { supervision: { backoff: { initialMs: 10, jitter: 0 } } },
        ),
      },
    });
    const ref = rt.ref('worker/w1');
    expect(await ref.ask({ type: 'item', item: 'a' })).toBe('A');
    expect(await ref.ask({ type: 'item', item: 'b' })).toBe('B');
    await expect(ref.ask({ type: 'item', item: 'bad' })).rejects.toMatchObject({ code: 'INTERLOCK_TURN_FAILED' });
    const stalled = ref.ask({ type: 'item', item: 'stall' }).catch((e: unknown) => e);
    const after = ref.ask({ type: 'item', item: 'c' });
    await clock.runAll();
    expect(await stalled).toMatchObject({ code: 'INTERLOCK_ACTOR_STALLED' });
    expect(await after).toBe('C');
    expect(ref.snapshot()!.context).toEqual({ processed: 3, failed: 2, current: undefined });
    await rt.shutdown();
  });

  it('refuses a bad stallAfterMs with INTERLOCK_INVALID_CONFIG', () => {
    expect(() => workerMachine({ process: async () => 1, stallAfterMs: 0 })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }));
  });
});

describe('machine event unions', () => {
  it("types runTask's outcomes against the machine's internal events: a typo does not compile, a public type is not an outcome", () => {
    const ok = runTask<WorkerContext, WorkerEvent | WorkerInternalEvent, string>(async () => 'x', {
      done: (output) => ({ type: '@item.done', output }),
      error: (error) => ({ type: '@item.error', error }),
    });
    runTask<WorkerContext, WorkerEvent | WorkerInternalEvent, string>(async () => 'x', {
      // @ts-expect-error a typo in an outcome type
      done: (output) => ({ type: '@item.dnoe', output }),
      // @ts-expect-error a public event is not a task outcome
      error: () => ({ type: 'item', item: 1 }),
    });
    // @ts-expect-error callers cannot send an internal event: it is not in the public union
    const forged: WorkerEvent = { type: '@item.done', output: 'x' };
    expect(typeof ok).toBe('function');
    expect(forged).toBeDefined();
  });
});
