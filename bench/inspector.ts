/**
 * The inspector page with 10,000 live actors (issue 11), in Debian's Chromium through
 * playwright-core, against the gateway on a real socket (from src/ through tsx; the page
 * is built in memory from inspector/ on the first request, before the first repetition).
 *
 * - first render: from navigation start (the page's `performance.now()` origin) to the
 *   actor list's first paint of every actor (its `inspector:actors-painted` mark): the page
 *   loaded, the list fetched, the first sample applied, the virtualised list painted.
 * - filter: from the `input` event of the text filter to the list repainted with the
 *   matching actors (a tenth of 10,000), and to the next animation frame after it.
 *
 * Measured here, never asserted in a test. `BENCH_QUICK=1`: 1,000 actors (a smoke run).
 */
import { createMachine } from 'xstate';
import { createRuntime, type KindConfig } from '../src/index.js';
import { createGatewayServer, type GatewayServer } from '../src/gateway/createGatewayServer.js';
import type { Runtime } from '../src/runtime/Runtime.js';
import { openBrowser, type Browser } from '../test/browser/chromium.js';
import { check, type Case } from './harness.js';

// Browser globals inside page callbacks (this file is typed for Node).
declare const document: { getElementById(id: string): { textContent: string | null; value?: string; dispatchEvent(e: unknown): void } | null; querySelector(s: string): unknown };
declare const requestAnimationFrame: (cb: () => void) => void;
declare const performance: { now(): number; getEntriesByName(name: string): { startTime: number }[] };
interface PerformanceMark {
  startTime: number;
  detail: { shown: number; total: number };
}
declare const Event: new (type: string, init?: object) => unknown;

export const QUICK = process.env.BENCH_QUICK === '1';
export const ACTORS = Number(process.env.INSPECTOR_ACTORS ?? (QUICK ? 1_000 : 10_000));

/** A small machine with a few states, so rows differ in state as they would in a real app. */
const lamp = createMachine({
  id: 'lamp',
  initial: 'off',
  states: { off: { on: { toggle: 'on' } }, on: { on: { toggle: 'off', dim: 'dimmed' } }, dimmed: { on: { toggle: 'off' } } },
});

/** The text typed into the filter: a tenth of 10,000 actors (l00000–l00999) match it. */
const FILTER = 'l00';
const address = (i: number) => `lamp/l${String(i).padStart(5, '0')}`;

interface World {
  runtime: Runtime;
  server: GatewayServer;
  url: string;
  browser: Browser;
}

let world: Promise<World> | undefined;

async function start(): Promise<World> {
  const runtime = createRuntime({ kinds: { lamp: { machine: lamp } as KindConfig } }) as unknown as Runtime;
  for (let i = 0; i < ACTORS; i++) runtime.tell(address(i), { type: i % 3 === 0 ? 'toggle' : 'noop' } as never);
  const server = await createGatewayServer(runtime, { logger: false, defaultMetrics: false });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}/inspector/`;
  // Build the page now (in memory, from inspector/), not in the first measured load.
  check((await fetch(`${url}app.js`)).ok, 'the inspector page is served');
  return { runtime, server, url, browser: await openBrowser() };
}

async function stop(): Promise<void> {
  const w = await world;
  world = undefined;
  if (!w) return;
  await w.browser.close();
  await w.runtime.shutdown({ drain: false });
  // What is left are idle keep-alive connections (this process's own fetch of app.js).
  const closing = w.server.app.close();
  w.server.app.server.closeAllConnections();
  await closing;
}

async function once(): Promise<Record<string, number>> {
  const w = await (world ??= start());
  const page = await w.browser.context.newPage();
  try {
    await page.goto(w.url);
    // The list's own marks (ActorListView paints): when it first showed every actor.
    const firstRender = await page.waitForFunction(
      (n) => performance.getEntriesByName('inspector:actors-painted').find((m) => (m as PerformanceMark).detail.total === n)?.startTime,
      ACTORS,
      { timeout: 60_000, polling: 100 },
    ).then((h) => h.jsonValue() as Promise<number>);
    const filter = await page.evaluate(async (f) => {
      const input = document.getElementById('text-filter')!;
      const t0 = performance.now();
      input.value = f;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      // The filter is applied and the list repainted in the input handler; then the frame is drawn.
      const applied = performance.getEntriesByName('inspector:actors-painted').at(-1) as PerformanceMark;
      await new Promise<void>((r) => requestAnimationFrame(() => r()));
      return { ms: performance.now() - t0, appliedMs: applied.startTime - t0, shown: document.getElementById('actor-count')!.textContent };
    }, FILTER);
    const matching = [...Array(ACTORS).keys()].filter((i) => address(i).includes(FILTER)).length;
    const want = matching === ACTORS ? `(${ACTORS})` : `(${matching} of ${ACTORS})`;
    check(filter.shown === want, `the filter narrowed the list to ${matching} (shows ${filter.shown})`);
    return { firstRender, filter: filter.ms, filterApplied: filter.appliedMs };
  } finally {
    await page.close();
  }
}

export function inspectorGroups(): Case[][] {
  return [
    [
      {
        id: `inspector ${ACTORS.toLocaleString('en-US')} actors`,
        size: `${ACTORS.toLocaleString('en-US')} live actors`,
        metrics: [
          { key: 'firstRender', unit: 'ms', label: 'first render' },
          { key: 'filter', unit: 'ms', label: 'apply a filter (to the next frame)' },
          { key: 'filterApplied', unit: 'ms', label: 'apply a filter (list repainted)' },
        ],
        ...(QUICK ? { reps: 1 } : {}),
        run: once,
        dispose: stop,
      },
    ],
  ];
}
