/**
 * Runs one suite in this process and hands its rows to the parent (`run.ts`) over IPC, or
 * prints them as JSON when started by hand: `node --expose-gc --import tsx bench/child.ts tell`.
 */
import { runGroup, type Row, type SuiteResult } from './harness.js';
import { SUITES } from './suites.js';

const name = process.argv[2] ?? '';
const suite = SUITES[name];
if (!suite) {
  process.stderr.write(`unknown suite '${name}' (known: ${Object.keys(SUITES).join(', ')})\n`);
  process.exit(2);
}
const t0 = Date.now();
const notes = process.env.BENCH_ONLY ? [] : ((await suite.prepare?.()) ?? []);
for (const n of notes) process.stderr.write(`  ${n}\n`);
// BENCH_ONLY=<regex> keeps only the cases whose id matches (and skips empty groups).
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const rows: Row[] = [];
for (const group of suite.groups()) {
  const cases = only ? group.filter((c) => only.test(c.id)) : group;
  if (cases.length) rows.push(...(await runGroup(cases)));
}
const cpu = process.cpuUsage();
const result: SuiteResult = { suite: name, rows, notes, wallMs: Date.now() - t0, cpuMs: (cpu.user + cpu.system) / 1e3 };
if (process.send) process.send(result, () => process.exit(0));
else {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
