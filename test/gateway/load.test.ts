/**
 * Load, bounded: 1,000 concurrent streamed chats over 200 sessions (5 each, policy
 * 'enqueue') against the simulated model, through real sockets. Every request ends
 * exactly once with its own answer, each session serves its prompts one at a time in
 * mailbox order, nothing hangs, and a second identical round leaves no more timers or
 * other handles and no meaningfully larger heap than the first.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusRecord } from '../../src/index.js';
import { simulated } from '../../src/providers/simulated.js';
import { closeAll, MODEL, startGateway, type TestGateway } from './helpers.js';

afterEach(closeAll);

const SESSIONS = 200;
const PER_SESSION = 5;

function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Streams one chat; resolves with its outcome ('done' + the text, or what went wrong). */
async function chat(url: string, session: string, prompt: string): Promise<{ ok: boolean; text: string; ends: number }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': session },
    body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: prompt }] }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = await res.text();
  const text = [...body.matchAll(/"delta":\{"content":("(?:[^"\\]|\\.)*")\}/g)].map((m) => JSON.parse(m[1]!) as string).join('');
  return { ok: res.status === 200 && body.endsWith('data: [DONE]\n\n'), text, ends: body.split('data: [DONE]').length - 1 };
}

async function round(gw: TestGateway, tag: string, perSession = PER_SESSION): Promise<void> {
  const enqueued = new Map<string, string[]>();
  const started = new Map<string, string[]>();
  const sub = gw.rt.events$.subscribe((r: BusRecord) => {
    if (r.type === 'mailbox.enqueued' && (r.data as { type?: string }).type === 'prompt') {
      (enqueued.get(r.address) ?? enqueued.set(r.address, []).get(r.address)!).push((r.data as { id: string }).id);
    }
    const e = r.type === 'emitted' ? (r.data as { event: { type: string; requestId?: string } }).event : undefined;
    if (e?.type === 'stream.started') (started.get(r.address) ?? started.set(r.address, []).get(r.address)!).push(e.requestId!);
  });
  const jobs: Promise<{ ok: boolean; text: string; ends: number; prompt: string }>[] = [];
  for (let k = 0; k < perSession; k++) {
    for (let s = 0; s < SESSIONS; s++) {
      const prompt = `${tag}-s${s}-p${k}`;
      jobs.push(chat(gw.url, `s${s}`, prompt).then((r) => ({ ...r, prompt })));
    }
  }
  const results = await Promise.all(jobs);
  sub.unsubscribe();

  // Every request ended exactly once, complete, with the answer to its own prompt.
  expect(results.filter((r) => !r.ok || r.ends !== 1)).toEqual([]);
  expect(results.filter((r) => !r.text.includes(`"${r.prompt}"`)).map((r) => r.prompt)).toEqual([]);
  // Per session: streams started in exactly the order their prompts were enqueued.
  expect(started.size).toBe(SESSIONS);
  expect(enqueued.size).toBe(SESSIONS);
  for (const [address, ids] of enqueued) expect(started.get(address), address).toEqual(ids);
  for (const ids of enqueued.values()) expect(ids).toHaveLength(perSession);
}

/** Timers and other handles, not sockets (client keep-alive pools vary) nor pending immediates (transient). */
const otherHandleList = () => process.getActiveResourcesInfo().filter((t) => t !== 'TCPSocketWrap' && t !== 'TCPServerWrap' && t !== 'Immediate');
const otherHandles = () => otherHandleList().length;

describe('load', { timeout: 180_000 }, () => {
  it(`${SESSIONS * PER_SESSION} concurrent streamed chats over ${SESSIONS} sessions: each ends once, in order per session, with no growth after`, async () => {
    const collect = gc();
    const gw = await startGateway({
      provider: simulated({ tokensPerSecond: 5_000 }),
      session: { onBusy: 'enqueue' },
      logLevel: 'warn',
      // Keep-alive timers on, so a timer left behind by any request shows up in the handle count.
      gateway: { metrics: false, keepAliveMs: 30_000 },
    });

    // Two identical rounds of 1,000: the first also warms up (1,000 client and server
    // sockets, JIT, pools: about 10 MB that a small warm-up round does not reach).
    await round(gw, 'r1');
    collect();
    const heap1 = process.memoryUsage().heapUsed;
    const handles1 = otherHandles();

    await round(gw, 'r2');
    collect();
    const heap2 = process.memoryUsage().heapUsed;
    const handles2 = otherHandles();

    expect(gw.rt.addresses('session')).toHaveLength(SESSIONS);
    expect(gw.rt.stats({ addresses: false }).kinds[0]).toMatchObject({ depth: 0, inFlight: 0 });
    expect(handles2, otherHandleList().join(',')).toBeLessThanOrEqual(handles1);
    // Each session's history grew by 10 short messages; anything kept per request would be far more.
    expect(heap2 - heap1).toBeLessThan(8 * 1024 * 1024);
    console.log(`load: heap ${(heap1 / 1e6).toFixed(1)} -> ${(heap2 / 1e6).toFixed(1)} MB, non-socket handles ${handles1} -> ${handles2}`);
  });
});
