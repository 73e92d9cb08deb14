/** Runs one benchmark suite once in quick mode (BENCH_QUICK=1, src/ through tsx) in a child process, as `npm run bench` would. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SuiteResult } from '../../bench/harness.js';

const run = promisify(execFile);

export async function runSuiteQuick(name: string, timeoutMs = 90_000): Promise<SuiteResult> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/child.ts', name], {
    env: { ...process.env, BENCH_QUICK: '1', BENCH_TARGET: 'src', BENCH_ONLY: '' },
    maxBuffer: 16 * 1024 * 1024,
    timeout: timeoutMs,
  });
  return JSON.parse(stdout) as SuiteResult;
}
