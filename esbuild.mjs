// Builds the library to dist/ (ESM, one file per public entry, dependencies external) and
// its .d.ts with tsc (stripInternal drops @internal members from the published types).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

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
console.log(`built ${entries.join(', ')} -> dist/`);
