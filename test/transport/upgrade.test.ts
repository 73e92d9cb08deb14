/**
 * The upgrade and the socket options of the WebSocket server, as a hostile client meets them:
 * a refused upgrade is logged and its socket let go even when the client never closes its
 * side; no compression is negotiated (no permessage-deflate: no zip bombs, no CPU spent
 * inflating) whatever the client offers; a text frame that is not UTF-8 is refused by ws
 * (1007) before anything parses it.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SUBPROTOCOL } from '../../src/transport/protocol.js';
import { closeAllServers, RawClient, refused, startServer, type TestServer } from './helpers.js';

afterEach(closeAllServers);

/** Resolves once `cond` holds, polling every 20 ms (bounded: 10 s, then fails naming `what`). */
async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting until ${what}`);
}

const connections = (s: TestServer) => new Promise<number>((resolve, reject) => s.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

/** Sends a raw upgrade request for `target` with these extra header lines; resolves with the whole answer once the server ends. */
function rawUpgrade(s: TestServer, target: string, headers: string[] = [`Sec-WebSocket-Protocol: ${SUBPROTOCOL}`]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: s.port, host: '127.0.0.1' });
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      // A 101 is not ended by the server: stop at the end of its head.
      if (answer.startsWith('HTTP/1.1 101') && answer.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 2).toString('base64')}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`);
  });
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };

