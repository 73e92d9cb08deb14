/**
 * What a connection writes to the operator's log (the `logger` option), line by line with
 * its fields: who closed (`ws_closing` with the code and reason the server sent, or
 * `ws_closed_by_peer` only when the client closed first), the protocol errors ws reports,
 * a request that failed inside the server (and only those: a coded refusal is the
 * client's business), an internal error, a missed heartbeat. Each test reads the whole log
 * after `ws_connected`, so a line logged twice or too many shows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/index.js';
import { CloseCode } from '../../src/transport/protocol.js';
import { closeAllServers, RawClient, startServer, until, type TestServer } from './helpers.js';

afterEach(closeAllServers);

/** The log after the connection lines (`ws_connected`), whose count depends on the test's clients. */
const logged = (s: TestServer) => s.logs.filter((l) => l.msg !== 'ws_connected');

describe('who closed the connection', () => {
  it('logs ws_closed_by_peer with the code when the client closes first, and nothing more', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.ws.close(4000, 'bye');
    await until(() => s.transport.size === 0);
    expect(logged(s)).toEqual([{ level: 'info', msg: 'ws_closed_by_peer', fields: { code: 4000 } }]);
    expect(await c.closed).toEqual({ code: 4000, reason: 'bye' });
  });

  it('logs ws_closing with the code and reason when the server closes, and no ws_closed_by_peer when the client answers', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'connection_init' });
    expect((await c.closed).code).toBe(CloseCode.TooManyRequests);
    // Resolves once the server's socket has closed too (its close listeners have run).
    await s.transport.close();
    expect(logged(s)).toEqual([{ level: 'info', msg: 'ws_closing', fields: { code: CloseCode.TooManyRequests, reason: 'Too many initialisation requests' } }]);
  });

  it('logs nothing more when an async authorize rejects after the client left: the connection is not closed twice', async () => {
    let reject!: (err: Error) => void;
    const authorize = () => new Promise<boolean>((_resolve, r) => (reject = r));
    const s = await startServer({ authorize });
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'a', payload: { address: 'vault/1' } });
    await until(() => reject !== undefined);
    c.ws.close(4000);
    await until(() => s.transport.size === 0);
    const down = new Error('policy store down');
    reject(down);
    await until(() => s.logs.some((l) => l.msg === 'ws_internal_error'));
    expect(logged(s)).toEqual([
      { level: 'info', msg: 'ws_closed_by_peer', fields: { code: 4000 } },
      { level: 'error', msg: 'ws_internal_error', fields: { err: down } },
    ]);
  });
});

describe('errors', () => {
  it('logs ws_protocol_error with the code and message ws reports (a frame over maxPayload), and not that the peer closed', async () => {
    const s = await startServer({ maxPayload: 1_024 });
    const c = await RawClient.connect(s);
    c.send({ type: 'ping', payload: { pad: 'x'.repeat(2_000) } });
    expect((await c.closed).code).toBe(CloseCode.MessageTooBig);
    await s.transport.close();
    // ws closed the connection (1009), not the client: no ws_closed_by_peer follows.
    // ws closed the connection (1009), not the client: no ws_closed_by_peer (code 1006) follows.
    expect(logged(s)).toEqual([{ level: 'info', msg: 'ws_protocol_error', fields: { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', err: 'Max payload size exceeded' } }]);
  });

  it('logs ws_request_failed with the id and the cause for an answer that failed inside the server, and nothing for a coded refusal', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'ask', id: 'unknown', payload: { address: 'nokind/1', event: { type: 'get' } } });
    c.send({ type: 'ask', id: 'big', payload: { address: 'vault/1', event: { type: 'bigint' } } });
    const refused = await c.until((m) => m.type === 'error' && m.id === 'unknown');
    expect(refused).toMatchObject({ payload: { code: 'INTERLOCK_UNKNOWN_KIND' } });
    const failed = await c.until((m) => m.type === 'error' && m.id === 'big');
    expect(failed).toMatchObject({ payload: { code: 'INTERLOCK_INTERNAL' } });
    expect(logged(s)).toEqual([{ level: 'error', msg: 'ws_request_failed', fields: { id: 'big', err: expect.any(TypeError) } }]);
    expect(String(logged(s)[0]!.fields.err)).toContain('BigInt');
  });

  it('logs ws_internal_error with the cause when the authorize hook throws, then ws_closing 4500', async () => {
    const down = new Error('policy store down');
    const s = await startServer({
      authorize: () => {
        throw down;
      },
    });
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'a', payload: { address: 'vault/1' } });
    expect((await c.closed).code).toBe(CloseCode.InternalError);
    await s.transport.close();
    expect(logged(s)).toEqual([
      { level: 'error', msg: 'ws_internal_error', fields: { err: down } },
      { level: 'info', msg: 'ws_closing', fields: { code: CloseCode.InternalError, reason: 'Internal error' } },
    ]);
  });
});

describe('heartbeat', () => {
  it('logs ws_heartbeat_missed with heartbeatMs when it terminates a peer that did not answer, and nothing more', async () => {
    const clock = new SimulatedClock();
    const s = await startServer({ clock, heartbeatMs: 1_000 });
    const deaf = await RawClient.connect(s, { autoPong: false });
    clock.advance(1_000);
    clock.advance(1_000);
    expect((await deaf.closed).code).toBe(1006);
    await s.transport.close();
    expect(logged(s)).toEqual([{ level: 'info', msg: 'ws_heartbeat_missed', fields: { heartbeatMs: 1_000 } }]);
  });
});
