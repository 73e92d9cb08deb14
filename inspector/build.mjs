// The inspector page's bundle: inspector/src/main.ts (with elkjs, rxjs and interlock/client
// inside: nothing is loaded from elsewhere) → app.js (+ chunk-*.js), app.css, index.html. Used by
// esbuild.mjs (to dist/inspector/) and, when the gateway runs from the TypeScript sources,
// by src/gateway/inspectorAssets.ts (in memory, on the first request).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** @returns {import('esbuild').BuildOptions} */
export function inspectorBuildOptions() {
  return {
    entryPoints: { app: `${here}src/main.ts` },
    bundle: true,
    // ELK (most of the code) goes to its own chunk, loaded when the first chart is drawn.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'browser',
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    sourcemap: false,
    // elkjs's bundle is EPL-2.0 OR GPL-3.0: keep its licence comment in the output.
    legalComments: 'eof',
    logLevel: 'warning',
    tsconfig: `${here}tsconfig.json`,
  };
}

/**
 * Builds the page in memory. @param {typeof import('esbuild')} esbuild
 * @returns {Promise<Map<string, { body: Buffer, type: string }>>} file name → contents
 */
export async function buildInspector(esbuild) {
  const result = await esbuild.build({ ...inspectorBuildOptions(), write: false, outdir: `${here}out` });
  const files = new Map();
  for (const f of result.outputFiles) {
    const name = basename(f.path);
    files.set(name, { body: Buffer.from(f.contents), type: 'text/javascript; charset=utf-8' });
  }
  files.set('app.css', { body: await readFile(`${here}app.css`), type: 'text/css; charset=utf-8' });
  files.set('index.html', { body: await readFile(`${here}index.html`), type: 'text/html; charset=utf-8' });
  return files;
}
