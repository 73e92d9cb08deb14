/**
 * Bounded by design, literally: a client sends chats with N distinct `X-Session-Id`
 * values, one each (non-streamed, the simulated model answering one token), over HTTP
 * keep-alive from a worker thread (so client and server run on both cores, and the
 * server's heap holds nothing of the client's). The server runs the gateway's session
 * kind with fast settings: idle sessions passivate after 100 ms, at most 1,000 live, a
 * bounded snapshot store of 5,000.
 *
 * It asserts that every chat is answered 200, live sessions never exceed `maxActive`
 * (sampled every 10 ms), the store never holds more than its bound (the oldest snapshots
 * are evicted), and the heap after a full GC at N is within a tolerance of the heap after
 * a full GC at 10,000 (both with every session passivated): nothing kept per session id.
 *
 * N is {@link COUNT}: 100,000 (env `INTERLOCK_DISTINCT_SESSIONS` overrides it).
 */
import { Worker } from 'node:worker_threads';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createRuntime, type KindConfig } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { simulated } from '../../src/providers/simulated.js';
import { boundedMemoryStore } from '../../src/gateway/boundedStore.js';
import { createGatewayServer } from '../../src/gateway/createGatewayServer.js';
import { gatewaySessionKind } from '../../src/gateway/sessionKind.js';
import { waitUntil } from '../fixtures/upstream.js';
import { MODEL } from './helpers.js';

/**
 * The count, literally: 100,000 distinct ids. One chat with a new session id costs
 * this gateway about 0.5 ms of server CPU (Fastify, schema, activating an XState actor, one
 * simulated token, passivating it into the store) plus about 0.2 ms in the client, so the
 * run is about 70 s of CPU spread over both cores (the client is a worker thread); the
 * test's timeout allows for a loaded machine. `INTERLOCK_DISTINCT_SESSIONS=30000` runs a
 * shorter version locally.
 */
const COUNT = Number(process.env.INTERLOCK_DISTINCT_SESSIONS ?? 100_000);
const CHECKPOINT = 10_000;
const MAX_ACTIVE = 1_000;
const IDLE_MS = 100;
const MAX_SNAPSHOTS = 5_000;
const CONCURRENCY = 32;
/** Heap growth allowed between the checkpoint and N: noise (JIT, pools), far below what N − 10,000 sessions would keep (~1 KB each). */
const HEAP_TOLERANCE = 6 * 1024 * 1024;

interface Reached {
  at: number;
  statuses: Record<string, number>;
  failures: string[];
}

function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('bounded memory: distinct X-Session-Id values', () => {
  it(`${COUNT.toLocaleString('en')} chats, each with a new session id: live sessions ≤ maxActive, the store bounded, no heap growth from ${CHECKPOINT.toLocaleString('en')} to ${COUNT.toLocaleString('en')}`, { timeout: 600_000 }, async () => {
    expect(COUNT).toBeGreaterThan(CHECKPOINT);
    const collect = gc();
    const store = boundedMemoryStore(MAX_SNAPSHOTS);
    const session = gatewaySessionKind({ provider: simulated({ text: 'ok', tokensPerSecond: 100_000 }), idleAfterMs: IDLE_MS, maxActive: MAX_ACTIVE });
    const rt = createRuntime({ store, kinds: { session: session as KindConfig } }) as unknown as Runtime;
    const server = await createGatewayServer(rt, { logger: false, models: [MODEL], metrics: false });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as { port: number };

    let maxLive = 0;
    let maxStored = 0;
    const sampler = setInterval(() => {
      maxLive = Math.max(maxLive, rt.addresses('session').length);
      maxStored = Math.max(maxStored, store.size);
    }, 10);
    const worker = new Worker(new URL('./fixtures/chat-client.mjs', import.meta.url), {
      workerData: { port, model: MODEL, prefix: 'user-', concurrency: CONCURRENCY },
    });
    const runTo = (to: number) =>
      new Promise<Reached>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ to });
      });

    const t0 = Date.now();
    try {
      const heaps: number[] = [];
      for (const at of [CHECKPOINT, COUNT]) {
        const reached = await runTo(at);
        expect(reached.failures).toEqual([]);
        expect(reached.statuses).toEqual({ 200: at });
        // Every session idle long enough is passivated; then the heap holds only what stays.
        await waitUntil(() => rt.addresses('session').length === 0, 'every session passivated', 10_000);
        collect();
        collect();
        heaps.push(process.memoryUsage().heapUsed);
        expect(store.size).toBe(MAX_SNAPSHOTS);
      }
      const [atCheckpoint, atEnd] = heaps as [number, number];
      console.log(
        `distinct sessions: ${COUNT} chats in ${Date.now() - t0} ms; live sessions at most ${maxLive} (maxActive ${MAX_ACTIVE}); ` +
          `store ${store.size} (evicted ${store.evicted}); heap after gc ${(atCheckpoint / 1e6).toFixed(1)} MB at ${CHECKPOINT}, ${(atEnd / 1e6).toFixed(1)} MB at ${COUNT}`,
      );
      expect(maxLive).toBeGreaterThan(0);
      expect(maxLive).toBeLessThanOrEqual(MAX_ACTIVE);
      expect(maxStored).toBeLessThanOrEqual(MAX_SNAPSHOTS);
      // Each session was passivated once into the store: all but the newest MAX_SNAPSHOTS were evicted.
      expect(store.evicted).toBe(COUNT - MAX_SNAPSHOTS);
      expect(atEnd - atCheckpoint).toBeLessThan(HEAP_TOLERANCE);
    } finally {
      clearInterval(sampler);
      worker.postMessage({ close: true });
      await worker.terminate();
      await rt.shutdown({ drain: false });
      await server.app.close();
    }
  });
});
