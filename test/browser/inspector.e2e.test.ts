/**
 * The inspector page end to end, in Chromium, against the serve runtime on a real socket
 * (port 0, WebSocket at /ws, a token): seed 002's double text seen in the page. A streamed
 * chat runs on session `e2e`; the page lists it, the user selects it, a second prompt to
 * the same session interrupts the stream; the statechart lights `streaming`, `cancelling`,
 * `streaming` in turn and the timeline shows the interrupted stream's end (superseded).
 * Scrubbing back lights the earlier state. The page requests nothing but the server's URLs.
 * The model is the simulated one at 5 tokens/s with a long prompt, so the first stream is
 * still running when the second prompt arrives however loaded the machine is. Every wait is
 * on a DOM condition, bounded; nothing sleeps.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayServer, type GatewayServer } from '../../src/gateway/createGatewayServer.js';
import { serveRuntime } from '../../src/gateway/serveRuntime.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { openBrowser, type Browser } from './chromium.js';

// Browser globals inside page.evaluate / waitForFunction callbacks (this file is typed for Node).
declare const document: { getElementById(id: string): unknown };
declare const window: Record<string, unknown>;
declare const location: { search: string };
declare const MutationObserver: new (cb: (changes: { target: unknown; oldValue: string | null }[]) => void) => { observe(node: unknown, options: object): void };

const TOKEN = 'e2e-token';
const SESSION = 'e2e';
const LONG = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');

let server: GatewayServer;
let runtime: Runtime;
let origin: string;
let browser: Browser;
const chats: AbortController[] = [];

beforeAll(async () => {
  const built = serveRuntime({ tokensPerSecond: 5 });
  runtime = built.runtime as unknown as Runtime;
  server = await createGatewayServer(runtime, { logger: false, token: TOKEN, models: [built.model], keepAliveMs: 0, defaultMetrics: false });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  browser = await openBrowser();
}, 60_000);

afterAll(async () => {
  for (const c of chats) c.abort();
  await browser?.close();
  await runtime?.shutdown({ drain: false });
  if (server) {
    const closing = server.app.close();
    server.app.server.closeAllConnections();
    await closing;
  }
});

/** Starts a streamed chat on the session and resolves once its first content chunk arrived. */
async function prompt(text: string): Promise<{ body: () => string; ended: Promise<void> }> {
  const abort = new AbortController();
  chats.push(abort);
  const res = await fetch(`${origin}/v1/chat/completions`, {
    method: 'POST',
    signal: abort.signal,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-session-id': SESSION },
    body: JSON.stringify({ model: 'interlock-simulated', stream: true, messages: [{ role: 'user', content: text }] }),
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let body = '';
  let first!: () => void;
  const gotFirst = new Promise<void>((r) => (first = r));
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        body += decoder.decode(value, { stream: true });
        if (body.includes('"content":')) first();
      }
    } catch {
      // Aborted by the test's cleanup.
    }
    first();
  })();
  await gotFirst;
  return { body: () => body, ended };
}

