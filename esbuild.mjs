// Builds the library to dist/ (ESM, one file per public entry, dependencies external) and
// its .d.ts with tsc (stripInternal drops @internal members from the published types), and
// the inspector page to dist/inspector/ (one self-contained bundle, see inspector/build.mjs).
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { buildInspector } from './inspector/build.mjs';

const { build } = esbuild;

const entries = ['src/index.ts', 'machines/index.ts', 'src/client/index.ts', 'src/gateway/index.ts', 'src/cli/main.ts'].filter((f) => existsSync(f));
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: entries,
  outdir: 'dist',
  outbase: '.',
  bundle: true,
  // Shared modules become chunks, so 'interlock' and 'interlock/machines' share one runtime.
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'info',
});
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
mkdirSync('dist/inspector', { recursive: true });
for (const [name, file] of await buildInspector(esbuild)) writeFileSync(`dist/inspector/${name}`, file.body);
console.log('built inspector/ -> dist/inspector/');
console.log(`built ${entries.join(', ')} -> dist/`);
