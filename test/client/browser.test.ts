/**
 * The browser bundle (dist/browser/interlock-client.js, built as esbuild.mjs does) in a
 * real headless Chromium: first against a `ws` server speaking interlock.v1 that replays an
 * overlap on resume (test/client/fakeServer.ts), then against the real Interlock server
 * (token in the URL, the page's origin allowlisted). Each time the socket is cut under the
 * page's subscription; the page must see every record once, in order, and coded errors.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InterlockClient } from '../../src/client/browser.js';
import { closeAllServers, startServer } from '../transport/helpers.js';
import { openBundlePage, type BrowserPage } from './chromium.js';
import { fakeServer, type FakeServer } from './fakeServer.js';
import { bounded } from './helpers.js';

/** What the page's globals hold: the bundle at `interlock`, and what the test puts there. */
interface PageGlobals {
  interlock: typeof import('../../src/client/browser.js');
  client: InterlockClient;
  records: { seq: number; type: string; recovered?: false }[];
  failure?: string;
}

let browser: BrowserPage;
let fake: FakeServer;
beforeAll(async () => {
  browser = await openBundlePage();
  fake = await fakeServer({
    overlap: 1,
    onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'error', id: m.id, payload: { code: 'INTERLOCK_EVENT_NOT_PUBLIC', message: 'not public' } }),
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await fake?.close();
  await closeAllServers();
});

/** In the page: a client on `url` subscribed to `address`, recording what it gets. */
function startInPage(url: string, address: string, token?: string): Promise<void> {
  return browser.page.evaluate(
    ({ url, address, token }) => {
      const g = globalThis as unknown as PageGlobals;
      g.records = [];
      g.failure = undefined;
      g.client = g.interlock.connect(url, { backoff: { initialMs: 20 }, ...(token === undefined ? {} : { token }) });
      g.client.subscribe(address).subscribe({ next: (r) => g.records.push(r as PageGlobals['records'][number]), error: (e) => (g.failure = String(e)) });
    },
    { url, address, token },
  );
}

const recordsInPage = (n: number) =>
  browser.page.waitForFunction((n) => (globalThis as unknown as PageGlobals).records.length >= n, n, { timeout: 10_000 });

/** In the page: an ask that must fail; its code, whether isInterlockError agrees, and what the page recorded. Closes the client. */
function finishInPage(address: string, event: { type: string }, code: string) {
  return browser.page.evaluate(
    async ({ address, event, code }) => {
      const g = globalThis as unknown as PageGlobals;
      const err = await g.client.ask(address, event).catch((e: unknown) => e);
      await g.client.close();
      return { seqs: g.records.map((r) => r.seq), failure: g.failure, code: (err as { code?: string }).code, byCode: g.interlock.isInterlockError(err, code) };
    },
    { address, event, code },
  );
}

describe('the browser bundle in Chromium', () => {
  it('resumes after a drop against a server that replays an overlap: every record once', async () => {
    await startInPage(fake.url, 'session/a');
    const conn1 = await bounded(fake.nextConnection(), 'connection 1');
    await bounded(conn1.next('subscribe'), 'subscribe 1');
    for (let i = 0; i < 3; i++) fake.publish('session/a');
    await recordsInPage(3);
    conn1.socket.terminate();
    for (let i = 0; i < 2; i++) fake.publish('session/a');
    const conn2 = await bounded(fake.nextConnection(), 'connection 2');
    expect((await bounded(conn2.next('subscribe'), 'subscribe 2')).payload).toEqual({ address: 'session/a', since: { epoch: 1, seq: 3 } });
    await recordsInPage(5);
    expect(await finishInPage('session/a', { type: 'admin' }, 'INTERLOCK_EVENT_NOT_PUBLIC')).toEqual({
      seqs: [1, 2, 3, 4, 5],
      failure: undefined,
      code: 'INTERLOCK_EVENT_NOT_PUBLIC',
      byCode: true,
    });
  });

  it('subscribes to the real server with a token and an allowlisted origin, and resumes after the server cuts it off', async () => {
    const s = await startServer({ token: 'browser-token', origins: [browser.origin], rateLimit: false });
    const sockets: Socket[] = [];
    s.server.on('upgrade', (_req, socket: Socket) => void sockets.push(socket));
    s.rt.tell('vault/web', { type: 'inc' } as never);
    await startInPage(s.url, 'vault/web', 'browser-token');
    await recordsInPage(1); // the current snapshot
    for (let i = 0; i < 5; i++) s.rt.tell('vault/web', { type: 'inc' } as never);
    const before = s.rt.view('vault/web')!.seq;
    await browser.page.waitForFunction((seq) => (globalThis as unknown as PageGlobals).records.at(-1)!.seq >= seq, before, { timeout: 10_000 });
    sockets.at(-1)!.destroy(); // the server side drops the connection: the page sees 1006
    for (let i = 0; i < 5; i++) s.rt.tell('vault/web', { type: 'inc' } as never);
    await new Promise((r) => setImmediate(r));
    const final = s.rt.view('vault/web')!.seq;
    await browser.page.waitForFunction((seq) => (globalThis as unknown as PageGlobals).records.at(-1)!.seq >= seq, final, { timeout: 10_000 });
    expect(sockets.length).toBe(2);
    const result = await finishInPage('vault/web', { type: '@forged' }, 'INTERLOCK_INVALID_EVENT');
    const first = result.seqs[0]!;
    expect(result).toEqual({
      seqs: Array.from({ length: final - first + 1 }, (_, i) => first + i),
      failure: undefined,
      code: 'INTERLOCK_INVALID_EVENT',
      byCode: true,
    });
  });
});
