/**
 * The worker refuses bad options with a message naming the fix, shows the item it is
 * working on, hands the item's own error to its caller, and carries its counters.
 */
import { describe, expect, it } from 'vitest';
import { workerMachine, workerRestartInput, type WorkerOptions } from '../../machines/index.js';
import { createRuntime, SimulatedClock } from '../../src/index.js';

const refusal = (options: Partial<WorkerOptions>) => {
  try {
    workerMachine(options as WorkerOptions);
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  return 'accepted';
};

describe('workerMachine options', () => {
  it.each<[string, Partial<WorkerOptions>, string]>([
    ['stallAfterMs 0', { process: async () => 1, stallAfterMs: 0 }, '`stallAfterMs` must be a positive number, got 0'],
    ['stallAfterMs as a string', { process: async () => 1, stallAfterMs: '5' as never }, '`stallAfterMs` must be a positive number, got 5'],
    ['no process', {}, '`process` must be a function (item, ctx) => Promise'],
  ])('refuses %s with INTERLOCK_INVALID_CONFIG naming the option', (_, options, why) => {
    expect(refusal(options)).toEqual({ code: 'INTERLOCK_INVALID_CONFIG', message: `Invalid workerMachine options: ${why}.` });
  });

  it('accepts a process and the default stall deadline', () => {
    expect(refusal({ process: async () => 1 })).toBe('accepted');
  });
});

describe('worker at work', () => {
  it("shows the name of the item it is working on, and gives the caller the item's own error", async () => {
    const clock = new SimulatedClock();
    let finish!: (v: string) => void;
    const machine = workerMachine<string, string>({
      process: (item) => (item === 'bad' ? Promise.reject(new Error('bad item: no header')) : new Promise<string>((r) => (finish = r))),
    });
    const rt = createRuntime({ clock, kinds: { worker: { machine } } });
    const ref = rt.ref('worker/w1');
    const answer = ref.ask({ type: 'item', item: 'a', name: 'a.txt' });
    await clock.tick(0);
    expect(ref.snapshot()!.value).toBe('working');
    expect(ref.snapshot()!.context.current).toBe('a.txt');
    finish('done');
    expect(await answer).toBe('done');
    expect(ref.snapshot()!.context).toEqual({ processed: 1, failed: 0, current: undefined });
    const failed = await ref.ask({ type: 'item', item: 'bad', name: 'b.txt' }).catch((e: unknown) => e as Error);
    expect(String(failed)).toContain('bad item: no header');
    expect(ref.snapshot()!.context).toEqual({ processed: 1, failed: 1, current: undefined });
    await rt.shutdown();
  });
});

describe('workerRestartInput', () => {
  it('counts the item in progress as failed only when the worker was working', () => {
    const context = { processed: 2, failed: 1, current: undefined };
    expect(workerRestartInput({ value: 'idle', context })).toEqual({ processed: 2, failed: 1 });
    expect(workerRestartInput({ value: 'working', context: { ...context, current: 'x' } })).toEqual({ processed: 2, failed: 2 });
  });
});
