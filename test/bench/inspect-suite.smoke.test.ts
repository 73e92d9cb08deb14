/**
 * Smoke test of the inspect benchmark suite (bench/inspect.ts): runs it once in quick mode
 * (tiny sizes, 1 repetition) in a child process, as `npm run bench` would, and checks every
 * row was produced, passed its own checks (a transition record per event with an inspector
 * attached, none without) and holds a finite positive number. Asserts no timing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SuiteResult } from '../../bench/harness.js';

const run = promisify(execFile);

describe('bench: inspect suite (quick mode)', () => {
  it('produces every row, each validated, and renders section 7', async () => {
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/child.ts', 'inspect'], {
      env: { ...process.env, BENCH_QUICK: '1', BENCH_TARGET: 'src', BENCH_ONLY: '' },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 90_000,
    });
    const result = JSON.parse(stdout) as SuiteResult;
    expect(result.suite).toBe('inspect');
    expect(result.rows.map((r) => r.id)).toEqual([
      'inspect tell/1 actor/nobody inspecting',
      "inspect tell/1 actor/inspect: 'watched', nobody watching",
      'inspect tell/1 actor/inspector attached',
      'inspect tell/100 actors round-robin/nobody inspecting',
      "inspect tell/100 actors round-robin/inspect: 'watched', nobody watching",
      'inspect tell/100 actors round-robin/inspector attached',
    ]);
    for (const row of result.rows) {
      expect(row.error, row.id).toBeUndefined();
      expect(row.n, row.id).toBe(1);
      expect(Number.isFinite(row.median) && row.median > 0, row.id).toBe(true);
    }
    process.env.BENCH_TARGET = 'src';
    const { inspectSection } = await import('../../bench/inspect-report.js');
    const { verdicts, lines } = inspectSection(result);
    expect(lines.join('\n')).toContain('## 7. inspection overhead');
    expect(lines.join('\n')).not.toContain('FAILED');
    expect(verdicts).toHaveLength(2);
  }, 90_000);
});