describe('inspector page (Chromium)', { timeout: 60_000 }, () => {
  it('asks for the token once when the URL has none, keeps it in the browser, and uses it after a reload', async () => {
    const { page } = browser;
    await page.goto(`${origin}/inspector/`);
    const form = page.locator('#token-form');
    await form.waitFor({ state: 'visible' });
    await page.locator('#token-input').fill(TOKEN);
    await page.locator('#token-form button[type="submit"]').click();
    await page.locator('#conn.ok').waitFor();
    await form.waitFor({ state: 'hidden' });
    await page.reload();
    await page.locator('#conn.ok').waitFor();
    expect(await form.isVisible()).toBe(false);
    // Forget it again, so the next test starts from the URL's token.
    await page.locator('#forget-token').click();
    await form.waitFor({ state: 'visible' });
  });

  it('shows a double text as streaming → cancelling → streaming, the supersession on the timeline, and the past when scrubbed', async () => {
    const { page, requested } = browser;
    requested.length = 0;
    browser.errors.length = 0;
    await page.goto(`${origin}/inspector?token=${TOKEN}`);
    // The token left the address bar (kept in the browser instead).
    await page.waitForFunction(() => !location.search.includes('token'));
    await page.locator('#conn.ok').waitFor();
    expect(await page.locator('#token-form').isVisible()).toBe(false);

    // Every state the chart lights, in order, as the page lights it.
    await page.evaluate(() => {
      const seen: string[] = [];
      const flashed: string[] = [];
      window.litStates = seen;
      window.flashed = flashed;
      // Records come in batches (several records of one WebSocket frame are applied in one
      // task): each change's new class is the next change's old value, or the class now.
      new MutationObserver((changes) => {
        changes.forEach((c, i) => {
          const g = c.target as { matches?(s: string): boolean; getAttribute(n: string): string | null };
          const next = changes.slice(i + 1).find((d) => d.target === c.target);
          const cls = ` ${next ? next.oldValue : g.getAttribute('class')} `;
          if (g.matches?.('g.state') && cls.includes(' active ') && seen.at(-1) !== g.getAttribute('data-path')) seen.push(g.getAttribute('data-path')!);
          if (g.matches?.('g.edge') && cls.includes(' flash ')) flashed.push(`${g.getAttribute('data-source')} -${g.getAttribute('data-event')}-> ${g.getAttribute('data-target')}`);
        });
      }).observe(document.getElementById('chart'), { subtree: true, attributes: true, attributeFilter: ['class'], attributeOldValue: true });
    });

    const first = await prompt(`Please answer at length: ${LONG}`);
    const row = page.locator(`#actor-list .vlist-row[data-address="session/${SESSION}"]`);
    await row.waitFor();
    await row.click();
    await page.locator('#actor-title', { hasText: `session/${SESSION}` }).waitFor();
    await page.locator('#chart g.state.active[data-path="streaming"]').waitFor();
    // State names are DOM text, not pixels.
    await expect(page.locator('#chart g.state[data-path="cancelling"] text.state-name').textContent()).resolves.toBe('cancelling');

    const second = await prompt(`And now something else: ${LONG}`);
    await page.waitForFunction(() => {
      const seen = (window.litStates as string[]).join(' ');
      return /streaming cancelling streaming/.test(seen);
    });
    expect(second.body()).toContain('"content":');
    // The transition that fired flashed on the chart.
    await page.waitForFunction(() => (window.flashed as string[]).includes('session.streaming -prompt-> session.cancelling'));

    // The supersession on the timeline: the first stream ended, interrupted; its request ended without an answer.
    const ended = page.locator('#timeline .vlist-row', { hasText: 'stream.end interrupted (superseded)' });
    await ended.waitFor();
    await expect(page.locator('#actor-meta').textContent()).resolves.toMatch(/streaming → cancelling → streaming/);

    // Scrub back: a click on the timeline's `→ cancelling` snapshot shows the actor as it was then.
    await page.locator('#timeline .vlist-row[data-type="snapshot"]', { hasText: '→ cancelling' }).click();
    await page.locator('#chart g.state.active[data-path="cancelling"]').waitFor();
    await expect(page.locator('#chart g.state.active').count()).resolves.toBe(1);
    await page.locator('.scrub.past').waitFor();
    await expect(page.locator('#actor-meta .state').textContent()).resolves.toBe('cancelling');
    // The inspection record of that step, beside it: the event that moved it, from which state to which.
    await page.locator('#timeline .vlist-row[data-type="transition"]', { hasText: 'prompt: streaming → cancelling' }).waitFor();
    // The mailbox as it was: right after the second prompt was enqueued it waited there (normal lane).
    await page.locator('#timeline .vlist-row[data-type="mailbox.enqueued"]', { hasText: 'prompt' }).last().click();
    await page.locator('#mailbox tbody tr[data-id]').first().waitFor();
    const waiting = await page.locator('#mailbox tbody tr[data-id] td').allTextContents();
    expect([waiting[1], waiting[2], waiting[5]]).toEqual(['prompt', 'normal', 'queued']);
    await page.locator('#timeline .vlist-row[data-type="snapshot"]', { hasText: '→ cancelling' }).click();
    await page.locator('#mailbox tbody tr.none').waitFor();
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: 'docs/inspector.png' });

    // To the oldest buffered record with the keyboard on the slider (the session was then idle
    // or already streaming, as the buffer begins), then back to live.
    await page.locator('#scrubber').focus();
    await page.keyboard.press('Home');
    await page.locator('#scrub-at', { hasText: /^seq \d+ of \d+$/ }).waitFor();
    expect(['idle', 'streaming', '—']).toContain(await page.locator('#actor-meta .state').textContent());
    await page.locator('#live').click();
    await page.locator('#chart g.state.active[data-path="streaming"]').waitFor();
    await page.locator('.scrub:not(.past)').waitFor();

    // Controls: an internal and a non-public event are refused with their codes; revive wants a failed actor;
    // cancel ends the running turn (the second prompt's), and the session goes back to idle.
    const result = page.locator('#control-result');
    await page.locator('#send-event').fill('{"type": "@stream.closed"}');
    await page.locator('#send-form button[type="submit"]').click();
    await result.filter({ hasText: 'INTERLOCK_INVALID_EVENT' }).waitFor();
    await page.locator('#send-event').fill('{"type": "hello"}');
    await page.locator('#send-form button[type="submit"]').click();
    await result.filter({ hasText: 'INTERLOCK_EVENT_NOT_PUBLIC' }).waitFor();
    await page.locator('#revive').click();
    await result.filter({ hasText: 'INTERLOCK_NOT_FAILED' }).waitFor();
    await page.locator('#cancel-turn').click();
    await result.filter({ hasText: /^cancel: .*"cancelled":\["2"\]/ }).waitFor();
    await page.locator('#chart g.state.active[data-path="idle"]').waitFor();

    // Nothing but the server's own URLs was requested (HTTP and the WebSocket).
    const wsOrigin = origin.replace(/^http/, 'ws');
    const foreign = requested.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith(`${wsOrigin}/`));
    expect(requested.length).toBeGreaterThan(3);
    expect(foreign).toEqual([]);
    // No script error; the only failed load is the refused revive (409) the test asked for.
    expect(browser.errors.filter((e) => !e.includes('status of 409'))).toEqual([]);
  });
});
