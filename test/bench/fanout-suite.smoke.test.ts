/**
 * Smoke test of the fan-out benchmark suite (bench/fanout.ts): runs it once in quick mode
 * (1 and 10 subscribers, a few thousand deliveries, 1 repetition) in a child process, as
 * `npm run bench` would, and checks that every row was produced, passed its own
 * correctness checks (exact message counts; resume in order, gapless) and holds finite,
 * positive numbers, and that its section renders. Asserts no timing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SuiteResult } from '../../bench/harness.js';

const run = promisify(execFile);

describe('bench: fan-out suite (quick mode)', () => {
  it('produces every row, each validated, with finite positive numbers, and renders its section', async () => {
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/child.ts', 'fanout'], {
      env: { ...process.env, BENCH_QUICK: '1', BENCH_TARGET: 'src', BENCH_ONLY: '' },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 120_000,
    });
    const result = JSON.parse(stdout) as SuiteResult;
    expect(result.suite).toBe('fanout');
    const ids = [...new Set(result.rows.map((r) => r.id))];
    expect(ids).toEqual([
      'fanout 1 subscriber/raw ws',
      'fanout 1 subscriber/interlock, one frame per record',
      'fanout 1 subscriber/interlock, batched frames',
      'fanout 10 subscribers/raw ws',
      'fanout 10 subscribers/interlock, one frame per record',
      'fanout 10 subscribers/interlock, batched frames',
      'resume 100 missed records/one frame per record',
      'resume 100 missed records/batched frames',
    ]);
    for (const row of result.rows) {
      expect(row.error, row.id).toBeUndefined();
      expect(row.n, row.id).toBe(1);
      expect(Number.isFinite(row.median) && row.median > 0, `${row.id} ${row.metric}`).toBe(true);
    }
    process.env.BENCH_TARGET = 'src';
    process.env.BENCH_QUICK = '1';
    const { fanoutSection } = await import('../../bench/fanout-report.js');
    const { verdicts, lines } = fanoutSection(result);
    expect(lines.join('\n')).toContain('## 9. fan-out over the WebSocket');
    expect(lines.join('\n')).not.toContain('FAILED');
    expect(verdicts).toHaveLength(3);
    expect(verdicts.every((v) => v.ok !== undefined)).toBe(true);
  }, 150_000);
});
