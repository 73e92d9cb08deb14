/**
 * A real Chromium (the system's /usr/bin/chromium, driven by playwright-core) with a page
 * served from 127.0.0.1 that holds the client's browser bundle at /interlock-client.js.
 * CI installs Chromium with apt; a missing binary fails the test with a message saying so.
 */
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
// @ts-expect-error esbuild.mjs is plain JavaScript without declarations
import { browserClientBuild } from '../../esbuild.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface BrowserPage {
  readonly page: Page;
  /** The page's origin (http://127.0.0.1:port). */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Builds the bundle, serves it with an empty page, and opens that page in a fresh headless
 * Chromium, with the bundle's exports at `globalThis.interlock`.
 */
export async function openBundlePage(): Promise<BrowserPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH.`);
  const dir = mkdtempSync(join(tmpdir(), 'interlock-chromium-'));
  const out = join(dir, 'out');
  await build({ ...browserClientBuild, outdir: out, logLevel: 'silent' });
  const bundle = readFileSync(join(out, 'interlock-client.js'));
  const http: Server = createServer((req, res) => {
    if (req.url === '/interlock-client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>interlock client</title>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  let context: BrowserContext | undefined;
  const cleanup = async () => {
    await context?.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${origin}/`);
    // The bundle's exports as globalThis.interlock (a module script: page functions below
    // cannot use import(), which vitest would rewrite).
    await page.addScriptTag({ type: 'module', content: "import * as m from '/interlock-client.js'; globalThis.interlock = m;" });
    await page.waitForFunction(() => (globalThis as { interlock?: unknown }).interlock !== undefined, undefined, { timeout: 10_000 });
    return { page, origin, close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
