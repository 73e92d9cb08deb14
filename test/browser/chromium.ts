/**
 * Debian's Chromium driven by playwright-core (no browser download: `.ci/run` installs the
 * `chromium` package), headless, with a fresh profile in a temp dir, recording every URL
 * the page asks for so a test can check that nothing leaves the server it was served by.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the page requested (documents, scripts, fetches, WebSockets). */
  readonly requested: string[];
  /** Console errors and uncaught page errors. */
  readonly errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1440, height: 960 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'interlock-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const requested: string[] = [];
  const errors: string[] = [];
  // Interception sees every HTTP request; WebSockets are reported apart.
  await context.route('**', (route) => {
    requested.push(route.request().url());
    return route.continue();
  });
  page.on('websocket', (ws) => requested.push(ws.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  let closed: Promise<void> | undefined;
  return {
    context,
    page,
    requested,
    errors,
    close() {
      closed ??= context.close().finally(() => rmSync(profile, { recursive: true, force: true }));
      return closed;
    },
  };
}
