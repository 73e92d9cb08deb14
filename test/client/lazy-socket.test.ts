/**
 * When the client opens and closes its one socket: the URL it opens, loading the WebSocket
 * implementation only for work, one socket however many demands come while it loads, none
 * after close() or once the work is gone, the reconnect delay kept, and the idle close
 * timed from the last work. A real `ws` server on port 0 (test/client/fakeServer.ts), the
 * client's timers on a SimulatedClock.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { flushMicrotasks, SimulatedClock } from '../../src/clock.js';
import { connect, type ClientOptions, type WebSocketConstructor } from '../../src/client/index.js';
import { fakeServer, type FakeConn } from './fakeServer.js';
import { bounded, closeAfterEach, collect, trackedWebSocket } from './helpers.js';

const track = closeAfterEach();

/** `options` with the `ws` WebSocket, remembering the URL each socket was opened with and how often the client asked for the implementation. */
function countingWebSocket(base: ClientOptions) {
  const urls: string[] = [];
  const Recording = class extends NodeWebSocket {
    constructor(url: string, ...rest: unknown[]) {
      urls.push(url);
      super(url, ...(rest as [string]));
    }
  };
  let loads = 0;
  const options = Object.defineProperty({ ...base }, 'WebSocket', {
    get: () => {
      loads++;
      return Recording as unknown as WebSocketConstructor;
    },
  });
  return { urls, options, loads: () => loads };
}

/** Whether the client still answers on `conn` ('open') or has closed it ('closed'). */
function stillOpen(conn: FakeConn): Promise<'open' | 'closed'> {
  conn.send({ type: 'ping' });
  return bounded(Promise.race([conn.next('pong').then(() => 'open' as const), conn.closed.then(() => 'closed' as const)]), 'a round trip or the close');
}

