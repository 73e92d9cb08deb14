/**
 * Issue 10's "done when", for the browser: Chromium's NATIVE `EventSource` subscribes to a
 * session's records on `interlock serve` (a child process, `node bin/interlock.mjs serve`,
 * with a token, so the `?token=` path is used) and resumes by itself with `Last-Event-ID`
 * after its connection is cut, getting every record once, in order.
 *
 * Between the page and the server is a TCP proxy written here (cutProxy.ts) that destroys
 * every live connection at chosen points; it also serves the page, so the page is
 * same-origin with the server (the SSE route sends no CORS headers, and an EventSource to
 * another origin is refused without them). Per run (fast-check, FC_BROWSER_RUNS runs, default 20;
 * seed printed, FC_SEED replays): a fresh document opens `new EventSource(<proxy>/v1/
 * actors/session/<id>/events?token=…)` and a Node SSE reader straight to the server (the uncut
 * truth, Bearer token) subscribes too, both before the session exists; then Node sends 1 to
 * 3 chats with `X-Session-Id` straight to the server (each about 25 to 35 records) while
 * the proxy cuts the page's connection when the truth has seen record k, for 1 to 4 random
 * k (a k past the last record cuts once every chat has answered). The page must have received
 * exactly the truth's events (same ids, same data, seq 1, 2, 3, … with no gap or
 * duplicate), the proxy must have seen the page reconnect, and every reconnect must have
 * carried `Last-Event-ID` with an id the page had received. The server's `retry:` is
 * lowered to 10 ms through `--config` (fixtures/quick-retry.ts) so Chromium's reconnects
 * are quick; every wait is on a condition, bounded; nothing sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../fixtures/upstream.js';
import { openBrowser, type Browser } from './chromium.js';
import { PAGE_PATH, startCutProxy, type CutProxy, type RequestHead } from './cutProxy.js';

// Browser globals inside page.evaluate / waitForFunction callbacks (this file is typed for Node).
declare const window: Record<string, unknown> & { got: Message[]; es: { readyState: number; close(): void } };
declare const EventSource: new (url: string) => { readyState: number; onmessage: (e: Message) => void; close(): void };

// Its own knob, not FC_RUNS: each run is a browser round (~1 s), so a CI that raised FC_RUNS for the properties would not make this file take minutes.
const RUNS = Number(process.env.FC_BROWSER_RUNS ?? 20);
const TOKEN = 'sse-e2e-token';
const root = fileURLToPath(new URL('../../', import.meta.url));
/** The page: no favicon request, nothing but what the test evaluates in it. */
const PAGE = '<!doctype html><link rel="icon" href="data:,"><title>eventsource</title>';

interface Message {
  data: string;
  lastEventId: string;
}

let child: ChildProcess | undefined;
let serverUrl: string;
let proxy: CutProxy;
let browser: Browser;

