// Builds the library to dist/ (ESM, one file per public entry, dependencies external) and
// its .d.ts with tsc (stripInternal drops @internal members from the published types),
// plus the browser bundle of the client (dist/browser/interlock-client.js: RxJS inside, no
// `ws`, nothing from Node), which test/client/bundle.test.ts builds and checks too, and
// the inspector page (dist/inspector/: self-contained, see inspector/build.mjs).
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { buildInspector } from './inspector/build.mjs';

const { build } = esbuild;

/** `interlock/client` for a `<script type="module">` with no bundler: self-contained ESM. */
export const browserClientBuild = {
  entryPoints: { 'interlock-client': 'src/client/browser.ts' },
  outdir: 'dist/browser',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'info',
};

/** The Node library's build (the package's `dist/`; the stream bench builds its bundle with the same options). */
export const nodeLibraryBuild = {
  outbase: '.',
  bundle: true,
  // Shared modules become chunks, so 'interlock' and 'interlock/machines' share one runtime.
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
};

async function main() {
  const entries = ['src/index.ts', 'machines/index.ts', 'src/client/index.ts', 'src/client/browser.ts', 'src/gateway/index.ts', 'src/cli/main.ts'].filter((f) => existsSync(f));
  rmSync('dist', { recursive: true, force: true });
  await build({ ...nodeLibraryBuild, entryPoints: entries, outdir: 'dist', sourcemap: true, logLevel: 'info' });
  await build(browserClientBuild);
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  mkdirSync('dist/inspector', { recursive: true });
  for (const [name, file] of await buildInspector(esbuild)) writeFileSync(`dist/inspector/${name}`, file.body);
  console.log(`built ${entries.join(', ')}, dist/browser/interlock-client.js, dist/inspector/ -> dist/`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
