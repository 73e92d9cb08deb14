/**
 * The Interlock the stream suite measures: the runtime *and* the bundled session machine,
 * from one module instance (the machine's turn helpers find their activation through a
 * module-level registry, so a session machine from src/ would not work in the bundle's
 * runtime).
 *
 * By default: an esbuild bundle of `src/index.ts` + `machines/index.ts` with the options
 * of esbuild.mjs (ESM, node20, dependencies external, shared code split into chunks so
 * both entries share one runtime), written to bench/.build/stream/ when first needed by
 * this process. `BENCH_TARGET=src` uses src/ and machines/ through tsx instead.
 */
import { fileURLToPath } from 'node:url';
import type * as Src from '../src/index.js';
import type * as Machines from '../machines/index.js';

export interface StreamApi {
  createRuntime: typeof Src.createRuntime;
  simulated: typeof Src.simulated;
  openAICompatible: typeof Src.openAICompatible;
  sessionMachine: typeof Machines.sessionMachine;
  /** What was loaded, for logs. */
  from: string;
}

export const streamTarget: 'bundle' | 'src' = process.env.BENCH_TARGET === 'src' ? 'src' : 'bundle';

let loading: Promise<StreamApi> | undefined;

/** Loads (building the bundle first, once per process) the Interlock this suite measures. */
export function streamApi(): Promise<StreamApi> {
  return (loading ??= load());
}

async function load(): Promise<StreamApi> {
  if (streamTarget === 'src') {
    const src = await import('../src/index.js');
    const machines = await import('../machines/index.js');
    return { createRuntime: src.createRuntime, simulated: src.simulated, openAICompatible: src.openAICompatible, sessionMachine: machines.sessionMachine, from: 'src/ + machines/ through tsx' };
  }
  const { build } = await import('esbuild');
  const outdir = fileURLToPath(new URL('./.build/stream/', import.meta.url));
  // @ts-expect-error esbuild.mjs is plain JavaScript without declarations
  const { nodeLibraryBuild } = await import('../esbuild.mjs');
  await build({ ...nodeLibraryBuild, entryPoints: ['src/index.ts', 'machines/index.ts'], outdir, logLevel: 'warning' });
  const src = (await import(new URL('./.build/stream/src/index.js', import.meta.url).href)) as typeof Src;
  const machines = (await import(new URL('./.build/stream/machines/index.js', import.meta.url).href)) as typeof Machines;
  return { createRuntime: src.createRuntime, simulated: src.simulated, openAICompatible: src.openAICompatible, sessionMachine: machines.sessionMachine, from: 'bundle of src/index.ts + machines/index.ts (bench/.build/stream/)' };
}
