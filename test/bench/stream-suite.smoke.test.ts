/**
 * Smoke test of the stream benchmark suite (bench/streaming.ts): runs it once in quick mode
 * (tiny sizes, short windows, 1 repetition) in a child process, as `npm run bench` would,
 * and checks that every row was produced, passed its own correctness checks and holds
 * finite, positive numbers. Asserts no timing: the numbers themselves are meaningless here.
 */
import { describe, expect, it } from 'vitest';
import { runSuiteQuick } from './quick.js';

describe('bench: stream suite (quick mode)', () => {
  it('produces every row, each validated, with finite positive numbers, and renders its section', async () => {
    const result = await runSuiteQuick('stream');
    expect(result.suite).toBe('stream');
    const ids = new Set(result.rows.map((r) => r.id.split('/')[0]));
    expect([...ids]).toEqual(
      expect.arrayContaining([
        'stream per-token CPU 40 sessions',
        'stream capacity, sessions at 50 tokens per second',
        'stream openAICompatible 5 streams',
        'stream memory idle after one 250-token reply',
        'stream memory streaming',
        'stream cancel 40 streams at once',
      ]),
    );
    expect(result.rows.length).toBeGreaterThanOrEqual(20);
    for (const row of result.rows) {
      expect(row.error, row.id).toBeUndefined();
      expect(row.n, row.id).toBe(1);
      expect(Number.isFinite(row.median), `${row.id} ${row.metric}`).toBe(true);
      // A capacity of 0 (not even the smallest size sustained) is a possible result on a busy machine.
      if (row.metric === 'capacity') expect(row.median, row.id).toBeGreaterThanOrEqual(0);
      else expect(row.median, `${row.id} ${row.metric}`).toBeGreaterThan(0);
    }
    // The report imports every suite's module; measure-nothing mode: src/ through tsx, no bundle needed.
    process.env.BENCH_TARGET = 'src';
    const { streamSection } = await import('../../bench/streaming-report.js');
    const { verdicts, lines } = streamSection(result);
    expect(lines.join('\n')).toContain('## 6. streaming at scale');
    expect(lines.join('\n')).not.toContain('FAILED');
    expect(verdicts).toHaveLength(6);
  }, 90_000);
});
