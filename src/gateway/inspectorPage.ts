/**
 * `GET /inspector/` (and its `app.js`, `app.css`): the live inspector page. The files are
 * static and hold no data, so they are served without the bearer token (a browser cannot
 * send one when it opens a URL); everything the page then asks for (actors, machines,
 * mailboxes, the WebSocket) needs it. A Content-Security-Policy lets the page reach its own
 * origin only: no CDN, no external font, nothing but this server's URLs.
 *
 * Where the files come from: the published package ships them built (dist/inspector/, by
 * esbuild.mjs); a clone running the TypeScript sources (`npx interlock serve`, the tests)
 * builds them in memory with esbuild on the first request, so they are never stale.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError } from './httpErrors.js';

type Asset = { body: Buffer; type: string };
type Assets = Map<string, Asset>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export const INSPECTOR_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

let loading: Promise<Assets> | undefined;

/** The page's files: built from inspector/ when running from sources, else read from dist/inspector/. */
export function inspectorAssets(): Promise<Assets> {
  // Stryker disable next-line BlockStatement: the retry after a failed load (esbuild missing from a clone, dist/ not built) cannot be reached from a test without breaking the install; `??=` itself is pinned (another operator serves nothing)
  loading ??= load().catch((err: unknown) => {
    loading = undefined; // a later request tries again (e.g. after `npm run build`)
    throw err;
  });
  return loading;
}

async function load(): Promise<Assets> {
  const here = fileURLToPath(import.meta.url);
  // Stryker disable all: which branch runs depends on how this module was loaded: tests (and mutation runs) load the
  // sources, so only the first; the built package's branch is checked in CI by scripts/consumer-check.mjs, which
  // installs the packed tarball and fetches /inspector/ from it (a mutant of src/ never reaches dist/ anyway)
  if (here.endsWith('.ts')) {
    // Running from the sources: build in memory. The specifier is computed so that esbuild,
    // bundling dist/, leaves the builder (and esbuild itself) out of the published code.
    const builder = join(dirname(here), '..', '..', 'inspector', 'build.mjs');
    const { buildInspector } = (await import(pathToFileURL(builder).href)) as { buildInspector(esbuild: unknown): Promise<Assets> };
    const esbuild = 'esbuild';
    return buildInspector(await import(esbuild));
  }
  // The built package: dist/inspector/ is found by walking up from this (bundled) module.
  for (let dir = dirname(here), i = 0; i < 5; i++, dir = dirname(dir)) {
    const at = join(dir, 'inspector');
    if (existsSync(join(at, 'app.js')) && existsSync(join(at, 'index.html'))) {
      const files: Assets = new Map();
      for (const name of await readdir(at)) {
        const type = TYPES[extname(name)];
        if (type !== undefined) files.set(name, { body: await readFile(join(at, name)), type });
      }
      return files;
    }
  }
  throw new Error('inspector page not built: dist/inspector/ is missing (run `npm run build`)');
}

// Stryker restore all

/** Registers the page's routes on the gateway (route config `page: true`: no bearer token needed). */
export function inspectorRoutes(app: FastifyInstance): void {
  const config = { page: true };
  // `/inspector` → `/inspector/` (query kept), so the page's relative URLs resolve under any prefix.
  app.get('/inspector', { config }, async (request, reply) => {
    const [path, query] = splitUrl(request.url);
    return reply.redirect(`${path}/${query}`, 302);
  });
  const send = async (name: string, reply: FastifyReply) => {
    const asset = (await inspectorAssets()).get(name);
    if (!asset) throw new GatewayError('INTERLOCK_NOT_FOUND', `No inspector file '${name.slice(0, 100)}'. The page is at /inspector/.`);
    return reply
      .type(asset.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', INSPECTOR_CSP)
      .header('referrer-policy', 'no-referrer')
      .send(asset.body);
  };
  app.get('/inspector/', { config }, async (_request, reply) => send('index.html', reply));
  app.get<{ Params: { file: string } }>('/inspector/:file', { config }, async (request, reply) => send(request.params.file, reply));
}

function splitUrl(url: string): [string, string] {
  const q = url.indexOf('?');
  // Stryker disable next-line EqualityOperator: the URL starts with /inspector, so q is never 0 (`q <= 0` is the same test)
  return q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q)];
}
