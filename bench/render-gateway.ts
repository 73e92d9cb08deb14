/**
 * Renders section 5 (gateway) of docs/BENCHMARKS.md from one gateway suite result
 * (`node --expose-gc --import tsx bench/child.ts gateway > result.json`), for when the
 * gateway suite was run on its own: `node --import tsx bench/render-gateway.ts result.json`.
 * `npm run bench` renders the same section as part of the whole page.
 */
import { readFileSync } from 'node:fs';
import type { SuiteResult } from './harness.js';
import { table } from './report.js';
import { renderGateway } from './report-gateway.js';

const result = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SuiteResult;
const { lines, verdicts } = renderGateway(result.rows, table);
const verdict = (ok: boolean | undefined) => (ok === undefined ? '**not measured**' : ok ? '**met**' : '**missed**');
process.stdout.write(
  [...lines, '| target | measured | verdict |', '|---|---|---|', ...verdicts.map((v) => `| ${v.target} | ${v.measured} | ${verdict(v.ok)} |`), ''].join('\n'),
);
