/**
 * The client's side of the `interlock.v1` handshake and multiplexing, against a real `ws`
 * server on port 0 that speaks the protocol (test/client/fakeServer.ts).
 */
import { describe, expect, it } from 'vitest';
import { connect, isInterlockError } from '../../src/client/index.js';
import { fakeServer } from './fakeServer.js';
import { bounded, closeAfterEach, collect } from './helpers.js';

const track = closeAfterEach();

describe('handshake', () => {
  it('offers interlock.v1, sends connection_init with the token (and the Bearer header), and subscribes only after the ack', async () => {
    const server = track(await fakeServer({ ack: false }));
    const client = track(connect(server.url, { token: 's3cret' }));
    const records = collect(client.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    expect(conn.socket.protocol).toBe('interlock.v1');
    expect(conn.request.headers.authorization).toBe('Bearer s3cret');
    expect(await bounded(conn.next('connection_init'), 'init')).toEqual({ type: 'connection_init', payload: { batch: true, token: 's3cret' } });
    // Nothing but the init before the ack.
    expect(conn.received.map((m) => m.type)).toEqual(['connection_init']);
    conn.send({ type: 'connection_ack', payload: { epoch: 7, heartbeatMs: 0 } });
    expect(await bounded(conn.next('subscribe'), 'subscribe')).toEqual({ type: 'subscribe', id: expect.any(String), payload: { address: 'session/a' } });
    records.subscription.unsubscribe();
  });

  it('puts the token in the URL only when asked (tokenInQuery), and accepts an http:// URL', async () => {
    const server = track(await fakeServer());
    const client = track(connect(server.url.replace('ws://', 'http://'), { token: 't k', tokenInQuery: true }));
    const sub = client.subscribe('session/a').subscribe();
    const conn = await bounded(server.nextConnection(), 'a connection');
    expect(new URL(conn.request.url!, 'http://x').searchParams.get('token')).toBe('t k');
    sub.unsubscribe();
  });

  it('answers a ping with a pong carrying the same payload', async () => {
    const server = track(await fakeServer());
    const client = track(connect(server.url));
    const sub = client.subscribe('session/a').subscribe();
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    conn.send({ type: 'ping', payload: { n: 1 } });
    expect(await bounded(conn.next('pong'), 'pong')).toEqual({ type: 'pong', payload: { n: 1 } });
    sub.unsubscribe();
  });

  it('multiplexes subscriptions and requests over one socket, opened lazily and closed when idle', async () => {
    const server = track(await fakeServer({
      onRequest: (conn, m) => {
        if (m.type === 'ask') conn.send({ type: 'result', id: m.id, payload: { data: `echo ${String(m.payload.event.text)}` } });
        if (m.type === 'send') conn.send({ type: 'result', id: m.id, payload: { data: null } });
      },
    }));
    const client = track(connect(server.url));
    expect(server.connections).toHaveLength(0); // lazy: nothing yet
    const a = collect(client.subscribe('session/a'));
    const b = collect(client.subscribe('session/*'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    const subA = await bounded(conn.next('subscribe'), 'subscribe a');
    const subB = await bounded(conn.next('subscribe'), 'subscribe b');
    expect(subB.payload).toEqual({ pattern: 'session/*' });
    expect(subA.id).not.toBe(subB.id);
    server.publish('session/a', 'emitted', 1);
    server.publish('session/b', 'emitted', 2);
    await bounded(a.count(1), 'a record');
    await bounded(b.count(2), 'b records');
    expect(await bounded(client.ask('session/a', { type: 'say', text: 'hi' }), 'ask')).toBe('echo hi');
    await expect(client.send('session/a', { type: 'say', text: 'x' })).resolves.toBeUndefined();
    expect(server.connections).toHaveLength(1);
    expect(a.values.map((r) => [r.address, r.seq, r.data])).toEqual([['session/a', 1, 1]]);
    expect(b.values.map((r) => [r.address, r.seq, r.data])).toEqual([
      ['session/a', 1, 1],
      ['session/b', 1, 2],
    ]);

    a.subscription.unsubscribe();
    expect(await bounded(conn.next('complete'), 'complete a')).toEqual({ type: 'complete', id: subA.id });
    b.subscription.unsubscribe();
    expect(await bounded(conn.next('complete'), 'complete b')).toEqual({ type: 'complete', id: subB.id });
    // Idle: the client closes the socket normally.
    expect(await bounded(conn.closed, 'idle close')).toEqual({ code: 1000, reason: 'idle' });
    // And opens a new one on demand.
    const again = client.subscribe('session/a').subscribe();
    await bounded(server.nextConnection(), 'a second connection');
    again.unsubscribe();
  });

  it('reads a batched frame (a JSON array) in order, and passes the priority of a request', async () => {
    const server = track(await fakeServer());
    const client = track(connect(server.url));
    const got = collect(client.subscribe('session/a'));
    const asked = client.ask('session/a', { type: 'x' }, { priority: 'high' });
    const conn = await bounded(server.nextConnection(), 'a connection');
    const sub = await bounded(conn.next('subscribe'), 'subscribe');
    const ask = await bounded(conn.next('ask'), 'ask');
    expect(ask.payload.priority).toBe('high');
    const record = (seq: number) => ({ type: 'next', id: sub.id, payload: { address: 'session/a', epoch: 1, seq, type: 'emitted', data: seq } });
    conn.sendRaw(JSON.stringify([record(1), record(2), { type: 'result', id: ask.id, payload: { data: 'done' } }]));
    expect(await bounded(asked, 'the answer')).toBe('done');
    // Both records were delivered before the result that followed them in the frame.
    expect(got.values.map((r) => r.seq)).toEqual([1, 2]);
  });

  it('keeps the socket open across back-to-back requests (idleMs)', async () => {
    const server = track(await fakeServer({ onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'result', id: m.id, payload: { data: 1 } }) }));
    const client = track(connect(server.url, { idleMs: 60_000 }));
    for (let i = 0; i < 5; i++) await bounded(client.ask('a/1', { type: 'x' }), 'ask');
    expect(server.connections).toHaveLength(1);
  });

  it('stays connected with lazy: false, before any subscription', async () => {
    const server = track(await fakeServer());
    const next = server.nextConnection();
    const client = track(connect(server.url, { lazy: false }));
    const conn = await bounded(next, 'an eager connection');
    await bounded(conn.next('connection_init'), 'init');
  });

  it('resolves an ask whose reply is undefined (no data key on the wire)', async () => {
    const server = track(await fakeServer({ onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'result', id: m.id, payload: {} }) }));
    const client = track(connect(server.url));
    await expect(bounded(client.ask('a/1', { type: 'x' }), 'ask')).resolves.toBeUndefined();
  });

  it("rejects an ask with the server's coded error, checked by code", async () => {
    const server = track(await fakeServer({
      onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'error', id: m.id, payload: { code: 'INTERLOCK_EVENT_NOT_PUBLIC', message: "Event type '@x' may not be sent" } }),
    }));
    const client = track(connect(server.url));
    const err = await client.ask('a/1', { type: '@x' }).catch((e: unknown) => e);
    expect(isInterlockError(err, 'INTERLOCK_EVENT_NOT_PUBLIC')).toBe(true);
    expect(err).toMatchObject({ name: 'InterlockError', code: 'INTERLOCK_EVENT_NOT_PUBLIC', address: 'a/1', retryable: false, message: expect.stringContaining('@x') });
  });

  it('ends a subscription with the error the server sends for it, and completes it on complete', async () => {
    const server = track(await fakeServer());
    const client = track(connect(server.url));
    const refused = collect(client.subscribe('nope/a'));
    const done = collect(client.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    const s1 = await bounded(conn.next('subscribe'), 'subscribe 1');
    const s2 = await bounded(conn.next('subscribe'), 'subscribe 2');
    conn.send({ type: 'error', id: s1.id, payload: { code: 'INTERLOCK_UNKNOWN_KIND', message: "no kind 'nope'" } });
    conn.send({ type: 'complete', id: s2.id });
    await bounded(Promise.all([refused.ended, done.ended]), 'both ended');
    expect(isInterlockError(refused.error, 'INTERLOCK_UNKNOWN_KIND')).toBe(true);
    expect(done.completed).toBe(true);
    // Neither is re-sent: the client closes the now idle socket.
    expect((await bounded(conn.closed, 'idle close')).code).toBe(1000);
    expect(conn.received.filter((m) => m.type === 'complete')).toEqual([]);
  });

  it("reports a server error without an id to on.error, and refuses a 'since' of the wrong form (a point for a pattern, a map for an address)", async () => {
    let reported!: (e: unknown) => void;
    const error = new Promise((resolve) => (reported = resolve));
    const server = track(await fakeServer());
    const client = track(connect(server.url, { on: { error: (e) => reported(e) } }));
    const sub = client.subscribe('session/a').subscribe();
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    conn.send({ type: 'error', payload: { code: 'INTERLOCK_INVALID_REQUEST', message: 'bad frame' } });
    expect(await bounded(error, 'on.error')).toEqual({ code: 'INTERLOCK_INVALID_REQUEST', message: 'bad frame' });
    sub.unsubscribe();
    const bad = collect(client.subscribe('session/*', { since: { epoch: 1, seq: 1 } }));
    await bad.ended;
    expect(isInterlockError(bad.error, 'INTERLOCK_INVALID_MESSAGE')).toBe(true);
    expect((bad.error as Error).message).toContain('map of points by address');
    const alsoBad = collect(client.subscribe('session/a', { since: { 'session/a': { epoch: 1, seq: 1 } } }));
    await alsoBad.ended;
    expect(isInterlockError(alsoBad.error, 'INTERLOCK_INVALID_MESSAGE')).toBe(true);
    expect((alsoBad.error as Error).message).toContain('is { epoch, seq }');
  });
});
