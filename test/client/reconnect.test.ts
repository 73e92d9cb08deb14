/**
 * What the client does when its socket ends, against a real `ws` server on port 0
 * (test/client/fakeServer.ts), with the client's timers on a SimulatedClock so the
 * backoff delays are read, not slept through.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { connect, isInterlockError, type ClientOptions } from '../../src/client/index.js';
import { backoffDelay } from '../../src/supervisor/backoff.js';
import { fakeServer } from './fakeServer.js';
import { bounded, closeAfterEach, collect } from './helpers.js';

const track = closeAfterEach();

type Closed = { code: number; reason: string; retryable: boolean; httpStatus?: number };

/** A client on a simulated clock whose socket closes can be awaited in order. */
function start(url: string, options: ClientOptions = {}) {
  const clock = new SimulatedClock();
  const closes: Closed[] = [];
  const waiters: ((c: Closed) => void)[] = [];
  const c = connect(url, {
    clock,
    random: () => 0.5, // the middle of the jitter: delays are exactly initialMs × factor^n
    ...options,
    on: {
      closed: (info) => {
        const w = waiters.shift();
        if (w) w(info);
        else closes.push(info);
      },
    },
  });
  track(c);
  const nextClose = () => bounded(new Promise<Closed>((resolve) => (closes.length > 0 ? resolve(closes.shift()!) : waiters.push(resolve))), 'a socket close');
  /** Time until the next reconnect attempt is due. */
  const retryIn = () => (clock.nextAt() ?? Infinity) - clock.now();
  return { client: c, clock, nextClose, retryIn };
}

const policy = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.5 };

