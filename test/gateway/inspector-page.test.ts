/**
 * The inspector page's own routes on a real socket: its static files are served without
 * the bearer token (a browser opening the URL cannot send one) and with the headers that
 * keep the page to its own origin; `/inspector` redirects to `/inspector/` keeping its
 * query; an unknown file is a coded 404. (What the page then reads needs the token:
 * test/gateway/inspect.test.ts. The page in Chromium: test/browser.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { INSPECTOR_CSP } from '../../src/gateway/inspectorPage.js';
import { closeAll, startGateway } from './helpers.js';

afterEach(closeAll);

describe('GET /inspector/', { timeout: 60_000 }, () => {
  it('serves the page and its script and style without the token, each with its type, no-cache, nosniff, the CSP and no referrer', async () => {
    const gw = await startGateway({ gateway: { token: 'tk' }, logLevel: 'warn' });
    expect((await fetch(`${gw.url}/v1/kinds`)).status).toBe(401); // the data still needs the token
    const files = [
      ['/inspector/', 'text/html; charset=utf-8', '<script'],
      ['/inspector/index.html', 'text/html; charset=utf-8', '<script'],
      ['/inspector/app.js', 'text/javascript; charset=utf-8', 'WebSocket'],
      ['/inspector/app.css', 'text/css; charset=utf-8', '{'],
    ] as const;
    for (const [path, type, sample] of files) {
      const res = await fetch(`${gw.url}${path}`);
      const headers = Object.fromEntries(['content-type', 'cache-control', 'x-content-type-options', 'content-security-policy', 'referrer-policy'].map((h) => [h, res.headers.get(h)]));
      expect([path, res.status, headers]).toEqual([
        path,
        200,
        { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'content-security-policy': INSPECTOR_CSP, 'referrer-policy': 'no-referrer' },
      ]);
      expect(await res.text()).toContain(sample);
    }
    expect(INSPECTOR_CSP).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  });

  it('redirects /inspector to /inspector/ (302), keeping the query, without the token', async () => {
    const gw = await startGateway({ gateway: { token: 'tk' }, logLevel: 'warn' });
    for (const [from, to] of [
      ['/inspector', '/inspector/'],
      ['/inspector?token=tk&x=1', '/inspector/?token=tk&x=1'],
    ]) {
      const res = await fetch(`${gw.url}${from}`, { redirect: 'manual' });
      expect([from, res.status, res.headers.get('location')]).toEqual([from, 302, to]);
    }
  });

  it('answers a file it does not have with 404 INTERLOCK_NOT_FOUND, naming at most 100 characters of it', async () => {
    const gw = await startGateway({ logLevel: 'warn' });
    const long = 'x'.repeat(150);
    for (const [name, shown] of [
      ['nope.js', 'nope.js'],
      [long, long.slice(0, 100)],
    ]) {
      const res = await fetch(`${gw.url}/inspector/${name}`);
      expect([res.status, ((await res.json()) as { error: unknown }).error]).toEqual([
        404,
        expect.objectContaining({ code: 'INTERLOCK_NOT_FOUND', message: `No inspector file '${shown}'. The page is at /inspector/.` }),
      ]);
    }
  });

  it('is not served when the gateway is created with inspector: false', async () => {
    const gw = await startGateway({ gateway: { inspector: false }, logLevel: 'warn' });
    expect((await fetch(`${gw.url}/inspector/`)).status).toBe(404);
  });
});
