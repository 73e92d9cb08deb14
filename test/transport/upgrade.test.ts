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

describe('WebSocket upgrade', () => {
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
