/**
 * The browser entry of `interlock/client` (src/client/browser.ts), run in Node so it is
 * measured with the rest (the Chromium run, test/client/browser.test.ts, loads its bundle):
 * the global WebSocket as the default implementation, a clear error when there is none, and
 * the token in the URL by default (a browser cannot set headers on a WebSocket).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { connect } from '../../src/client/browser.js';
import { isInterlockError, type WebSocketConstructor } from '../../src/client/index.js';
import { fakeServer } from './fakeServer.js';
import { bounded, closeAfterEach, collect } from './helpers.js';

const track = closeAfterEach();
afterEach(() => void vi.unstubAllGlobals());

const tokenInUrl = (url: string | undefined) => new URL(url!, 'http://x').searchParams.get('token');

describe('the browser entry of the client', () => {
  it('uses the global WebSocket, and puts the token in the URL', async () => {
    vi.stubGlobal('WebSocket', NodeWebSocket);
    const server = track(await fakeServer());
    const client = track(connect(server.url, { token: 't k' }));
    const sub = client.subscribe('session/a').subscribe();
    const conn = await bounded(server.nextConnection(), 'a connection');
    expect(tokenInUrl(conn.request.url)).toBe('t k');
    await bounded(conn.next('subscribe'), 'subscribe');
    sub.unsubscribe();
  });

  it('prefers the WebSocket it is given, and keeps the token out of the URL when told to', async () => {
    vi.stubGlobal('WebSocket', undefined);
    const server = track(await fakeServer());
    const client = track(connect(server.url, { token: 't k', tokenInQuery: false, WebSocket: NodeWebSocket as unknown as WebSocketConstructor }));
    const sub = client.subscribe('session/a').subscribe();
    const conn = await bounded(server.nextConnection(), 'a connection');
    expect(tokenInUrl(conn.request.url)).toBeNull();
    await bounded(conn.next('subscribe'), 'subscribe');
    sub.unsubscribe();
  });

  it('fails what it was asked for with INTERLOCK_CONNECTION_CLOSED, saying to pass a WebSocket, where there is no global one', async () => {
    vi.stubGlobal('WebSocket', undefined);
    const client = track(connect('ws://127.0.0.1:9/ws'));
    const got = collect(client.subscribe('session/a'));
    await bounded(got.ended, 'the subscription to fail');
    expect(isInterlockError(got.error, 'INTERLOCK_CONNECTION_CLOSED')).toBe(true);
    expect((got.error as Error).message).toBe('No WebSocket implementation: this environment has no global WebSocket. Pass connect(url, { WebSocket }).');
  });
});
