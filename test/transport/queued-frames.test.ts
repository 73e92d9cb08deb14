/**
 * Frames that wait while an async `authorize` answers (so the client's order is kept): at
 * most 1,000 of them (MAX_QUEUED_FRAMES). Without a rate limit nothing else bounds them, so
 * one more closes the connection with 4429 and a reason that says why; up to the limit each
 * is handled, in order, once the hook answers. The test learns that the server has read
 * every frame from a WebSocket ping sent after them: ws answers it as it reads it, and a
 * server that has closed answers no ping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/transport/protocol.js';
import { CloseCode } from '../../src/transport/protocol.js';
import { closeAllServers, RawClient, startServer, until } from './helpers.js';

afterEach(closeAllServers);

/** A server whose authorize hook answers only when the test says so. */
async function heldServer() {
  let answer: ((ok: boolean) => void) | undefined;
  const s = await startServer({ rateLimit: false, authorize: () => new Promise<boolean>((resolve) => (answer = resolve)) });
  return { s, answer: (ok: boolean) => answer!(ok), asked: () => answer !== undefined };
}

/** Sends a subscribe the hook holds, then `n` pings, then a WebSocket ping: resolves with whichever comes first, its pong or the close. */
async function queue(c: RawClient, n: number): Promise<'pong' | { code: number; reason: string }> {
  c.send({ type: 'subscribe', id: 'held', payload: { address: 'vault/1' } });
  for (let i = 0; i < n; i++) c.send({ type: 'ping', payload: { i } });
  const pong = new Promise<'pong'>((resolve) => c.ws.once('pong', () => resolve('pong')));
  c.ws.ping();
  return Promise.race([pong, c.closed]);
}

const pongs = (messages: ServerMessage[]) => messages.filter((m) => m.type === 'pong').map((m) => (m.payload as { i: number }).i);

describe('frames waiting for an async authorize', () => {
  it('are held up to 1,000 and then handled in order, nothing else answered', async () => {
    const { s, answer, asked } = await heldServer();
    const c = await RawClient.connect(s);
    expect(await queue(c, 1_000)).toBe('pong');
    expect(asked()).toBe(true);
    expect(c.messages.map((m) => m.type)).toEqual(['connection_ack']);
    answer(true);
    await c.until((m) => m.type === 'pong' && (m.payload as { i: number }).i === 999);
    expect(pongs(c.messages)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    // The subscription's first record may follow; nothing else (no error for a frame nobody sent).
    expect(c.messages.filter((m) => m.type !== 'pong' && m.type !== 'next').map((m) => m.type)).toEqual(['connection_ack']);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('close the connection 4429 "Too many messages waiting for authorization" at the 1,001st, and what was held is dropped', async () => {
    const { s, answer } = await heldServer();
    const c = await RawClient.connect(s);
    expect(await queue(c, 1_001)).toEqual({ code: CloseCode.TooManyRequests, reason: 'Too many messages waiting for authorization' });
    await until(() => s.transport.size === 0);
    answer(true);
    await s.transport.close();
    expect(c.messages.map((m) => m.type)).toEqual(['connection_ack']);
    expect(s.logs.filter((l) => l.msg === 'ws_closing')).toEqual([
      { level: 'info', msg: 'ws_closing', fields: { code: CloseCode.TooManyRequests, reason: 'Too many messages waiting for authorization' } },
    ]);
  });
});
