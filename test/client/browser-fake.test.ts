/**
 * The browser bundle in a real Chromium against a real `ws` server speaking interlock.v1
 * (test/client/fakeServer.ts): it subscribes, survives a dropped socket without a gap or a
 * duplicate, and gets a coded error from an ask. The same bundle against the real
 * Interlock server is test/client/browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InterlockClient } from '../../src/client/browser.js';
import { openBundlePage, type BrowserPage } from './chromium.js';
import { fakeServer, type FakeServer } from './fakeServer.js';
import { bounded } from './helpers.js';

/** What the page's globals hold (the bundle at `interlock`, and what the test puts there). */
interface Page {
  interlock: typeof import('../../src/client/browser.js');
  client: InterlockClient;
  seqs: number[];
  failure?: string;
}

let browser: BrowserPage;
let server: FakeServer;
beforeAll(async () => {
  browser = await openBundlePage();
  server = await fakeServer({
    overlap: 1,
    onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'error', id: m.id, payload: { code: 'INTERLOCK_EVENT_NOT_PUBLIC', message: 'not public' } }),
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('browser bundle in Chromium', () => {
  it('subscribes, resumes after a drop with every record once, and rejects an ask by code', async () => {
    const { page } = browser;
    await page.evaluate((url) => {
      const g = globalThis as unknown as Page;
      g.seqs = [];
      g.client = g.interlock.connect(url, { backoff: { initialMs: 20 } });
      g.client.subscribe('session/a').subscribe({ next: (r) => g.seqs.push(r.seq), error: (e) => (g.failure = String(e)) });
    }, server.url);
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    await bounded(conn1.next('subscribe'), 'subscribe 1');
    for (let i = 0; i < 3; i++) server.publish('session/a');
    await page.waitForFunction(() => (globalThis as unknown as Page).seqs.length >= 3, undefined, { timeout: 10_000 });
    conn1.socket.terminate();
    for (let i = 0; i < 2; i++) server.publish('session/a');
    const conn2 = await bounded(server.nextConnection(), 'connection 2');
    expect((await bounded(conn2.next('subscribe'), 'subscribe 2')).payload).toEqual({ address: 'session/a', since: { epoch: 1, seq: 3 } });
    await page.waitForFunction(() => (globalThis as unknown as Page).seqs.length >= 5, undefined, { timeout: 10_000 });
    const result = await page.evaluate(async () => {
      const g = globalThis as unknown as Page;
      const err = await g.client.ask('session/a', { type: '@forged' }).catch((e: unknown) => e);
      await g.client.close();
      return { seqs: g.seqs, failure: g.failure, code: (err as { code?: string }).code, byCode: g.interlock.isInterlockError(err, 'INTERLOCK_EVENT_NOT_PUBLIC') };
    });
    expect(result).toEqual({ seqs: [1, 2, 3, 4, 5], failure: undefined, code: 'INTERLOCK_EVENT_NOT_PUBLIC', byCode: true });
  });
});
