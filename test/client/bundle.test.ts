/**
 * The browser side of `interlock/client` holds nothing a browser lacks: the self-contained
 * bundle esbuild.mjs writes (dist/browser/interlock-client.js) and the `browser` condition's
 * entry (src/client/browser.ts, published with RxJS external) import neither `ws` nor any
 * Node built-in. Built here with esbuild.mjs's own options, into a temp dir.
 */
import { build, type Metafile } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error esbuild.mjs is plain JavaScript without declarations
import { browserClientBuild } from '../../esbuild.mjs';

const dir = mkdtempSync(join(tmpdir(), 'interlock-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NODE_BUILTIN = /^(node:|fs$|path$|os$|http$|https$|net$|tls$|stream$|crypto$|events$|url$|zlib$|buffer$|child_process$)/;

function importsOf(meta: Metafile): string[] {
  return Object.values(meta.outputs).flatMap((o) => o.imports.map((i) => i.path));
}

describe('browser bundle', () => {
  it('is self-contained ESM: RxJS inside, no ws, no Node built-in, no require', async () => {
    const result = await build({ ...browserClientBuild, outdir: dir, logLevel: 'silent', metafile: true });
    expect(result.errors).toEqual([]);
    const meta = result.metafile!;
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((f) => f.includes('node_modules/rxjs/'))).toBe(true);
    expect(inputs.filter((f) => f.includes('node_modules/ws/') || NODE_BUILTIN.test(f))).toEqual([]);
    expect(importsOf(meta).filter((p) => !p.endsWith('.map'))).toEqual([]);
    const code = readFileSync(join(dir, 'interlock-client.js'), 'utf8');
    expect(code).not.toMatch(/\brequire\(|from\s*["']ws["']|import\(\s*["']ws["']|["']node:/);
    expect(code).toMatch(/export\s*\{[^}]*\bconnect\b/);
  });

  it("keeps the 'browser' entry free of ws and Node built-ins when packages stay external", async () => {
    const result = await build({
      entryPoints: ['src/client/browser.ts'],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    expect(importsOf(result.metafile).sort()).toEqual(['rxjs']);
  });

  it('loads ws only in the Node entry, lazily (a dynamic import)', async () => {
    const result = await build({ entryPoints: ['src/client/index.ts'], bundle: true, write: false, platform: 'node', format: 'esm', packages: 'external', metafile: true, logLevel: 'silent' });
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
    expect(imports.filter((i) => i.path === 'ws')).toEqual([{ path: 'ws', kind: 'dynamic-import', external: true }]);
  });
});
