/**
 * The Interlock the benchmarks measure. By default: an esbuild bundle of src/index.ts
 * that `run.ts` writes to bench/.build/ with the options of esbuild.mjs (the code
 * `npm run build` ships). `BENCH_TARGET=src` uses src/ through tsx instead.
 *
 * Machines and runtime must come from the same module instance (the turn helpers find
 * their activation through a module-level registry), so the machines that use helpers
 * are built per instance (see machines.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as Src from '../src/index.js';

export type Api = typeof Src;

const bundleFile = './.build/index.js';
export const target: 'bundle' | 'src' = process.env.BENCH_TARGET === 'src' ? 'src' : 'bundle';
if (target === 'bundle' && !existsSync(fileURLToPath(new URL(bundleFile, import.meta.url)))) {
  throw new Error('bench/.build/index.js is missing: run `npm run bench` (it builds it) or set BENCH_TARGET=src');
}

/** src/ through tsx: always loaded, for the bundle-vs-tsx comparison rows. */
export const srcApi: Api = await import('../src/index.js');
/** What the benchmarks measure. */
export const api: Api = target === 'bundle' ? ((await import(bundleFile)) as Api) : srcApi;

export const { createRuntime } = api;
export type { Runtime } from '../src/index.js';
