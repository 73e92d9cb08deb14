/**
 * `interlock serve` serves the WebSocket at /ws and the SSE event stream next to its HTTP
 * routes: a raw `ws` client and a real `EventSource` subscribe to a session that streams a
 * reply of a few hundred chunks. The WebSocket client leaves after its first record and,
 * once the whole reply has streamed, resumes from that record: the replay buffer still has
 * every chunk, so it gets the reply from its start, once, in order.
 */
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeArgs, serve, type Served } from '../../src/cli/serve.js';
import type { NextMessage } from '../../src/transport/protocol.js';
import { RawClient, until } from './helpers.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.shutdown();
  served = undefined;
});

const WORDS = 300;
const prompt = Array.from({ length: WORDS }, (_, i) => `w${i}`).join(' ');
const reply = `You said: "${prompt}". This is Interlock's simulated model answering without a network.`;

interface Emitted {
  event: { type: string; text?: string };
}
const chunks = (payloads: { type: string; data: unknown }[]) =>
  payloads.filter((p) => p.type === 'emitted' && (p.data as Emitted).event.type === 'chunk').map((p) => (p.data as Emitted).event.text!);
const ended = (payloads: { type: string; data: unknown }[]) => payloads.some((p) => p.type === 'emitted' && (p.data as Emitted).event.type === 'stream.end');

async function start(): Promise<Served> {
  served = await serve(parseServeArgs(['--port', '0', '--token', 'tk', '--config', 'test/transport/fixtures/fast-serve.ts', '--log-level', 'warn'], {}), () => undefined);
  return served;
}

describe('interlock serve', () => {
  it('resumes a streamed reply of a few hundred chunks from its start over the WebSocket', async () => {
    const s = await start();
    const wsUrl = s.url.replace(/^http/, 'ws');
    const first = await RawClient.connect(wsUrl, { token: 'tk', header: true });
    first.send({ type: 'subscribe', id: 'r', payload: { address: 'session/ws-1' } });
    first.send({ type: 'send', id: 'p', payload: { address: 'session/ws-1', event: { type: 'prompt', text: prompt } } });
    const start1 = await first.until<NextMessage>((m) => m.type === 'next');
    first.terminate();
    // The whole reply streams while nobody listens.
    await until(() => s.runtime.view('session/ws-1')?.state === 'idle' && (s.runtime.view('session/ws-1')!.context as { messages: number }).messages === 2, 20_000);
    const again = await RawClient.connect(wsUrl, { token: 'tk' });
    again.send({ type: 'subscribe', id: 'r', payload: { address: 'session/ws-1', since: { epoch: start1.payload.epoch, seq: start1.payload.seq } } });
    await again.until((m) => m.type === 'next' && (m.payload.data as Emitted | undefined)?.event?.type === 'stream.end', 20_000);
    const got = again.messages.filter((m): m is NextMessage => m.type === 'next').map((m) => m.payload);
    expect(got[0]!.seq).toBe(start1.payload.seq + 1);
    expect(got.map((p) => p.seq)).toEqual(got.map((_, i) => start1.payload.seq + 1 + i));
    expect(got.some((p) => p.recovered === false)).toBe(false);
    const text = chunks(got);
    expect(text.length).toBeGreaterThan(WORDS);
    expect(text.join('')).toBe(reply);
  }, 60_000);

  it('streams the same session to a real EventSource over SSE', async () => {
    const s = await start();
    const got: { type: string; data: unknown }[] = [];
    const es = new EventSource(`${s.url}/v1/actors/session/sse-1/events?token=tk`);
    es.onmessage = (e) => got.push(JSON.parse(e.data as string) as { type: string; data: unknown });
    try {
      await new Promise<void>((resolve, reject) => {
        es.onopen = () => resolve();
        es.onerror = (e) => reject(new Error(`EventSource failed: ${String((e as { message?: string }).message)}`));
      });
      const res = await fetch(`${s.url}/v1/actors/session/sse-1/tell`, {
        method: 'POST',
        headers: { authorization: 'Bearer tk', 'content-type': 'application/json' },
        body: JSON.stringify({ event: { type: 'prompt', text: prompt } }),
      });
      expect(res.status).toBe(202);
      await until(() => ended(got), 20_000);
    } finally {
      es.close();
    }
    expect(chunks(got).join('')).toBe(reply);
  }, 60_000);
});