describe('reconnect and resume', () => {
  it('resumes an address after a retryable close: no gap, no duplicate, in order', async () => {
    const server = track(await fakeServer({ overlap: 2 })); // the server replays 2 records the client already has
    const { client, clock, nextClose, retryIn } = start(server.url);
    const got = collect(client.subscribe('session/a'));
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    await bounded(conn1.next('subscribe'), 'subscribe 1');
    for (let i = 0; i < 3; i++) server.publish('session/a');
    await bounded(got.count(3), '3 records');

    conn1.socket.close(1012, 'restarting');
    expect(await nextClose()).toMatchObject({ code: 1012, retryable: true });
    for (let i = 0; i < 2; i++) server.publish('session/a'); // missed while away
    expect(retryIn()).toBe(250);
    clock.advance(250);
    const conn2 = await bounded(server.nextConnection(), 'connection 2');
    expect((await bounded(conn2.next('subscribe'), 'subscribe 2')).payload).toEqual({ address: 'session/a', since: { epoch: 1, seq: 3 } });
    server.publish('session/a');
    await bounded(got.count(6), '6 records');

    conn2.socket.terminate(); // no close frame: 1006
    expect(await nextClose()).toMatchObject({ code: 1006, retryable: true });
    expect(retryIn()).toBe(250); // the ack reset the attempts
    clock.advance(250);
    const conn3 = await bounded(server.nextConnection(), 'connection 3');
    expect((await bounded(conn3.next('subscribe'), 'subscribe 3')).payload.since).toEqual({ epoch: 1, seq: 6 });
    server.publish('session/a');
    await bounded(got.count(7), '7 records');
    expect(got.values.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(got.error).toBeUndefined();
  });

  it('resubscribes a pattern with the last point of each address (live the first time), and drops what it already has', async () => {
    const server = track(await fakeServer());
    const { client, clock, nextClose } = start(server.url);
    const got = collect(client.subscribe('session/*'));
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    expect((await bounded(conn1.next('subscribe'), 'subscribe 1')).payload).toEqual({ pattern: 'session/*' });
    server.publish('session/a');
    server.publish('session/b');
    server.publish('session/a');
    await bounded(got.count(3), '3 records');

    conn1.socket.close(1012, 'restarting');
    await nextClose();
    clock.advance(250);
    const conn2 = await bounded(server.nextConnection(), 'connection 2');
    const again = await bounded(conn2.next('subscribe'), 'subscribe 2');
    expect(again.payload).toEqual({ pattern: 'session/*', since: { 'session/b': { epoch: 1, seq: 1 }, 'session/a': { epoch: 1, seq: 2 } } });
    // A replay that overlaps what arrived before the drop: only the new ones are delivered.
    for (const r of [{ address: 'session/a', seq: 2 }, { address: 'session/b', seq: 1 }, { address: 'session/a', seq: 3 }]) {
      server.push({ ...r, epoch: 1, type: 'emitted', data: null });
    }
    server.publish('session/c');
    await bounded(got.count(5), '5 records');
    expect(got.values.map((r) => `${r.address} ${r.seq}`)).toEqual(['session/a 1', 'session/b 1', 'session/a 2', 'session/a 3', 'session/c 1']);
  });

  it("resumes from the caller's own since before any record arrived", async () => {
    const server = track(await fakeServer());
    for (let i = 0; i < 5; i++) server.publish('session/a');
    const { client } = start(server.url);
    const got = collect(client.subscribe('session/a', { since: { epoch: 1, seq: 2 } }));
    await bounded(got.count(3), 'the replay');
    expect(got.values.map((r) => r.seq)).toEqual([3, 4, 5]);
  });

  it('delivers a new epoch from seq 1, and a recovered:false record even at a seq it has seen', async () => {
    const server = track(await fakeServer());
    const { client } = start(server.url);
    const got = collect(client.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    for (let i = 0; i < 3; i++) server.publish('session/a');
    server.push({ address: 'session/a', epoch: 1, seq: 2, type: 'emitted', data: 'dup' }); // a duplicate: dropped
    server.publish('session/a', 'lifecycle.activated', null, 2); // reactivated: epoch 2, seq 1
    server.push({ address: 'session/a', epoch: 2, seq: 1, type: 'snapshot', data: 'state', recovered: false });
    server.publish('session/a', 'emitted', null, 2);
    await bounded(got.count(6), '6 records');
    expect(got.values.map((r) => [r.epoch, r.seq, r.recovered ?? true])).toEqual([
      [1, 1, true],
      [1, 2, true],
      [1, 3, true],
      [2, 1, true],
      [2, 1, false],
      [2, 2, true],
    ]);
  });

  it('backs off exponentially while the server refuses, and starts over after an ack', async () => {
    const server = track(await fakeServer({ refuseWith: 503 }));
    const { client, clock, nextClose, retryIn } = start(server.url);
    const got = collect(client.subscribe('session/a'));
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      expect(await nextClose()).toMatchObject({ code: 1006, retryable: true, httpStatus: 503 });
      delays.push(retryIn());
      clock.advance(retryIn());
    }
    expect(delays).toEqual([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 0.5)));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000]);
    server.options.refuseWith = undefined;
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    conn.socket.close(1001, 'going away');
    await nextClose();
    expect(retryIn()).toBe(250);
    expect(got.error).toBeUndefined();
  });

  it('spreads retries with jitter', async () => {
    const server = track(await fakeServer({ refuseWith: 503 }));
    const { client, nextClose, retryIn } = start(server.url, { random: () => 0 });
    const sub = client.subscribe('session/a').subscribe();
    await nextClose();
    expect(retryIn()).toBe(125); // 250 − 50%
    sub.unsubscribe();
  });

  it('gives up after backoff.attempts failed reconnects, with INTERLOCK_CONNECTION_LOST', async () => {
    const server = track(await fakeServer({ refuseWith: 503 }));
    const { client, clock, nextClose, retryIn } = start(server.url, { backoff: { attempts: 2 } });
    const got = collect(client.subscribe('session/a'));
    for (let i = 0; i < 2; i++) {
      await nextClose();
      clock.advance(retryIn());
    }
    await nextClose();
    await bounded(got.ended, 'the subscription to fail');
    expect(isInterlockError(got.error, 'INTERLOCK_CONNECTION_LOST')).toBe(true);
    expect(String((got.error as Error).message)).toContain('after 2 attempts');
    expect(server.connections).toHaveLength(0);
    expect(clock.pending('work')).toBe(0); // no retry left scheduled
  });

  it('stops on a terminal close: subscriptions and queued requests fail with the close code, no reconnect', async () => {
    const server = track(await fakeServer());
    const { client, clock, nextClose } = start(server.url);
    const got = collect(client.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    const asked = client.ask('session/a', { type: 'x' }).catch((e: unknown) => e);
    await bounded(conn.next('ask'), 'ask');
    conn.socket.close(4403, 'Forbidden');
    expect(await nextClose()).toMatchObject({ code: 4403, retryable: false });
    await bounded(got.ended, 'the subscription to fail');
    expect(got.error).toMatchObject({ name: 'InterlockError', code: 'INTERLOCK_CONNECTION_CLOSED', closeCode: 4403, retryable: false, address: 'session/a' });
    expect(await asked).toMatchObject({ code: 'INTERLOCK_CONNECTION_CLOSED', closeCode: 4403 });
    expect(clock.pending('work')).toBe(0);
    expect(server.connections).toHaveLength(1);
  });

  it('treats an upgrade refused with 401 as terminal, naming the status', async () => {
    const server = track(await fakeServer({ refuseWith: 401 }));
    const { client, clock } = start(server.url, { token: 'wrong' });
    const got = collect(client.subscribe('session/a'));
    await bounded(got.ended, 'the subscription to fail');
    expect(got.error).toMatchObject({ code: 'INTERLOCK_CONNECTION_CLOSED', httpStatus: 401, message: expect.stringContaining('token') });
    expect(clock.pending('work')).toBe(0);
  });

  it('closes with 4400 and fails on a frame that is not a protocol message', async () => {
    const server = track(await fakeServer());
    const { client } = start(server.url);
    const got = collect(client.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    conn.sendRaw('{"type":"next","id":"1","payload":{"seq":"one"}}');
    expect((await bounded(conn.closed, 'the close')).code).toBe(4400);
    await bounded(got.ended, 'the subscription to fail');
    expect(got.error).toMatchObject({ code: 'INTERLOCK_CONNECTION_CLOSED', closeCode: 4400 });
  });

  it('gives up on a server that does not ack in time, and tries again', async () => {
    const server = track(await fakeServer({ ack: false }));
    const { client, clock, nextClose, retryIn } = start(server.url, { ackTimeoutMs: 5_000 });
    const sub = client.subscribe('session/a').subscribe();
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    await bounded(conn1.next('connection_init'), 'init');
    clock.advance(4_999);
    expect(server.connections).toHaveLength(1);
    clock.advance(1);
    expect(await nextClose()).toMatchObject({ code: 4504, retryable: true });
    expect((await bounded(conn1.closed, 'the close')).code).toBe(4504);
    server.options.ack = true;
    clock.advance(retryIn());
    const conn2 = await bounded(server.nextConnection(), 'connection 2');
    await bounded(conn2.next('subscribe'), 'subscribe');
    sub.unsubscribe();
  });

  it('pings every keep-alive period and reconnects when the server stays silent for one', async () => {
    const server = track(await fakeServer({ mute: true }));
    const { client, clock, nextClose, retryIn } = start(server.url, { keepAliveMs: 1_000 });
    const sub = client.subscribe('session/a').subscribe();
    const conn1 = await bounded(server.nextConnection(), 'connection 1');
    await bounded(conn1.next('subscribe'), 'subscribe');
    clock.advance(1_000); // first period: ping
    await bounded(conn1.next('ping'), 'a ping');
    clock.advance(1_000); // no pong within a period: give up
    expect(await nextClose()).toMatchObject({ code: 4499, retryable: true });
    expect((await bounded(conn1.closed, 'the close')).code).toBe(4499);
    server.options.mute = false;
    clock.advance(retryIn());
    const conn2 = await bounded(server.nextConnection(), 'connection 2');
    await bounded(conn2.next('subscribe'), 'subscribe');
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      await bounded(conn2.next('ping'), `ping ${i}`);
      // A round trip: once the client answers this ping it has read the pong sent before it.
      conn2.send({ type: 'ping' });
      await bounded(conn2.next('pong'), `round trip ${i}`);
    }
    expect(server.connections).toHaveLength(2);
    sub.unsubscribe();
  });
});
