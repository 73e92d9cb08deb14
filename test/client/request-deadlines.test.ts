/**
 * A request's deadline on the client: the time left it sends, the grace it gives the
 * server, what it says when it gives up, the roles of its timers, and answers that come
 * for requests it no longer has. A real `ws` server on port 0 (test/client/fakeServer.ts),
 * the client's timers on a SimulatedClock.
 */
import { describe, expect, it } from 'vitest';
import { flushMicrotasks, SimulatedClock } from '../../src/clock.js';
import { connect } from '../../src/client/index.js';
import { fakeServer } from './fakeServer.js';
import { bounded, closeAfterEach, collect } from './helpers.js';

const track = closeAfterEach();

/** Watches a promise: `state()` is how it stands after the microtasks due have run. */
function watch(p: Promise<unknown>) {
  let state: { value: unknown } | { error: unknown } | 'pending' = 'pending';
  p.then(
    (value) => (state = { value }),
    (error: unknown) => (state = { error }),
  );
  return {
    async state() {
      await flushMicrotasks();
      return state;
    },
  };
}

describe('request deadlines', () => {
  it('sends the time left of the timeout, not the whole timeout, when the request waited for the ack', async () => {
    const server = track(await fakeServer({ ack: false }));
    const clock = new SimulatedClock(5_000);
    const client = track(connect(server.url, { clock, ackTimeoutMs: 60_000 }));
    const asked = watch(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 1_000 }));
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('connection_init'), 'init');
    clock.advance(300);
    conn.send({ type: 'connection_ack', payload: { epoch: 1, heartbeatMs: 0 } });
    const ask = await bounded(conn.next('ask'), 'the ask');
    expect(ask.payload).toEqual({ address: 'session/a', event: { type: 'prompt' }, timeoutMs: 700 });
    conn.send({ type: 'result', id: ask.id, payload: { data: 'ok' } });
    await bounded(waitFor(async () => (await asked.state()) !== 'pending'), 'the answer');
    expect(await asked.state()).toEqual({ value: 'ok' });
  });

  it('gives a sent request its grace counted from when it started, on a clock that does not start at 0, then names the address and the timeout', async () => {
    const server = track(await fakeServer());
    const clock = new SimulatedClock(5_000);
    const client = track(connect(server.url, { clock, timeoutGraceMs: 500 }));
    const asked = watch(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 1_000 }));
    const conn = await bounded(server.nextConnection(), 'a connection');
    const ask = await bounded(conn.next('ask'), 'the ask');
    clock.advance(1_000);
    clock.advance(499);
    expect(await asked.state()).toBe('pending');
    clock.advance(1);
    expect(await asked.state()).toEqual({ error: expect.objectContaining({ code: 'INTERLOCK_CLIENT_TIMEOUT', retryable: true, address: 'session/a' }) });
    const { error } = (await asked.state()) as { error: Error };
    expect(error.message).toBe("No answer from 'session/a' within 1000 ms. Raise timeoutMs, or check the server.");
    expect(await bounded(conn.next('complete'), 'complete')).toEqual({ type: 'complete', id: ask.id });
  });

  it('times out a request at its timeout, without grace, while no socket exists (waiting to reconnect), saying the server was not reachable', async () => {
    const server = track(await fakeServer({ refuseWith: 503 }));
    const clock = new SimulatedClock();
    const closed: number[] = [];
    const client = track(connect(server.url, { clock, backoff: { initialMs: 10_000 }, random: () => 0.5, on: { closed: (info) => closed.push(info.code) } }));
    const asked = watch(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 500 }));
    await bounded(waitFor(() => closed.length === 1), 'the refused attempt');
    clock.advance(500);
    const outcome = await asked.state();
    expect(outcome).toEqual({ error: expect.objectContaining({ code: 'INTERLOCK_CLIENT_TIMEOUT', address: 'session/a' }) });
    expect((outcome as { error: Error }).error.message).toBe("No answer from 'session/a' within 500 ms (the server was not reachable). Raise timeoutMs, or check the server.");
  });

  it("marks a request's deadline and grace and the idle close as guard timers (they do not hold a process open); only reconnecting is work", async () => {
    const server = track(await fakeServer());
    const clock = new SimulatedClock();
    const client = track(connect(server.url, { clock, timeoutGraceMs: 500, idleMs: 1_000 }));
    const sub = collect(client.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    await bounded(conn.next('subscribe'), 'subscribe');
    const timers = () => ({ guard: clock.pending('guard'), work: clock.pending('work'), all: clock.pending() });
    expect(timers()).toEqual({ guard: 0, work: 0, all: 0 });
    const asked = watch(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 1_000 }));
    const ask = await bounded(conn.next('ask'), 'the ask');
    expect(timers()).toEqual({ guard: 1, work: 0, all: 1 }); // the deadline
    clock.advance(1_000);
    expect(timers()).toEqual({ guard: 1, work: 0, all: 1 }); // the grace
    conn.send({ type: 'result', id: ask.id, payload: { data: 1 } });
    await bounded(waitFor(async () => (await asked.state()) !== 'pending'), 'the answer');
    expect(timers()).toEqual({ guard: 0, work: 0, all: 0 });
    sub.subscription.unsubscribe();
    expect(timers()).toEqual({ guard: 1, work: 0, all: 1 }); // the idle close
  });

  it('ignores a result, an error and a complete for ids it no longer has, and reports only an error without an id to on.error', async () => {
    const server = track(await fakeServer());
    const clock = new SimulatedClock();
    const reported: unknown[] = [];
    const client = track(connect(server.url, { clock, timeoutGraceMs: 0, on: { error: (e) => reported.push(e) } }));
    const sub = collect(client.subscribe('session/a'));
    const conn = await bounded(server.nextConnection(), 'a connection');
    const subscribe = await bounded(conn.next('subscribe'), 'subscribe');
    const late = watch(client.ask('session/a', { type: 'prompt' }, { timeoutMs: 100 }));
    const ask = await bounded(conn.next('ask'), 'the ask');
    clock.advance(100);
    expect(await late.state()).toEqual({ error: expect.objectContaining({ code: 'INTERLOCK_CLIENT_TIMEOUT' }) });
    // The server's answers arrive after the client gave up; and a complete for an id never used.
    conn.send({ type: 'result', id: ask.id, payload: { data: 'late' } });
    conn.send({ type: 'error', id: ask.id, payload: { code: 'INTERLOCK_DEADLINE_EXCEEDED', message: 'late' } });
    conn.send({ type: 'complete', id: 'zz' });
    conn.send({ type: 'error', payload: { code: 'INTERLOCK_INVALID_REQUEST', message: 'bad frame' } });
    // A round trip: the client has read all of the above once it answers.
    conn.send({ type: 'ping' });
    await bounded(conn.next('pong'), 'a round trip');
    expect(reported).toEqual([{ code: 'INTERLOCK_INVALID_REQUEST', message: 'bad frame' }]);
    server.publish('session/a');
    await bounded(sub.count(1), 'a record');
    expect(sub.error).toBeUndefined();
    expect(sub.completed).toBe(false);
    expect(subscribe.id).not.toBe('zz');
  });

  it('reads an error without an id when no on.error (or no on at all) was given', async () => {
    const server = track(await fakeServer({ onRequest: (conn, m) => m.type === 'ask' && conn.send({ type: 'result', id: m.id }) }));
    for (const options of [{}, { on: { closed: () => {} } }]) {
      const client = track(connect(server.url, options));
      const sub = client.subscribe('session/a').subscribe();
      const conn = await bounded(server.nextConnection(), 'a connection');
      await bounded(conn.next('subscribe'), 'subscribe');
      conn.send({ type: 'error', payload: { code: 'INTERLOCK_INVALID_REQUEST', message: 'bad frame' } });
      // And a result without a payload (a reply of undefined) resolves undefined.
      expect(await bounded(client.ask('session/a', { type: 'x' }), 'the ask')).toBeUndefined();
      sub.unsubscribe();
    }
  });

  it('sends the priority of a send when given, and no priority key otherwise', async () => {
    const server = track(await fakeServer({ onRequest: (conn, m) => m.type === 'send' && conn.send({ type: 'result', id: m.id, payload: { data: null } }) }));
    const client = track(connect(server.url));
    await bounded(client.send('session/a', { type: 'x' }, { priority: 'high' }), 'send 1');
    await bounded(client.send('session/a', { type: 'y' }), 'send 2');
    const conn = server.connections[0]!;
    expect(conn.received.filter((m) => m.type === 'send').map((m) => m.payload)).toEqual([
      { address: 'session/a', event: { type: 'x' }, priority: 'high' },
      { address: 'session/a', event: { type: 'y' } },
    ]);
  });
});

/** Resolves once `check` holds, looking after each macrotask (bounded by the caller). */
async function waitFor(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setImmediate(r));
}
