/**
 * The connection's edges, each provoked on a real socket: refusals before the upgrade
 * (401, 403 Origin, 400 subprotocol, 404 path), the init phase (4408, 4401, 4400, 4403),
 * the ready phase's terminal codes (4429 second init and rate limit, 4400 binary, 4500),
 * ws's own limits (1009 oversized frame, 1008 fragment flood, GHSA-96hv-2xvq-fx4p), the
 * heartbeat, and server shutdown or restart (1001, 1012). Time is simulated where the server
 * takes a clock (init timeout, heartbeat, rate limit).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/index.js';
import { CloseCode } from '../../src/transport/protocol.js';
import { closeAllServers, RawClient, refused, startServer } from './helpers.js';

afterEach(closeAllServers);

describe('before the upgrade', () => {
  it('answers 401 without the token or with a wrong one, and takes it from the header or ?token=', async () => {
    const s = await startServer({ token: 's3cret' });
    expect(await refused(s.url)).toMatchObject({ status: 401, body: { error: { code: 'INTERLOCK_UNAUTHORIZED' } } });
    expect(await refused(`${s.url}?token=s3cre`)).toMatchObject({ status: 401 });
    expect(await refused(s.url, { headers: { authorization: 'Bearer s3cret!' } })).toMatchObject({ status: 401 });
    const byQuery = await RawClient.connect(s, { token: 's3cret' });
    const byHeader = await RawClient.connect(s, { token: 's3cret', header: true });
    expect(byQuery.messages[0]).toMatchObject({ type: 'connection_ack', payload: { heartbeatMs: 15_000, batch: false } });
    expect(byHeader.messages[0]!.type).toBe('connection_ack');
    expect(s.transport.size).toBe(2);
  });

  it("answers 403 to an Origin that is neither the server's own nor allowlisted", async () => {
    const s = await startServer({ origins: ['https://app.example'] });
    expect(await refused(s.url, { headers: { origin: 'https://evil.example' } })).toMatchObject({ status: 403, body: { error: { code: 'INTERLOCK_FORBIDDEN' } } });
    expect(await refused(s.url, { headers: { origin: 'https://app.example.evil' } })).toMatchObject({ status: 403 });
    expect(await refused(s.url, { headers: { origin: 'null' } })).toMatchObject({ status: 403 });
    await RawClient.connect(s, { headers: { origin: 'https://app.example' } });
    await RawClient.connect(s, { headers: { origin: `http://127.0.0.1:${s.port}` } });
    await RawClient.connect(s); // no Origin: not a browser
  });

  it('answers 400 when interlock.v1 is not offered, and 404 on another path', async () => {
    const s = await startServer();
    expect(await refused(s.url, { protocols: ['graphql-transport-ws'] })).toMatchObject({ status: 400, body: { error: { code: 'INTERLOCK_INVALID_REQUEST' } } });
    expect(await refused(s.url.replace(/\/ws$/, '/other'))).toMatchObject({ status: 404, body: { error: { code: 'INTERLOCK_NOT_FOUND' } } });
  });
});

describe('connection_init', () => {
  it('closes 4408 when no connection_init arrives within the init timeout, even after an authenticated upgrade', async () => {
    const clock = new SimulatedClock();
    const s = await startServer({ clock, token: 't' });
    const c = await RawClient.connect(s, { token: 't', header: true, init: false });
    clock.advance(2_999);
    expect(s.transport.size).toBe(1);
    clock.advance(1);
    expect(s.transport.size).toBe(0);
    expect(await c.closed).toEqual({ code: CloseCode.InitTimeout, reason: 'Connection initialisation timeout' });
  });

  it('closes 4401 for any other message before the ack', async () => {
    const s = await startServer();
    for (const early of [{ type: 'ping' }, { type: 'subscribe', id: 'a', payload: { address: 'vault/1' } }]) {
      const c = await RawClient.connect(s, { init: false });
      c.send(early);
      expect((await c.closed).code, early.type).toBe(CloseCode.Unauthorized);
      expect(c.messages).toEqual([]);
    }
  });

  it('closes 4400 for a frame before the ack that is not a valid connection_init', async () => {
    const s = await startServer();
    for (const bad of ['not json', '{"type":"connection_init","payload":{"token":7}}', '[]']) {
      const c = await RawClient.connect(s, { init: false });
      c.send(bad);
      expect((await c.closed).code, bad).toBe(CloseCode.BadRequest);
    }
  });

  it('closes 4403 for a wrong token in connection_init, or one that differs from the upgrade', async () => {
    const tokens = new Set(['alice-token', 'bob-token']);
    const s = await startServer({ authenticate: (t) => tokens.has(t) });
    const wrong = await RawClient.connect(s, { token: 'alice-token', init: { token: 'mallory' } }).catch((e: Error) => e);
    expect(wrong).toBeInstanceOf(Error);
    const other = await RawClient.connect(s, { token: 'alice-token', init: false });
    other.send({ type: 'connection_init', payload: { token: 'bob-token' } });
    expect((await other.closed).code).toBe(CloseCode.Forbidden);
    const same = await RawClient.connect(s, { token: 'alice-token', init: { token: 'alice-token' } });
    expect(same.messages[0]!.type).toBe('connection_ack');
  });

  it('closes 4429 on a second connection_init', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'connection_init' });
    expect(await c.closed).toEqual({ code: CloseCode.TooManyRequests, reason: 'Too many initialisation requests' });
  });
});

describe('frames after the ack', () => {
  it('takes a pong message silently: no error, no close', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'pong' });
    c.send({ type: 'pong', payload: { t: 1 } });
    c.send({ type: 'ping', payload: { after: 'pongs' } });
    await c.until((m) => m.type === 'pong');
    expect(c.messages.slice(1)).toEqual([{ type: 'pong', payload: { after: 'pongs' } }]);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('closes 4400 on a binary frame', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.ws.send(Buffer.from('{"type":"ping"}'));
    expect(await c.closed).toEqual({ code: CloseCode.BadRequest, reason: 'Binary frames are not interlock.v1; send JSON text frames' });
  });

  it('closes 4429 when a client sends faster than its token bucket allows, and refills it over time', async () => {
    const clock = new SimulatedClock();
    const s = await startServer({ clock, rateLimit: { perSecond: 2, burst: 5 } });
    const c = await RawClient.connect(s); // the init took one token
    for (let i = 0; i < 4; i++) c.send({ type: 'ping', payload: { i } });
    await c.until((m) => m.type === 'pong' && (m.payload as { i: number }).i === 3);
    clock.advance(1_000); // two more tokens
    c.send({ type: 'ping', payload: { i: 4 } });
    c.send({ type: 'ping', payload: { i: 5 } });
    c.send({ type: 'ping', payload: { i: 6 } });
    expect(await c.closed).toEqual({ code: CloseCode.TooManyRequests, reason: 'Too many messages; slow down (rate limit)' });
    expect(c.messages.filter((m) => m.type === 'pong').map((m) => (m.payload as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('closes 4500 when the authorize hook throws, and says nothing more about it', async () => {
    const s = await startServer({
      authorize: () => {
        throw new Error('policy store down: password=hunter2');
      },
    });
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'a', payload: { address: 'vault/1' } });
    const closed = await c.closed;
    expect(closed).toEqual({ code: CloseCode.InternalError, reason: 'Internal error' });
    expect(JSON.stringify(c.frames)).not.toContain('hunter2');
    expect(s.logs.some((l) => l.msg === 'ws_internal_error')).toBe(true);
  });

  it('closes 4500 when an async authorize hook rejects', async () => {
    const s = await startServer({ authorize: () => Promise.reject(new Error('down')) });
    const c = await RawClient.connect(s);
    c.send({ type: 'send', id: 'a', payload: { address: 'vault/1', event: { type: 'inc' } } });
    expect((await c.closed).code).toBe(CloseCode.InternalError);
  });
});

describe("ws's own limits", () => {
  it('closes 1009 on a frame over maxPayload (64 KiB)', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'ping', payload: { pad: 'x'.repeat(64 * 1024) } });
    expect((await c.closed).code).toBe(CloseCode.MessageTooBig);
  });

  it('closes 1008 on a flood of tiny fragments (GHSA-96hv-2xvq-fx4p), and keeps serving others', async () => {
    const s = await startServer();
    const good = await RawClient.connect(s);
    const c = await RawClient.connect(s);
    for (let i = 0; i < 200; i++) c.ws.send('x', { fin: false });
    c.ws.send('x', { fin: true });
    expect((await c.closed).code).toBe(CloseCode.PolicyViolation);
    good.send({ type: 'ping', payload: { still: true } });
    await good.until((m) => m.type === 'pong');
  });

  it('accepts a message in a few fragments, within the limits', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    const text = JSON.stringify({ type: 'ping', payload: { in: 'parts' } });
    for (let i = 0; i < text.length; i += 8) c.ws.send(text.slice(i, i + 8), { fin: i + 8 >= text.length });
    await c.until((m) => m.type === 'pong');
  });
});

describe('heartbeat and shutdown', () => {
  it('terminates a peer that does not answer a protocol ping within heartbeatMs, and keeps one that does', async () => {
    const clock = new SimulatedClock();
    const s = await startServer({ clock, heartbeatMs: 1_000 });
    const deaf = await RawClient.connect(s, { autoPong: false });
    const alive = await RawClient.connect(s);
    const pinged = new Promise<void>((resolve) => alive.ws.once('ping', () => resolve()));
    clock.advance(1_000);
    await pinged;
    // The pong left before this frame on the same stream: once its answer is back, the server has it.
    alive.send({ type: 'ping', payload: { after: 'pong' } });
    await alive.until((m) => m.type === 'pong');
    clock.advance(1_000);
    expect((await deaf.closed).code).toBe(1006);
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    expect(s.logs.filter((l) => l.msg === 'ws_heartbeat_missed')).toHaveLength(1);
  });

  it('closes every connection with 1001 on close(), and 1012 on close(1012); refuses upgrades (503) meanwhile', async () => {
    const a = await startServer();
    const c1 = await RawClient.connect(a);
    const c2 = await RawClient.connect(a, { init: false });
    await a.transport.close();
    expect((await c1.closed).code).toBe(CloseCode.GoingAway);
    expect((await c2.closed).code).toBe(CloseCode.GoingAway);
    expect(await refused(a.url)).toMatchObject({ status: 503, body: { error: { code: 'INTERLOCK_SHUTTING_DOWN' } } });
    const b = await startServer();
    const c3 = await RawClient.connect(b);
    await b.transport.close(CloseCode.ServiceRestart);
    expect((await c3.closed).code).toBe(CloseCode.ServiceRestart);
  });

  it('closes 1001 when the runtime shuts down under a subscription', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'a', payload: { address: 'vault/1' } });
    c.send({ type: 'ping' });
    await c.until((m) => m.type === 'pong');
    await s.rt.shutdown({ drain: false });
    expect((await c.closed).code).toBe(CloseCode.GoingAway);
  });
});