describe('WebSocket upgrade', () => {
  it('refuses each bad upgrade with a status, a code and a message that names the fix', async () => {
    const s = await startServer({ token: 'tk', origins: ['https://app.example'] });
    const auth = { authorization: 'Bearer tk' };
    expect(await refused(s.url)).toEqual({
      status: 401,
      body: { error: expect.objectContaining({ code: 'INTERLOCK_UNAUTHORIZED', message: 'Missing or invalid token. Send `Authorization: Bearer <token>`, or `?token=<token>` from a browser.' }) },
    });
    expect(await refused(s.url, { headers: { ...auth, origin: 'https://evil.example' } })).toEqual({
      status: 403,
      body: { error: expect.objectContaining({ code: 'INTERLOCK_FORBIDDEN', message: "This Origin may not open a WebSocket here. Add it to the server's WebSocket `origins`." }) },
    });
    expect(await refused(s.url, { headers: auth, protocols: ['graphql-transport-ws'] })).toEqual({
      status: 400,
      body: { error: expect.objectContaining({ code: 'INTERLOCK_INVALID_REQUEST', message: "Offer the WebSocket subprotocol 'interlock.v1' (Sec-WebSocket-Protocol)." }) },
    });
    expect(await refused(s.url.replace(/\/ws$/, '/other'), { headers: auth })).toEqual({
      status: 404,
      body: { error: expect.objectContaining({ code: 'INTERLOCK_NOT_FOUND', message: 'No WebSocket endpoint at this path; it is /ws.' }) },
    });
    const malformed = await rawUpgrade(s, '//');
    expect(malformed).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(bodyOf(malformed).error).toMatchObject({ code: 'INTERLOCK_INVALID_REQUEST', message: 'Malformed request URL.' });
    await s.transport.close();
    expect(await refused(s.url, { headers: auth })).toEqual({
      status: 503,
      body: { error: expect.objectContaining({ code: 'INTERLOCK_SHUTTING_DOWN', message: 'The server is shutting down and refuses new work; retry against another instance.' }) },
    });
  });

  it('leaves another path to another upgrade listener, and answers 404 only when there is none', async () => {
    const s = await startServer();
    s.server.on('upgrade', (req, socket) => {
      if (req.url === '/other') socket.end('HTTP/1.1 418 I\'m a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    expect(await rawUpgrade(s, '/other')).toMatch(/^HTTP\/1\.1 418 /);
  });

  it('accepts interlock.v1 among other subprotocols, with spaces after the commas', async () => {
    const s = await startServer();
    const answer = await rawUpgrade(s, '/ws', [`Sec-WebSocket-Protocol: graphql-ws, ${SUBPROTOCOL}`]);
    expect(answer).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(answer).toContain(`Sec-WebSocket-Protocol: ${SUBPROTOCOL}\r\n`);
  });

  it('destroys a socket that errors during the upgrade (a reset), instead of throwing', async () => {
    const s = await startServer({ token: 'tk' });
    const seen: boolean[] = [];
    // After attachWebSocket's listener: the socket it just refused errors, as a reset one would.
    s.server.on('upgrade', (_req, socket) => {
      socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      seen.push(socket.destroyed);
    });
    await rawUpgrade(s, '/ws').catch(() => '');
    expect(seen).toEqual([true]);
  });

  it('logs each connection as ws_connected with the count', async () => {
    const s = await startServer();
    await RawClient.connect(s);
    await RawClient.connect(s, { init: false });
    expect(s.logs.filter((l) => l.msg === 'ws_connected')).toEqual([
      { level: 'info', msg: 'ws_connected', fields: { connections: 1 } },
      { level: 'info', msg: 'ws_connected', fields: { connections: 2 } },
    ]);
  });

  it('close() says why: shutting down (1001, the default), restarting (1012)', async () => {
    const reasons: { code: number; reason: string }[] = [];
    for (const code of [undefined, 1012, 1001] as const) {
      const s = await startServer();
      const c = await RawClient.connect(s);
      await s.transport.close(code);
      reasons.push(await c.closed);
    }
    expect(reasons).toEqual([
      { code: 1001, reason: 'The server is shutting down' },
      { code: 1012, reason: 'The server is restarting' },
      { code: 1001, reason: 'The server is shutting down' },
    ]);
  });

  it('close() resolves once every socket has closed, also one whose client does not answer the close', async () => {
    const s = await startServer({ closeTimeoutMs: 100 });
    const c = await RawClient.connect(s);
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await s.transport.close();
    expect(await connections(s)).toBe(0);
  });

  it('logs each refusal as ws_refused with its status and code', async () => {
    const s = await startServer({ token: 'tk' });
    await refused(s.url);
    await refused(s.url.replace(/\/ws$/, '/other'), { headers: { authorization: 'Bearer tk' } });
    expect(s.logs.filter((l) => l.msg === 'ws_refused')).toEqual([
      { level: 'info', msg: 'ws_refused', fields: { status: 401, code: 'INTERLOCK_UNAUTHORIZED' } },
      { level: 'info', msg: 'ws_refused', fields: { status: 404, code: 'INTERLOCK_NOT_FOUND' } },
    ]);
  });

  it('lets go of a refused socket once the answer is written, even when the client keeps its side open', async () => {
    const s = await startServer({ token: 'tk' });
    const socket = connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    const ended = new Promise<void>((resolve) => socket.once('end', resolve));
    socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 1).toString('base64')}\r\nSec-WebSocket-Protocol: ${SUBPROTOCOL}\r\n\r\n`);
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    // The client has not ended its side; the server must not wait for it.
    await eventually(async () => (await connections(s)) === 0, 'the server closed the refused socket');
    socket.destroy();
  });

  it('negotiates no compression, even when the client offers permessage-deflate', async () => {
    const s = await startServer();
    const ws = new WebSocket(s.url, [SUBPROTOCOL], { perMessageDeflate: true });
    let headers: Record<string, string | string[] | undefined> = {};
    ws.once('upgrade', (res) => (headers = res.headers));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(headers['sec-websocket-protocol']).toBe(SUBPROTOCOL);
    expect(headers['sec-websocket-extensions']).toBeUndefined();
    expect(ws.extensions).toBe('');
    ws.terminate();
  });

  it('closes 1007 on a text frame that is not UTF-8, before anything parses it', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await c.closed).code).toBe(1007);
    expect(c.messages.filter((m) => m.type === 'error')).toEqual([]);
  });
});
