/**
 * Smoke test of the inspector benchmark (bench/inspector.ts): runs it once in quick mode
 * (1,000 actors, 1 repetition) in a child process, as `npm run bench` would, and checks
 * that its row was produced, passed its own correctness check (the filter narrowed the
 * list to the right count) and holds finite positive numbers, and that its section
 * renders. Asserts no timing: the numbers themselves are meaningless here.
 */
import { describe, expect, it } from 'vitest';
import { runSuiteQuick } from './quick.js';
import { inspectorSection } from '../../bench/inspector-report.js';

describe('bench: inspector suite (quick mode)', () => {
  it('measures first render and filtering of the actor list in Chromium, each validated', async () => {
    const result = await runSuiteQuick('inspector');
    expect(result.suite).toBe('inspector');
    expect(result.rows.map((r) => `${r.id} ${r.metric}`)).toEqual(['inspector 1,000 actors firstRender', 'inspector 1,000 actors filter', 'inspector 1,000 actors filterApplied']);
    for (const row of result.rows) {
      expect(row.error, row.id).toBeUndefined();
      expect(row.n, row.id).toBe(1);
      expect(Number.isFinite(row.median) && row.median > 0, `${row.id} ${row.metric}`).toBe(true);
    }
    const text = inspectorSection(result).lines.join('\n');
    expect(text).toContain('## 8. inspector page');
    expect(text).not.toContain('FAILED');
  }, 100_000);
});
