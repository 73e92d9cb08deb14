/** Section 8 of docs/BENCHMARKS.md: the inspector page with 10,000 live actors (issue 11). */
import { fmt, type Row, type SuiteResult } from './harness.js';

export function inspectorSection(result: SuiteResult | undefined): { lines: string[] } {
  const rows: Row[] = result?.rows ?? [];
  if (rows.length === 0) return { lines: [] };
  const lines = [
    '## 8. inspector page',
    '',
    'The inspector page (`/inspector/`) in Debian\'s Chromium (headless, playwright-core) against the gateway on a real socket, every actor live. ' +
      '*First render*: navigation start → the actor list shows every actor (list fetched, first sample applied, virtualised list painted). ' +
      '*Apply a filter*: the text filter\'s `input` event → the next animation frame, the list narrowed to the matching tenth. Not asserted in any test.',
    '',
    '| case | metric | median | min | max | n |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.id} | ${r.label || r.metric} | ${r.error ? `FAILED: ${r.error}` : `${fmt(r.median)} ${r.unit}`} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.n} |`),
    '',
    '- Run only this suite: `node --expose-gc --import tsx bench/child.ts inspector` (JSON to stdout); `BENCH_QUICK=1` for 1,000 actors and one repetition (test/bench/inspector-suite.smoke.test.ts runs it).',
    '',
  ];
  return { lines };
}
