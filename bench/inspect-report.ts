/** Section 7 of docs/BENCHMARKS.md (the inspect suite, issue 11), with its verdict. */
import type { SuiteResult } from './harness.js';
import { INSPECT_MODES, inspectManyId, inspectOneId } from './inspect.js';
import { find, ratio, table, verdict, x2, type Verdict } from './report.js';

/** `inspect: 'watched'` that nobody watches must be as fast as no inspection at all, within noise. */
export const INSPECT_IDLE_MIN_RATIO = 0.9;

export function inspectSection(suite: SuiteResult | undefined): { verdicts: Verdict[]; lines: string[] } {
  if (!suite) return { verdicts: [{ target: 'inspection (issue 11)', measured: 'the inspect suite did not run', ok: undefined }], lines: [] };
  const rows = suite.rows;
  const verdicts: Verdict[] = [];
  const lines = [
    '## 7. inspection overhead',
    '',
    "`tell` throughput on the toggle machine of section 1, into one actor and round-robin over many: with nobody inspecting; on a runtime created with `inspect: 'watched'` (what `interlock serve` runs) that nobody watches; and with an inspector attached (`runtime.inspect()` subscribed, so every macrostep becomes a `transition` record, built and delivered).",
    '',
    table(rows),
    '',
  ];
  for (const [name, id] of [
    ['1 actor', inspectOneId],
    ['round-robin', inspectManyId],
  ] as const) {
    const off = find(rows, id(INSPECT_MODES[0]!));
    const idle = ratio(find(rows, id(INSPECT_MODES[1]!)), off, (a, b) => a / b);
    const attached = ratio(find(rows, id(INSPECT_MODES[2]!)), off, (a, b) => a / b);
    const ok = idle ? idle.value >= INSPECT_IDLE_MIN_RATIO : undefined;
    lines.push(`- ${name}: watched-but-unwatched / off ${x2(idle)} (target ≥ ${INSPECT_IDLE_MIN_RATIO}×: ${verdict(ok)}); inspector attached / off ${x2(attached)}.`);
    verdicts.push({ target: `inspection, ${name}: nobody watching costs nothing (throughput ≥ ${INSPECT_IDLE_MIN_RATIO}× of no inspection)`, measured: x2(idle), ok });
  }
  lines.push('');
  return { verdicts, lines };
}
