/**
 * What a caller reads when the client's connection ends or cannot start: each close the
 * server may send, a refused upgrade, a lost connection, giving up, close(), no WebSocket,
 * a bad URL. Checked by code and fields, and by the whole message (it names the fix),
 * against a real `ws` server on port 0 (test/client/fakeServer.ts).
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { connect as connectInBrowser } from '../../src/client/browser.js';
import { connect, type ClientOptions, type InterlockClient } from '../../src/client/index.js';
import { fakeServer } from './fakeServer.js';
import { bounded, closeAfterEach, collect } from './helpers.js';

const track = closeAfterEach();

const failure = (p: Promise<unknown>) => bounded(p.then(() => undefined, (e: unknown) => e), 'a rejection');

/** A client on a simulated clock with a subscription to session/a and an ask to session/a. */
function start(url: string, options: ClientOptions = {}, client: InterlockClient = connect(url, { clock: new SimulatedClock(), random: () => 0.5, ...options })) {
  track(client);
  const sub = collect(client.subscribe('session/a'));
  const asked = failure(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 60_000 }));
  return { client, sub, asked };
}

const token = 'Check the token (connect(url, { token })).';
const protocolDoc = 'See docs/protocol.md for the close codes.';

describe('errors a caller reads when the connection ends', () => {
  const closes: [code: number, reason: string, message: string][] = [
    [4401, 'Unauthorized', `the server closed the connection with 4401 (Unauthorized); not reconnecting. ${token}`],
    [4403, '', `the server closed the connection with 4403; not reconnecting. ${token}`],
    [4429, 'Too Many Requests', 'the server closed the connection with 4429 (Too Many Requests); not reconnecting. Too many requests on one connection: slow down.'],
    [4500, 'Internal Error', `the server closed the connection with 4500 (Internal Error); not reconnecting. ${protocolDoc}`],
  ];
  for (const [code, reason, message] of closes) {
    it(`a terminal close ${code} fails the subscription and the ask in flight with INTERLOCK_CONNECTION_CLOSED, naming the fix`, async () => {
      const server = track(await fakeServer());
      const { sub, asked } = start(server.url);
      const conn = await bounded(server.nextConnection(), 'a connection');
      await bounded(conn.next('ask'), 'the ask');
      conn.socket.close(code, reason);
      const expected = { name: 'InterlockError', code: 'INTERLOCK_CONNECTION_CLOSED', message, retryable: false, closeCode: code, httpStatus: undefined, address: 'session/a' };
      expect(await asked).toMatchObject(expected);
      await bounded(sub.ended, 'the subscription to fail');
      expect(sub.error).toMatchObject(expected);
    });
  }

  it('a server frame that is not the protocol: the client closes with 4400 and says it closed, not the server', async () => {
    const server = track(await fakeServer());
    const { sub, asked } = start(server.url);
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('ask'), 'the ask');
    conn.sendRaw('not json');
    const expected = {
      code: 'INTERLOCK_CONNECTION_CLOSED',
      message: `this client closed the connection with 4400 (server sent a frame that is not an interlock.v1 message); not reconnecting. ${protocolDoc}`,
      retryable: false,
      closeCode: 4400,
      address: 'session/a',
    };
    expect(await asked).toMatchObject(expected);
    await bounded(sub.ended, 'the subscription to fail');
    expect(sub.error).toMatchObject(expected);
    expect(await bounded(conn.closed, 'the close the server receives')).toMatchObject({ code: 4400 });
  });

  for (const status of [401, 403]) {
    it(`an upgrade refused with HTTP ${status} fails everything, naming the status and the token`, async () => {
      const server = track(await fakeServer({ refuseWith: status }));
      const { sub, asked } = start(server.url, { token: 'wrong' });
      const expected = {
        code: 'INTERLOCK_CONNECTION_CLOSED',
        message: `the server refused the upgrade with HTTP ${status}; not reconnecting. ${token}`,
        retryable: false,
        closeCode: 1006,
        httpStatus: status,
        address: 'session/a',
      };
      expect(await asked).toMatchObject(expected);
      await bounded(sub.ended, 'the subscription to fail');
      expect(sub.error).toMatchObject(expected);
    });
  }

  it('a request in flight on a dropped socket fails with INTERLOCK_CONNECTION_LOST, saying it may have been acted on', async () => {
    const server = track(await fakeServer());
    const clock = new SimulatedClock();
    const { client, asked } = start(server.url, { clock });
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    await bounded(conn1.next('ask'), 'the ask');
    conn1.socket.close(1012, 'restarting');
    expect(await asked).toMatchObject({
      code: 'INTERLOCK_CONNECTION_LOST',
      message: "Connection lost (close 1012: restarting) while the request to 'session/a' was in flight; it may or may not have been acted on.",
      retryable: true,
      closeCode: 1012,
      address: 'session/a',
    });
    // Without a close reason (no close frame: 1006), the message has none either.
    await bounded(waitFor(() => clock.pending('work') > 0), 'the retry timer');
    clock.advance(250);
    const conn2 = await bounded(server.nextConnection(), 'connection 2');
    await bounded(conn2.next('subscribe'), 'the resubscribe');
    const again = failure(client.ask('session/b', { type: 'prompt' }, { timeoutMs: 60_000 }));
    await bounded(conn2.next('ask'), 'the second ask');
    conn2.socket.terminate();
    expect(await again).toMatchObject({
      code: 'INTERLOCK_CONNECTION_LOST',
      message: "Connection lost (close 1006) while the request to 'session/b' was in flight; it may or may not have been acted on.",
      closeCode: 1006,
    });
  });

  it('gives up after backoff.attempts with INTERLOCK_CONNECTION_LOST, naming the URL and the count', async () => {
    const server = track(await fakeServer({ refuseWith: 503 }));
    const clock = new SimulatedClock();
    const { sub, asked } = start(server.url, { clock, backoff: { attempts: 2 } });
    const message = `Gave up reconnecting to ${server.url} after 2 attempts.`;
    for (let i = 0; i < 2; i++) {
      await bounded(waitFor(() => clock.pending('work') > 0), `retry ${i + 1}`);
      clock.advance(clock.nextAt()! - clock.now());
    }
    expect(await asked).toMatchObject({ code: 'INTERLOCK_CONNECTION_LOST', message, retryable: true, address: 'session/a' });
    await bounded(sub.ended, 'the subscription to fail');
    expect(sub.error).toMatchObject({ code: 'INTERLOCK_CONNECTION_LOST', message, address: 'session/a' });
  });

  it('close() rejects what is pending with INTERLOCK_CLIENT_CLOSED, saying to connect again', async () => {
    const server = track(await fakeServer({ ack: false }));
    const { client, sub, asked } = start(server.url);
    await bounded(server.nextConnection(), 'a connection');
    await bounded(client.close(), 'close()');
    const expected = { code: 'INTERLOCK_CLIENT_CLOSED', message: 'The client was closed (client.close()); connect again to send or subscribe.', retryable: false, address: 'session/a' };
    expect(await asked).toMatchObject(expected);
    expect(sub.completed).toBe(true);
    expect(await failure(client.send('session/b', { type: 'x' }))).toMatchObject({ ...expected, address: undefined });
  });

  it('without a WebSocket implementation every subscription and request fails with INTERLOCK_CONNECTION_CLOSED, and each new one tries again', async () => {
    // Node 20 has no global WebSocket: the browser entry finds none.
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined();
    const { client, sub, asked } = start('ws://127.0.0.1:9/ws', {}, connectInBrowser('ws://127.0.0.1:9/ws', { clock: new SimulatedClock() }));
    const message = 'No WebSocket implementation: this environment has no global WebSocket. Pass connect(url, { WebSocket }).';
    const expected = { name: 'InterlockError', code: 'INTERLOCK_CONNECTION_CLOSED', message, retryable: false, address: 'session/a' };
    expect(await asked).toMatchObject(expected);
    await bounded(sub.ended, 'the subscription to fail');
    expect(sub.error).toMatchObject(expected);
    // The failed load is not remembered as one still going: the next request tries again.
    expect(await failure(client.send('session/b', { type: 'x' }))).toMatchObject({ ...expected, address: 'session/b' });
  });

  it('a URL the WebSocket cannot open fails everything with INTERLOCK_CONNECTION_CLOSED, naming the URL', async () => {
    const { client, sub, asked } = start('not a url');
    const expected = { code: 'INTERLOCK_CONNECTION_CLOSED', message: 'Cannot open a WebSocket to not a url: Invalid URL', retryable: false, address: 'session/a' };
    expect(await asked).toMatchObject(expected);
    await bounded(sub.ended, 'the subscription to fail');
    expect(sub.error).toMatchObject(expected);
    const pattern = collect(client.subscribe('session/*'));
    await bounded(pattern.ended, 'the pattern subscription to fail');
    expect(pattern.error).toMatchObject({ ...expected, address: undefined });
  });
});

/** Resolves once `check` holds, looking after each macrotask (bounded by the caller). */
async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}