beforeAll(async () => {
  child = spawn(process.execPath, ['bin/interlock.mjs', 'serve', '--port', '0', '--token', TOKEN, '--config', 'test/browser/fixtures/quick-retry.ts', '--log-level', 'warn'], {
    cwd: root,
    env: { ...process.env, INTERLOCK_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume(); // pino's warnings, if any; not asserted
  // The banner ends with the auth line.
  await waitUntil(() => /\n {2}auth /.test(stderr) || child!.exitCode !== null, 'interlock serve to print its URL', 30_000);
  const url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
  if (url === undefined) throw new Error(`interlock serve did not start:\n${stderr}`);
  expect(stderr).toMatch(/auth\s+Bearer token required/);
  serverUrl = url;
  const { hostname, port } = new URL(url);
  proxy = await startCutProxy({ host: hostname, port: Number(port) }, PAGE);
  browser = await openBrowser({ width: 800, height: 600 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

/** An SSE reader straight to the server (no proxy, never cut): the events as the server sent them. */
async function truthReader(path: string): Promise<{ events: Message[]; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(`${serverUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: abort.signal });
  expect(res.status).toBe(200);
  const events: Message[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ data: e.data, lastEventId: e.id ?? '' }) });
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const part of res.body as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(part, { stream: true }));
    } catch {
      // Aborted by close() at the end of the run.
    }
  })();
  return { events, close: () => abort.abort() };
}

async function chat(key: string, words: number): Promise<void> {
  const content = Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
  const res = await fetch(`${serverUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-session-id': key },
    body: JSON.stringify({ model: 'interlock-simulated', messages: [{ role: 'user', content }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
}

/** Loads a fresh document from the proxy's origin with a native EventSource on `path`, open and connected. */
async function openEventSource(path: string): Promise<Page> {
  const page = browser.page;
  await page.goto(`${proxy.origin}${PAGE_PATH}`);
  await page.evaluate((url) => {
    window.got = [];
    const es = new EventSource(url);
    es.onmessage = (e) => window.got.push({ data: e.data, lastEventId: e.lastEventId });
    window.es = es;
  }, path);
  // Open: the server subscribed this connection in the turn it wrote the head, so before it
  // handles any chat the test sends after this.
  await page.waitForFunction(() => window.es.readyState === 1, undefined, { timeout: 10_000 });
  return page;
}

interface Plan {
  /** Words per prompt, one chat each, in turn. */
  prompts: number[];
  /** Cut when the truth has seen this many records (past the end: once all is sent). */
  cuts: number[];
}

const plans: fc.Arbitrary<Plan> = fc.record({
  prompts: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
  cuts: fc.uniqueArray(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 4 }).map((c) => c.sort((a, b) => a - b)),
});

const seqOf = (m: Message) => (JSON.parse(m.data) as { seq: number }).seq;
const settledTurns = (events: Message[]) => events.filter((m) => /"type":"transition".*"from":"streaming","to":"idle"/.test(m.data)).length;
let runs = 0;
let reconnects = 0;

async function run(plan: Plan): Promise<void> {
  const key = `es-${++runs}`;
  const path = `/v1/actors/session/${key}/events?token=${TOKEN}`;
  const truth = await truthReader(path);
  const firstRequest = proxy.requests.length;
  const page = await openEventSource(path);
  try {
    let sent = false;
    const chats = (async () => {
      for (const words of plan.prompts) await chat(key, words);
      sent = true;
    })();
    const cuts = (async () => {
      for (const [i, k] of plan.cuts.entries()) {
        await waitUntil(() => truth.events.length >= k || sent, `record ${k} or the end of the chats`, 20_000);
        // The first cut only once the page holds an id, so its reconnect can carry one.
        if (i === 0) await page.waitForFunction(() => window.got.length > 0, undefined, { timeout: 10_000 });
        proxy.cut();
      }
    })();
    await Promise.all([chats, cuts]);
    // Every turn has settled (its last record is the transition back to idle): nothing more comes.
    await waitUntil(() => settledTurns(truth.events) === plan.prompts.length, 'every turn to settle', 10_000);
    const last = truth.events.at(-1)!.lastEventId;
    const sse = () => proxy.requests.slice(firstRequest).filter((r) => r.path.includes('/events'));
    // The page has caught up, is connected again, and the proxy saw it reconnect.
    await page.waitForFunction((id) => window.got.at(-1)?.lastEventId === id && window.es.readyState === 1, last, { timeout: 10_000 }).catch(async (err: unknown) => {
      const state = await page.evaluate(() => ({ readyState: window.es.readyState, received: window.got.length, lastEventId: window.got.at(-1)?.lastEventId }));
      throw new Error(`the page did not catch up to ${last} (${truth.events.length} events): ${JSON.stringify(state)}; requests ${JSON.stringify(sse())}`, { cause: err });
    });
    await waitUntil(() => sse().length > 1, 'the page to reconnect through the proxy', 10_000);
    const got = await page.evaluate(() => {
      window.es.close();
      return window.got;
    });

    // Exactly once, in order: the page's events are the server's, seq 1, 2, 3, …
    expect(got).toEqual(truth.events);
    expect(got.map(seqOf)).toEqual(got.map((_, i) => i + 1));
    for (const m of got) {
      const { epoch, seq } = JSON.parse(m.data) as { epoch: number; seq: number };
      expect(m.lastEventId).toBe(`${epoch}:${seq}`);
    }
    // Chromium reconnected by itself, each time with the id of an event it had received.
    const requests: RequestHead[] = sse();
    expect(requests.every((r) => r.method === 'GET' && r.path === path)).toBe(true);
    expect(requests[0]!.lastEventId).toBeUndefined();
    const ids = new Set(got.map((m) => m.lastEventId));
    for (const r of requests.slice(1)) expect(ids.has(r.lastEventId ?? 'none'), `Last-Event-ID ${r.lastEventId} is an id the page received`).toBe(true);
    reconnects += requests.length - 1;
  } finally {
    truth.close();
    // Leaving the document closes its EventSource too (when a failed assertion skipped close()).
    await page.goto('about:blank');
  }
}

describe('a browser EventSource against interlock serve', () => {
  it(`resumes by itself across cut connections: every record once, in order (${RUNS} runs)`, { timeout: Math.max(120_000, RUNS * 10_000) }, async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    console.log(`eventsource e2e: seed ${seed} (FC_SEED=${seed} to replay), ${RUNS} runs`);
    await fc.assert(fc.asyncProperty(plans, run), { numRuns: RUNS, seed, verbose: 1, endOnFailure: true });
    console.log(`eventsource e2e: ${reconnects} reconnects with Last-Event-ID over ${runs} runs`);
    // The console saw the cuts (net::ERR_INCOMPLETE_CHUNKED_ENCODING and the like), nothing else.
    expect(browser.errors.filter((e) => !e.includes('net::ERR_'))).toEqual([]);
  });
});