describe('the lazy socket', () => {
  it('opens ws:// for http:// and wss:// for https://, and puts the token in the URL only with tokenInQuery and a token', async () => {
    const server = track(await fakeServer());
    const port = new URL(server.url).port;
    const cases: [url: string, options: ClientOptions, opened: string][] = [
      [`http://127.0.0.1:${port}/ws`, {}, `ws://127.0.0.1:${port}/ws`],
      [`https://127.0.0.1:${port}/ws`, {}, `wss://127.0.0.1:${port}/ws`],
      [`ws://127.0.0.1:${port}/ws`, { token: 't' }, `ws://127.0.0.1:${port}/ws`],
      [`ws://127.0.0.1:${port}/ws`, { tokenInQuery: true }, `ws://127.0.0.1:${port}/ws`],
      [`ws://127.0.0.1:${port}/ws`, { tokenInQuery: true, token: 't' }, `ws://127.0.0.1:${port}/ws?token=t`],
    ];
    for (const [url, options, opened] of cases) {
      const ws = countingWebSocket({ clock: new SimulatedClock(), ...options });
      const client = connect(url, ws.options);
      const sub = client.subscribe('session/a').subscribe();
      await bounded(waitFor(() => ws.urls.length === 1), `a socket for ${url}`);
      expect({ url, options, opened: ws.urls[0] }).toEqual({ url, options, opened });
      sub.unsubscribe();
      await bounded(client.close(), 'close()');
    }
  });

  it('asks for the WebSocket implementation only when it has work, once for demands that come while it loads, and not for a reconnect with no work left', async () => {
    const server = track(await fakeServer({ refuseWith: 503 }));
    const clock = new SimulatedClock();
    const closes: number[] = [];
    const ws = countingWebSocket({ clock, random: () => 0.5, on: { closed: (info) => closes.push(info.code) } });
    const client = track(connect(server.url, ws.options));
    await flushMicrotasks();
    expect(ws.loads()).toBe(0);
    const a = client.subscribe('session/a').subscribe();
    const b = client.subscribe('session/b').subscribe();
    const asked = client.send('session/a', { type: 'x' }, { timeoutMs: 100 }).catch(() => {});
    await bounded(waitFor(() => closes.length === 1), 'the refused attempt');
    expect({ loads: ws.loads(), sockets: ws.urls.length }).toEqual({ loads: 1, sockets: 1 });
    clock.advance(100);
    await asked;
    a.unsubscribe();
    b.unsubscribe();
    expect(clock.pending('work')).toBe(1); // the reconnect, due at 250
    clock.advance(250);
    await flushMicrotasks();
    expect({ loads: ws.loads(), sockets: ws.urls.length }).toEqual({ loads: 1, sockets: 1 });
  });

  it('opens no socket when close() comes while the implementation loads (lazy: false)', async () => {
    const server = track(await fakeServer());
    const { WebSocket, sockets } = trackedWebSocket();
    const client = connect(server.url, { lazy: false, WebSocket });
    await bounded(client.close(), 'close()');
    await flushMicrotasks();
    expect(sockets).toHaveLength(0);
    expect(server.connections).toHaveLength(0);
  });

  it('opens no socket when the only work ends while the implementation loads', async () => {
    const server = track(await fakeServer());
    const { WebSocket, sockets } = trackedWebSocket();
    const client = track(connect(server.url, { WebSocket }));
    client.subscribe('session/a').subscribe().unsubscribe();
    await flushMicrotasks();
    expect(sockets).toHaveLength(0);
  });

  it('keeps one socket for a subscription and requests made while it is open', async () => {
    const server = track(await fakeServer({ onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'result', id: m.id, payload: { data: 1 } }) }));
    const { WebSocket, sockets } = trackedWebSocket();
    const client = track(connect(server.url, { WebSocket }));
    const sub = collect(client.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    expect(await bounded(client.ask('session/a', { type: 'x' }), 'ask 1')).toBe(1);
    const second = collect(client.subscribe('session/b'));
    await bounded(conn.next('subscribe'), 'subscribe 2');
    expect(await bounded(client.ask('session/a', { type: 'x' }), 'ask 2')).toBe(1);
    expect(sockets).toHaveLength(1);
    sub.subscription.unsubscribe();
    second.subscription.unsubscribe();
  });

  it('waits out the reconnect delay even when new work arrives meanwhile', async () => {
    const server = track(await fakeServer({ refuseWith: 503 }));
    const { WebSocket, sockets } = trackedWebSocket();
    const clock = new SimulatedClock();
    const closes: number[] = [];
    const client = track(connect(server.url, { clock, random: () => 0.5, WebSocket, on: { closed: (info) => closes.push(info.code) } }));
    const sub = client.subscribe('session/a').subscribe();
    await bounded(waitFor(() => closes.length === 1), 'the refused attempt');
    server.options.refuseWith = undefined;
    const asked = client.ask('session/a', { type: 'x' }).catch((e: unknown) => e);
    const other = client.subscribe('session/b').subscribe();
    await flushMicrotasks();
    expect(sockets).toHaveLength(1);
    clock.advance(250);
    const conn = await bounded(server.nextConnection(), 'the reconnect');
    await bounded(conn.next('ask'), 'the ask');
    expect(sockets).toHaveLength(2);
    sub.unsubscribe();
    other.unsubscribe();
    void asked;
  });

  it('schedules no reconnect after a retryable close of an idle socket, and connects at once for new work', async () => {
    const server = track(await fakeServer({ onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'result', id: m.id, payload: { data: 1 } }) }));
    const clock = new SimulatedClock();
    const closes: number[] = [];
    const client = track(connect(server.url, { clock, idleMs: 60_000, on: { closed: (info) => closes.push(info.code) } }));
    expect(await bounded(client.ask('session/a', { type: 'x' }), 'ask 1')).toBe(1);
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    conn1.socket.close(1012, 'restarting');
    await bounded(waitFor(() => closes.length === 1), 'the close');
    expect(clock.pending('work')).toBe(0);
    expect(await bounded(client.ask('session/a', { type: 'x' }), 'ask 2')).toBe(1);
    expect(server.connections).toHaveLength(2);
  });

  it('times the idle close from the last work: a request while the idle delay runs starts it again', async () => {
    const server = track(await fakeServer({ onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'result', id: m.id, payload: { data: 1 } }) }));
    const clock = new SimulatedClock();
    const client = track(connect(server.url, { clock, idleMs: 1_000 }));
    expect(await bounded(client.ask('session/a', { type: 'x' }), 'ask 1')).toBe(1); // idle from 0
    const conn = await bounded(server.nextConnection(), 'a connection');
    clock.advance(600);
    expect(await bounded(client.ask('session/a', { type: 'x' }), 'ask 2')).toBe(1); // idle from 600
    clock.advance(400);
    expect(await stillOpen(conn)).toBe('open');
    clock.advance(599);
    expect(await stillOpen(conn)).toBe('open');
    clock.advance(1);
    expect(await bounded(conn.closed, 'the idle close')).toEqual({ code: 1000, reason: 'idle' });
  });

  it('times the idle close from when the work ended, also when the ack comes after it ended', async () => {
    const server = track(await fakeServer({ ack: false, onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'result', id: m.id, payload: { data: 1 } }) }));
    const clock = new SimulatedClock();
    const client = track(connect(server.url, { clock, idleMs: 1_000, ackTimeoutMs: 60_000 }));
    const sub = client.subscribe('session/a').subscribe();
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('connection_init'), 'init');
    sub.unsubscribe(); // the work ends before the ack: idle from 0
    clock.advance(100);
    conn.send({ type: 'connection_ack', payload: { epoch: 1, heartbeatMs: 0 } });
    expect(await stillOpen(conn)).toBe('open');
    clock.advance(100);
    expect(await bounded(client.ask('session/a', { type: 'x' }), 'an ask')).toBe(1); // idle from 200
    clock.advance(800);
    expect(await stillOpen(conn)).toBe('open');
    clock.advance(200);
    expect(await bounded(conn.closed, 'the idle close')).toEqual({ code: 1000, reason: 'idle' });
  });

  it('sends no complete for a subscription dropped before the ack, and one for a subscription sent', async () => {
    const server = track(await fakeServer({ ack: false }));
    const client = track(connect(server.url, { clock: new SimulatedClock(), ackTimeoutMs: 60_000 }));
    const early = client.subscribe('session/a').subscribe();
    const kept = client.subscribe('session/b').subscribe();
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('connection_init'), 'init');
    early.unsubscribe();
    conn.send({ type: 'connection_ack', payload: { epoch: 1, heartbeatMs: 0 } });
    const sent = await bounded(conn.next('subscribe'), 'subscribe');
    expect(sent.payload).toEqual({ address: 'session/b' });
    kept.unsubscribe();
    expect(await bounded(conn.next('complete'), 'complete')).toEqual({ type: 'complete', id: sent.id });
    expect(conn.received.map((m) => m.type)).toEqual(['connection_init', 'subscribe', 'complete']);
  });
});

/** Resolves once `check` holds, looking after each macrotask (bounded by the caller). */
async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}
