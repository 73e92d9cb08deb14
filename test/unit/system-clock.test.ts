import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/index.js';

const clockModule = fileURLToPath(new URL('../../src/clock.ts', import.meta.url));

/** Runs `code` (an ES module importing the clock as `clock`) in a child Node process. */
function runChild(code: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const source = `import { systemClock as clock } from ${JSON.stringify(clockModule)};\n${code}`;
  return new Promise((resolve) => {
    // The timeout only ends a child that would otherwise hang: the test fails on its exit status, not on time.
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({
        code: err ? ((err as { code?: number | null }).code ?? null) : 0,
        signal: err ? ((err as { signal?: string | null }).signal ?? null) : null,
        stdout,
        stderr,
      }),
    );
  });
}

describe('the system clock (systemClock)', () => {
  const realSetTimeout = globalThis.setTimeout;
  afterEach(() => {
    globalThis.setTimeout = realSetTimeout;
  });

  it('reads the wall clock in milliseconds (records carry wall time)', () => {
    const before = Date.now();
    const now = systemClock.now();
    const after = Date.now();
    expect(typeof now).toBe('number');
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(after);
  });

  it('ref\'s work timers (also when no role is given) and unref\'s guard timers', () => {
    const handles = {
      default: systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout,
      work: systemClock.setTimeout(() => {}, 60_000, 'work') as NodeJS.Timeout,
      guard: systemClock.setTimeout(() => {}, 60_000, 'guard') as NodeJS.Timeout,
    };
    const refs = Object.fromEntries(Object.entries(handles).map(([role, t]) => [role, t.hasRef()]));
    for (const t of Object.values(handles)) systemClock.clearTimeout(t);
    expect(refs).toEqual({ default: true, work: true, guard: false });
  });

  it('fires a timer, and a cleared one never fires', async () => {
    const fired: string[] = [];
    const cleared = systemClock.setTimeout(() => fired.push('cleared'), 0, 'guard');
    // Node runs timers of one duration in the order they were set: 'cleared' would fire before 'kept'.
    const kept = new Promise<void>((resolve) => systemClock.setTimeout(() => resolve(void fired.push('kept')), 0));
    systemClock.clearTimeout(cleared);
    await kept;
    expect(fired).toEqual(['kept']);
  });

  it('schedules a guard timer where setTimeout answers a number, as in a browser (the client runs there)', () => {
    const calls: number[] = [];
    globalThis.setTimeout = ((_fn: () => void, ms: number) => (calls.push(ms), 7)) as unknown as typeof setTimeout;
    const handle = systemClock.setTimeout(() => {}, 250, 'guard');
    globalThis.setTimeout = realSetTimeout;
    expect({ handle, calls }).toEqual({ handle: 7, calls: [250] });
  });

  it('lets a process whose only pending timer is a guard exit, and keeps one with a work timer alive until it fires', async () => {
    const result = await runChild(`
      clock.setTimeout(() => console.log('guard fired'), 600_000, 'guard');
      clock.setTimeout(() => console.log('work fired'), 10, 'work');
      process.on('exit', () => console.log('exit'));
    `);
    expect(result).toEqual({ code: 0, signal: null, stdout: 'work fired\nexit\n', stderr: '' });
  });
});
