/**
 * ask/send across socket drops, timeouts and close(), against a real `ws` server on port 0
 * (test/client/fakeServer.ts), with the client's timers on a SimulatedClock.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { connect, isInterlockError } from '../../src/client/index.js';
import type { ClientMessage } from '../../src/transport/protocol.js';
import { fakeServer, type FakeConn } from './fakeServer.js';
import { bounded, closeAfterEach, collect } from './helpers.js';

const track = closeAfterEach();

const settled = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));

describe('requests', () => {
  it('rejects an ask in flight when the socket drops (retryable), and does not send it again', async () => {
    const server = track(await fakeServer());
    const clock = new SimulatedClock();
    const client = track(connect(server.url, { clock, random: () => 0.5 }));
    const sub = client.subscribe('session/a').subscribe(); // keeps the client reconnecting
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    const asked = settled(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 60_000 }));
    await bounded(conn1.next('ask'), 'the ask');
    conn1.socket.terminate();
    const { error } = (await bounded(asked, 'the ask to settle')) as { error: unknown };
    expect(isInterlockError(error, 'INTERLOCK_CONNECTION_LOST')).toBe(true);
    expect(error).toMatchObject({ retryable: true, closeCode: 1006, address: 'session/a' });
    clock.advance(250);
    const conn2 = await bounded(server.nextConnection(), 'connection 2');
    await bounded(conn2.next('subscribe'), 'the resubscribe');
    // A round trip, so anything the client would have re-sent has arrived.
    conn2.send({ type: 'ping' });
    await bounded(conn2.next('pong'), 'a round trip');
    expect(conn2.received.map((m) => m.type)).toEqual(['connection_init', 'subscribe', 'pong']);
    sub.unsubscribe();
  });

  it('holds a request until a socket is acknowledged, across a failed attempt', async () => {
    const answer = (conn: FakeConn, m: ClientMessage) => m.type === 'send' && conn.send({ type: 'result', id: m.id, payload: { data: null } });
    const server = track(await fakeServer({ ack: false, onRequest: answer }));
    const clock = new SimulatedClock();
    const client = track(connect(server.url, { clock, random: () => 0.5 }));
    const sent = settled(client.send('session/a', { type: 'cancel' }));
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    await bounded(conn1.next('connection_init'), 'init');
    conn1.socket.close(1013, 'try again later');
    await bounded(conn1.closed, 'close 1');
    server.options.ack = true;
    // The retry is due 250 ms later; wait for the client to have scheduled it.
    await bounded(waitFor(() => clock.pending('work') > 0), 'the retry timer');
    clock.advance(250);
    const conn2 = await bounded(server.nextConnection(), 'connection 2');
    expect((await bounded(conn2.next('send'), 'the send')).payload).toEqual({ address: 'session/a', event: { type: 'cancel' } });
    expect(await bounded(sent, 'the send to settle')).toEqual({ value: undefined });
    expect(conn1.received.map((m) => m.type)).toEqual(['connection_init']);
  });

  it('gives the server its timeout first, then times out on the client with a grace period', async () => {
    const server = track(await fakeServer());
    const clock = new SimulatedClock();
    const client = track(connect(server.url, { clock, timeoutGraceMs: 500 }));
    const asked = settled(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 1_000 }));
    const conn = await bounded(server.nextConnection(), 'a connection');
    const ask = await bounded(conn.next('ask'), 'the ask');
    expect(ask.payload).toEqual({ address: 'session/a', event: { type: 'prompt' }, timeoutMs: 1_000 });
    clock.advance(1_000);
    clock.advance(499);
    conn.send({ type: 'ping' });
    await bounded(conn.next('pong'), 'a round trip'); // nothing rejected yet: it would have sent complete
    expect(conn.received.some((m) => m.type === 'complete')).toBe(false);
    clock.advance(1);
    const { error } = (await bounded(asked, 'the timeout')) as { error: unknown };
    expect(error).toMatchObject({ code: 'INTERLOCK_CLIENT_TIMEOUT', retryable: true, address: 'session/a', message: expect.stringContaining('1000 ms') });
    // The client tells the server it gave up.
    expect(await bounded(conn.next('complete'), 'complete')).toEqual({ type: 'complete', id: ask.id });
  });

  it("reports the server's deadline error when it comes within the grace period", async () => {
    const server = track(await fakeServer({
      onRequest: (conn, m) => {
        if (m.type === 'ask') conn.send({ type: 'error', id: m.id, payload: { code: 'INTERLOCK_DEADLINE_EXCEEDED', message: 'late' } });
      },
    }));
    const clock = new SimulatedClock();
    const client = track(connect(server.url, { clock }));
    const err = await bounded(
      client.ask('session/a', { type: 'prompt' }, { timeoutMs: 1_000 }).catch((e: unknown) => e),
      'the error',
    );
    expect(isInterlockError(err, 'INTERLOCK_DEADLINE_EXCEEDED')).toBe(true);
  });

  it('times out a request that never reached a server at its timeout, without grace', async () => {
    const server = track(await fakeServer({ ack: false }));
    const clock = new SimulatedClock();
    const client = track(connect(server.url, { clock, ackTimeoutMs: 60_000 }));
    const asked = settled(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 500 }));
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('connection_init'), 'init');
    clock.advance(500);
    const { error } = (await bounded(asked, 'the timeout')) as { error: unknown };
    expect(error).toMatchObject({ code: 'INTERLOCK_CLIENT_TIMEOUT', message: expect.stringContaining('not reachable') });
    // With nothing left to do the lazy socket closes.
    clock.advance(0);
    expect((await bounded(conn.closed, 'the idle close')).code).toBe(1000);
  });

  it('close() completes subscriptions, rejects pending requests, closes the socket, and is idempotent', async () => {
    const server = track(await fakeServer());
    const c = connect(server.url);
    track(c);
    const got = collect(c.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    const asked = settled(c.ask('session/a', { type: 'prompt' }));
    await bounded(conn.next('ask'), 'the ask');
    const first = c.close();
    expect(c.close()).toBe(first);
    await bounded(first, 'close()');
    expect(got.completed).toBe(true);
    expect(((await asked) as { error: unknown }).error).toMatchObject({ code: 'INTERLOCK_CLIENT_CLOSED', address: 'session/a' });
    expect(await bounded(conn.closed, 'the server to see the close')).toEqual({ code: 1000, reason: 'client closed' });
    // Nothing new after close.
    const late = collect(c.subscribe('session/b'));
    expect(isInterlockError(late.error, 'INTERLOCK_CLIENT_CLOSED')).toBe(true);
    await expect(c.send('session/b', { type: 'x' })).rejects.toMatchObject({ code: 'INTERLOCK_CLIENT_CLOSED' });
    expect(server.connections).toHaveLength(1);
  });

  it('close() on a client that never connected resolves at once', async () => {
    const c = connect('ws://127.0.0.1:9/ws');
    await bounded(c.close(), 'close()');
  });
});

/** Resolves once `check` holds, looking after each macrotask (bounded by the caller). */
async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}
