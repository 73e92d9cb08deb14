/**
 * One client socket (src/client/Connection.ts) against a real `ws` server on port 0 that
 * each test scripts frame by frame (test/client/fakeServer.ts), on a SimulatedClock: the
 * handshake and its timeout, keep-alive, which server frames close the socket (code and
 * reason, as the server sees them and as `closed` reports them), the close reported once,
 * and how a refused upgrade or a dropped socket is reported.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { SimulatedClock } from '../../src/clock.js';
import { Connection, type CloseInfo, type ConnectionOptions } from '../../src/client/Connection.js';
import type { WebSocketConstructor } from '../../src/client/index.js';
import { outcome } from '../helpers/outcome.js';
import { fakeServer, type FakeConn, type FakeServer } from './fakeServer.js';
import { bounded, closeAfterEach } from './helpers.js';

const track = closeAfterEach();

type Logged = ['ack', unknown] | ['message', unknown] | ['closed', CloseInfo];

/** A Connection to `server` whose handler calls are logged in order; `closed` resolves with its close report. */
function open(server: FakeServer, options: Partial<ConnectionOptions> = {}) {
  const clock = new SimulatedClock();
  const log: Logged[] = [];
  let ackd!: () => void;
  const acked = new Promise<void>((resolve) => (ackd = resolve));
  let report!: (info: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((resolve) => (report = resolve));
  const connection = new Connection(
    { url: server.url, token: undefined, WebSocket: NodeWebSocket as unknown as WebSocketConstructor, clock, ackTimeoutMs: 5_000, keepAliveMs: 0, ...options },
    {
      ack: (payload) => {
        log.push(['ack', payload]);
        ackd();
      },
      message: (message) => void log.push(['message', message]),
      closed: (info) => {
        log.push(['closed', info]);
        report(info);
      },
    },
  );
  track({
    close: async () => {
      connection.close(1000, 'test over');
      await connection.gone;
    },
  });
  return { connection, clock, log, acked: () => bounded(acked, 'the ack'), closed: () => bounded(closed, 'the close report') };
}

const ack = { type: 'connection_ack', payload: { epoch: 1, heartbeatMs: 0 } };

/** A Connection to a new server that does not ack, once the server has its init. */
async function unacked(options: Partial<ConnectionOptions> = {}) {
  const server = track(await fakeServer({ ack: false }));
  const opened = open(server, options);
  const conn = await bounded(server.nextConnection(), 'a connection');
  await bounded(conn.next('connection_init'), 'init');
  return { ...opened, conn };
}

/** Both ends saw the close: `closed` reported `info`, and the server got its code and reason. */
async function expectClose(reported: () => Promise<CloseInfo>, conn: FakeConn, info: CloseInfo): Promise<void> {
  expect(await reported()).toStrictEqual(info);
  expect(await bounded(conn.closed, 'the server-side close')).toEqual({ code: info.code, reason: info.reason });
}

describe('a client connection', () => {
  it('offers no compression and sends no Authorization header without a token; its init asks for batches', async () => {
    const server = track(await fakeServer({ ack: false }));
    open(server);
    const conn = await bounded(server.nextConnection(), 'a connection');
    expect(await bounded(conn.next('connection_init'), 'init')).toEqual({ type: 'connection_init', payload: { batch: true } });
    expect(conn.request.headers.authorization).toBeUndefined();
    expect(conn.request.headers['sec-websocket-extensions']).toBeUndefined();
    expect(conn.request.headers['sec-websocket-protocol']).toBe('interlock.v1');
  });

  it("refuses a socket on which the server did not choose interlock.v1 (a WebSocket that did not offer it), naming what it chose", async () => {
    const server = track(await fakeServer());
    // A lax implementation that drops the subprotocol it was given: the server then picks none.
    const NoSubprotocol = class extends NodeWebSocket {
      constructor(url: string, _protocol: string, options: object) {
        super(url, [], options);
      }
    };
    const { closed, log } = open(server, { WebSocket: NoSubprotocol as unknown as WebSocketConstructor });
    const conn = await bounded(server.nextConnection(), 'a connection');
    const reason = "server chose subprotocol '', not interlock.v1";
    await expectClose(closed, conn, { code: 4400, reason, retryable: false });
    expect(conn.received).toEqual([]); // not even the init
    expect(log).toEqual([['closed', { code: 4400, reason, retryable: false }]]);
  });

  it('gives up with 4504 (retryable) when no ack comes within ackTimeoutMs, on a guard timer', async () => {
    const server = track(await fakeServer({ ack: false }));
    const { clock, closed, log } = open(server, { ackTimeoutMs: 5_000 });
    // The ack timeout only bounds the socket (unref'd on the system clock): no work timer.
    expect({ work: clock.pending('work'), guard: clock.pending('guard') }).toEqual({ work: 0, guard: 1 });
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('connection_init'), 'init');
    clock.advance(4_999);
    expect(log).toEqual([]);
    clock.advance(1);
    const info = { code: 4504, reason: 'no connection_ack in time', retryable: true };
    await expectClose(closed, conn, info);
    expect(clock.pending()).toBe(0);
  });

  it('reads a pong before the ack without closing, hands the ack on, and never hands on a pong', async () => {
    const { conn, acked, log } = await unacked();
    conn.send({ type: 'pong' }); // an unsolicited pong is a heartbeat, allowed at any time
    conn.send({ type: 'connection_ack', payload: { epoch: 9, heartbeatMs: 0 } });
    await acked();
    conn.send({ type: 'pong', payload: { n: 1 } });
    conn.send({ type: 'complete', id: 'x' });
    // A round trip: once the client answers this ping it has read every frame sent before it.
    conn.send({ type: 'ping' });
    await bounded(conn.next('pong'), 'the pong');
    expect(log).toEqual([
      ['ack', { epoch: 9, heartbeatMs: 0 }],
      ['message', { type: 'complete', id: 'x' }],
    ]);
  });

  it("closes with 4400 on a message other than the ack before the ack, naming its type", async () => {
    const { conn, closed, log } = await unacked();
    conn.send({ type: 'complete', id: '1' });
    const reason = "server sent 'complete' before connection_ack";
    await expectClose(closed, conn, { code: 4400, reason, retryable: false });
    expect(log).toHaveLength(1);
  });

  it('closes with 4400 on a second connection_ack', async () => {
    const server = track(await fakeServer());
    const { acked, closed, log } = open(server);
    const conn = await bounded(server.nextConnection(), 'a connection');
    await acked();
    conn.send(ack);
    const reason = 'server sent a second connection_ack';
    await expectClose(closed, conn, { code: 4400, reason, retryable: false });
    expect(log.map(([what]) => what)).toEqual(['ack', 'closed']);
  });

  it('stops reading a batched frame at the message that closed the socket: nothing after it is handled', async () => {
    const { conn, closed, log } = await unacked();
    conn.sendRaw(JSON.stringify([{ type: 'complete', id: '1' }, ack, { type: 'complete', id: '2' }]));
    await closed();
    await bounded(conn.closed, 'the server-side close');
    expect(log).toEqual([['closed', { code: 4400, reason: "server sent 'complete' before connection_ack", retryable: false }]]);
  });

  it('closes with 4400 on a binary frame, even one holding a good message, and on a frame that is not JSON', async () => {
    const reason = 'server sent a frame that is not an interlock.v1 message';
    for (const bad of [(c: { socket: NodeWebSocket }) => c.socket.send(Buffer.from('{"type":"pong"}'), { binary: true }), (c: { socket: NodeWebSocket }) => c.socket.send('{"type":')]) {
      const server = track(await fakeServer());
      const { acked, closed } = open(server);
      const conn = await bounded(server.nextConnection(), 'a connection');
      await acked();
      bad(conn);
      await expectClose(closed, conn, { code: 4400, reason, retryable: false });
    }
  });

  it("sends nothing before the ack (the init aside), and what it is given after", async () => {
    const { conn, connection, acked } = await unacked();
    connection.send({ type: 'complete', id: 'early' });
    conn.send(ack);
    await acked();
    connection.send({ type: 'complete', id: 'late' });
    expect(await bounded(conn.next('complete'), 'a complete')).toEqual({ type: 'complete', id: 'late' });
    expect(conn.received.map((m) => m.type)).toEqual(['connection_init', 'complete']);
  });

  it("pings each heartbeatMs from the ack and gives up with 4499 (retryable) on a server silent for a period after a ping", async () => {
    const server = track(await fakeServer({ mute: true, heartbeatMs: 1_000 }));
    const { clock, acked, closed, log } = open(server, { keepAliveMs: undefined });
    const conn = await bounded(server.nextConnection(), 'a connection');
    await acked();
    // Keep-alive only bounds the socket (unref'd on the system clock): no work timer.
    expect({ work: clock.pending('work'), guard: clock.pending('guard') }).toEqual({ work: 0, guard: 1 });
    clock.advance(999);
    clock.advance(1); // a period after the ack (itself heard): ping
    expect(await bounded(conn.next('ping'), 'a ping')).toEqual({ type: 'ping' });
    expect({ work: clock.pending('work'), guard: clock.pending('guard') }).toEqual({ work: 0, guard: 1 });
    clock.advance(999);
    expect(log.map(([what]) => what)).toEqual(['ack']);
    clock.advance(1);
    const reason = 'server silent for 1000 ms after a ping';
    await expectClose(closed, conn, { code: 4499, reason, retryable: true });
    expect(clock.pending()).toBe(0);
  });

  it('reports closed once, whoever closes first and however often close() is called', async () => {
    const server = track(await fakeServer());
    const first = open(server);
    const conn = await bounded(server.nextConnection(), 'a connection');
    await first.acked();
    first.connection.close(1000, 'bye');
    first.connection.close(4000, 'again');
    expect(await bounded(conn.closed, 'the server-side close')).toEqual({ code: 1000, reason: 'bye' });
    await bounded(first.connection.gone, 'the socket gone');
    expect(first.log).toEqual([['ack', { epoch: 1, heartbeatMs: 0 }], ['closed', { code: 1000, reason: 'bye', retryable: false }]]);

    const second = open(server);
    const conn2 = await bounded(server.nextConnection(), 'a second connection');
    await second.acked();
    conn2.socket.close(1012, 'restarting');
    expect(await second.closed()).toStrictEqual({ code: 1012, reason: 'restarting', retryable: true });
    await bounded(second.connection.gone, 'the socket gone');
    second.connection.close(1000, 'late');
    expect(second.log.map(([what]) => what)).toEqual(['ack', 'closed']);
  });

  it("reports a refused upgrade as 1006 with the HTTP status and a reason naming it; only 401 and 403 as terminal", async () => {
    for (const [status, retryable] of [[401, false], [403, false], [503, true], [404, true]] as const) {
      const server = track(await fakeServer({ refuseWith: status }));
      const { closed } = open(server);
      expect(await closed(), `HTTP ${status}`).toStrictEqual({ code: 1006, reason: `upgrade refused with HTTP ${status}`, retryable, httpStatus: status });
    }
  });

  it("reports a dropped socket with the server's code and reason, and no HTTP status", async () => {
    const server = track(await fakeServer());
    const cut = open(server);
    const conn = await bounded(server.nextConnection(), 'a connection');
    await cut.acked();
    conn.socket.terminate();
    expect(await cut.closed()).toStrictEqual({ code: 1006, reason: '', retryable: true });

    const told = open(server);
    const conn2 = await bounded(server.nextConnection(), 'a second connection');
    await told.acked();
    conn2.socket.close(4403, 'Forbidden');
    expect(await told.closed()).toStrictEqual({ code: 4403, reason: 'Forbidden', retryable: false });
  });

  it('counts a socket that refuses close() while connecting as gone at once, and closes it once it opens', async () => {
    const server = track(await fakeServer());
    const RefusesCloseWhileConnecting = class extends NodeWebSocket {
      override close(code?: number, reason?: string): void {
        if (this.readyState === NodeWebSocket.CONNECTING) throw new Error('still connecting');
        super.close(code, reason);
      }
    };
    const { connection, clock, closed } = open(server, { WebSocket: RefusesCloseWhileConnecting as unknown as WebSocketConstructor, ackTimeoutMs: 100 });
    clock.advance(100); // before the socket could open
    expect(await closed()).toStrictEqual({ code: 4504, reason: 'no connection_ack in time', retryable: true });
    expect(await outcome(connection.gone)).toEqual({ status: 'fulfilled', value: undefined });
    // Not left open: the server sees it closed with the same code and reason.
    const conn = await bounded(server.nextConnection(), 'the connection');
    expect(await bounded(conn.closed, 'the server-side close')).toEqual({ code: 4504, reason: 'no connection_ack in time' });
    expect(conn.received).toEqual([]);
  });
});
