/**
 * `npm run bench`: builds the Interlock bundle, runs every suite in its own child process
 * (the tell suite twice, for repeatability), and writes docs/BENCHMARKS.md.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { probeEnv } from './env.js';
import type { SuiteResult } from './harness.js';
import { coresBusy, cpuSample, waitForQuiet } from './load.js';
import { render, type RunInfo, type SuiteLoad } from './report.js';

const t0 = Date.now();

// `--render`: rewrite docs/BENCHMARKS.md from the last run's results (after a change to report.ts), measuring nothing.
if (process.argv.includes('--render')) {
  const last = JSON.parse(readFileSync(fileURLToPath(new URL('./.results/last-run.json', import.meta.url)), 'utf8')) as RunInfo;
  writeFileSync('docs/BENCHMARKS.md', render(last));
  process.stderr.write('re-rendered docs/BENCHMARKS.md from bench/.results/last-run.json\n');
  process.exit(0);
}
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const target: 'bundle' | 'src' = process.env.BENCH_TARGET === 'src' ? 'src' : 'bundle';

// The bundle is what `npm run build` ships (esbuild.mjs options), rebuilt from src/ now.
if (target === 'bundle') {
  await build({
    entryPoints: ['src/index.ts'],
    outfile: here('./.build/index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

const loads: SuiteLoad[] = [];
let waitedMs = 0;
const WAIT_BUDGET_MS = 90_000;

async function runSuite(name: string, label = name): Promise<SuiteResult> {
  process.stderr.write(`\n== ${label}\n`);
  const w0 = Date.now();
  const quietBefore = await waitForQuiet(0.15, Math.max(0, Math.min(30_000, WAIT_BUDGET_MS - waitedMs)));
  waitedMs += Date.now() - w0;
  const s0 = cpuSample();
  const result = await forkSuite(name);
  const s1 = cpuSample();
  const spanMs = s0 && s1 ? s1.at - s0.at : NaN;
  const ownCores = result.cpuMs / spanMs;
  loads.push({ suite: label, wallMs: result.wallMs, quietBefore, ownCores, otherCores: s0 && s1 ? coresBusy(s0, s1) - ownCores : NaN });
  return result;
}

function forkSuite(name: string): Promise<SuiteResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = fork(here('./child.ts'), [name], {
      execArgv: process.execArgv,
      env: { ...process.env, BENCH_TARGET: target },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: SuiteResult | undefined;
    child.on('message', (m) => (result = m as SuiteResult));
    child.on('error', reject);
    child.on('exit', (code) => {
      process.stderr.write(`== ${name} done in ${((Date.now() - started) / 1e3).toFixed(1)} s\n`);
      if (result) resolve(result);
      else reject(new Error(`suite ${name} exited with code ${code} without a result`));
    });
  });
}

const env = probeEnv();
const suites: SuiteResult[] = [];
for (const name of ['tell', 'ask', 'backlog', 'heap', 'gateway', 'stream', 'inspect', 'inspector', 'fanout']) suites.push(await runSuite(name));
const tellRepeat = await runSuite('tell', 'tell (repeat)');

const lifecycle = process.env.npm_lifecycle_script;
const info: RunInfo = {
  command: lifecycle ? `npm run bench` + ` (${lifecycle})` : `node ${process.execArgv.join(' ')} bench/run.ts`,
  wallMs: Date.now() - t0,
  target,
  env,
  suites,
  tellRepeat,
  loads,
  waitedMs,
  srcHashEnd: probeEnv().srcHash,
};
mkdirSync(here('./.results'), { recursive: true });
writeFileSync(here('./.results/last-run.json'), JSON.stringify(info, null, 2));
mkdirSync('docs', { recursive: true });
writeFileSync('docs/BENCHMARKS.md', render(info));
process.stderr.write(`\nwrote docs/BENCHMARKS.md (and bench/.results/last-run.json) in ${((Date.now() - t0) / 60_000).toFixed(1)} min\n`);
