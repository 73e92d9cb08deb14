/**
 * The slow-consumer close, in this process (slow-consumer.test.ts measures its memory in a
 * child process): a client that stops reading while records keep coming is closed with 1013
 * and a reason that tells it what to do, once the unsent bytes pass `hardLimitBytes`; the
 * log says so with the bytes that decided it and the limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/transport/protocol.js';
import { closeAllServers, RawClient, startServer } from './helpers.js';

afterEach(closeAllServers);

const socket = (c: RawClient) => (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

describe('a client that stops reading', () => {
  it('is closed 1013 "Slow consumer: …; reconnect and resume" past hardLimitBytes, logged as ws_slow_consumer with the bytes', async () => {
    const hardLimitBytes = 256 * 1024;
    const s = await startServer({ rateLimit: false, highWaterBytes: hardLimitBytes, hardLimitBytes });
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'all', payload: { pattern: 'vault/*' } });
    c.send({ type: 'ping' });
    await c.until((m) => m.type === 'pong');
    socket(c).pause();
    // Records of ~100 KB each, to many addresses (one held snapshot each), until the server gives up (bounded).
    for (let i = 0; i < 2_000 && !s.logs.some((l) => l.msg === 'ws_slow_consumer'); i++) {
      s.rt.tell(`vault/${i % 50}`, { type: 'big', size: 100_000 } as never);
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    const decided = s.logs.filter((l) => l.msg === 'ws_slow_consumer');
    expect(decided).toEqual([{ level: 'warn', msg: 'ws_slow_consumer', fields: { buffered: expect.any(Number), hardLimitBytes } }]);
    expect(decided[0]!.fields.buffered).toBeGreaterThan(hardLimitBytes);
    // The client reads again: what was sent before the decision, then the close frame.
    socket(c).resume();
    expect(await c.closed).toEqual({ code: CloseCode.TryAgainLater, reason: 'Slow consumer: too many unsent bytes; reconnect and resume' });
    expect(s.logs.filter((l) => l.msg === 'ws_closing')).toEqual([
      { level: 'info', msg: 'ws_closing', fields: { code: CloseCode.TryAgainLater, reason: 'Slow consumer: too many unsent bytes; reconnect and resume' } },
    ]);
  }, 60_000);
});
