/**
 * The close reasons of the init phase, as the client reads them (code and text: the text is
 * what a developer sees in the browser's CloseEvent), a token first given in
 * `connection_init` on an open server, and frames that arrive after the server closed: they
 * are dropped, not handled (a `send` behind a closing frame reaches no actor).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizeRequest } from '../../src/transport/options.js';
import { CloseCode } from '../../src/transport/protocol.js';
import { closeAllServers, RawClient, startServer } from './helpers.js';

afterEach(closeAllServers);

describe('the init phase closes with a reason that names the fix', () => {
  it('4400 for a frame that is not a valid connection_init: "Invalid message: expected connection_init (see docs/protocol.md)"', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s, { init: false });
    c.send('not json');
    expect(await c.closed).toEqual({ code: CloseCode.BadRequest, reason: 'Invalid message: expected connection_init (see docs/protocol.md)' });
  });

  it('4401 "Unauthorized" for another message before the ack', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s, { init: false });
    c.send({ type: 'ping' });
    expect(await c.closed).toEqual({ code: CloseCode.Unauthorized, reason: 'Unauthorized' });
  });

  it('4403 "Forbidden" for a connection_init token that differs from the upgrade\'s', async () => {
    const s = await startServer({ authenticate: (t) => t === 'alice-token' || t === 'bob-token' });
    const c = await RawClient.connect(s, { token: 'alice-token', init: false });
    c.send({ type: 'connection_init', payload: { token: 'bob-token' } });
    expect(await c.closed).toEqual({ code: CloseCode.Forbidden, reason: 'Forbidden' });
  });
});

describe('a token first given in connection_init', () => {
  it('is accepted by an open server (no upgrade token to match) and is the one the authorize hook sees', async () => {
    const seen: (string | undefined)[] = [];
    const authorize = ({ token }: AuthorizeRequest) => (seen.push(token), true);
    const s = await startServer({ authorize });
    const c = await RawClient.connect(s, { init: { token: 'late-token' } });
    expect(c.messages[0]).toMatchObject({ type: 'connection_ack' });
    c.send({ type: 'send', id: 'a', payload: { address: 'vault/1', event: { type: 'inc' } } });
    expect(await c.until((m) => m.type === 'result' && m.id === 'a')).toEqual({ type: 'result', id: 'a', payload: { data: null } });
    expect(seen).toEqual(['late-token']);
  });
});

describe('frames behind the frame that closed the connection', () => {
  it('are dropped: a send after a second connection_init reaches no actor', async () => {
    const s = await startServer();
    const reached: string[] = [];
    s.rt.events$.subscribe((r) => reached.push(`${r.address} ${r.type}`));
    const c = await RawClient.connect(s);
    // Both leave in one write: the server reads the send after it has closed 4429.
    c.send({ type: 'connection_init' });
    c.send({ type: 'send', id: 'late', payload: { address: 'vault/late', event: { type: 'inc' } } });
    expect(await c.closed).toEqual({ code: CloseCode.TooManyRequests, reason: 'Too many initialisation requests' });
    // The server read the send before the client's close frame, and has seen that close.
    await s.transport.close();
    await s.rt.shutdown({ drain: true });
    expect(reached).toEqual([]);
    expect(c.messages.map((m) => m.type)).toEqual(['connection_ack']);
  });
});
