import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { createRuntime, reply, SimulatedClock } from '../../src/index.js';

const script = fileURLToPath(new URL('../fixtures/two-prompts.ts', import.meta.url));

describe('timers that carry work keep the process alive', () => {
  it('runs a script whose only pending work is a simulated stream to completion, exit 0, full text on stdout', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', script], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      `hello there => You said: "hello there". This is Interlock's simulated model answering without a network.`,
      `and again => You said: "and again". This is Interlock's simulated model answering without a network.`,
      'exit clean',
      '',
    ]);
  });

  it("labels an ask's deadline, stall and idle timers as guards and XState's delayed transitions as work", async () => {
    const clock = new SimulatedClock();
    const machine = setup({}).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { go: 'waiting' } },
        waiting: { meta: { stallAfterMs: 5_000 }, after: { 1_000: { target: 'idle', actions: reply('late') } } },
      },
    });
    const rt = createRuntime({ clock, kinds: { k: { machine, idleAfterMs: 60_000 } } });
    const answer = rt.ask('k/1', { type: 'go' }, { timeoutMs: 10_000 });
    await clock.tick(0);
    // deadline + stall + idle are guards; the `after` transition is work.
    expect({ work: clock.pending('work'), guard: clock.pending('guard') }).toEqual({ work: 1, guard: 3 });
    await clock.tick(1_000);
    expect(await answer).toBe('late');
    expect({ work: clock.pending('work'), guard: clock.pending('guard') }).toEqual({ work: 0, guard: 1 });
  });
});
