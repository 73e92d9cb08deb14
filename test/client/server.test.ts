/**
 * `interlock/client` against the real Interlock WebSocket server (runtime + attachWebSocket
 * on node:http, port 0; test/transport/helpers.ts): ask/send and the server's coded errors,
 * tokens, per-address authorization, patterns, and a server shutting down.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connect, isInterlockError, type ClientRecord } from '../../src/client/index.js';
import { closeAllServers, SECRET, startServer, type vaultMachine } from '../transport/helpers.js';
import { bounded, closeAfterEach, collect } from './helpers.js';

afterAll(closeAllServers);
const track = closeAfterEach();

const failure = (p: Promise<unknown>) => bounded(p.then(() => undefined, (e: unknown) => e), 'a rejection');

describe('interlock/client against the Interlock server', () => {
  it('asks and sends through a typed actor, and subscribes from the current snapshot (public view only)', async () => {
    const s = await startServer();
    const client = track(connect(s.url));
    const vault = client.actor<typeof vaultMachine>('vault/a');
    await vault.send({ type: 'inc' });
    await vault.send({ type: 'inc' }, { priority: 'high' });
    expect(await bounded(vault.ask<number>({ type: 'get' }), 'ask get')).toBe(2);
    const got = collect(vault.subscribe());
    await bounded(got.count(1), 'the snapshot');
    expect(got.values[0]).toMatchObject({ address: 'vault/a', type: 'snapshot', data: { context: { n: 2 } } });
    await vault.send({ type: 'inc' });
    await bounded(
      (async () => {
        while (!got.values.some((r) => r.type === 'snapshot' && (r.data as { context: { n: number } }).context.n === 3)) await got.count(got.values.length + 1);
      })(),
      'the next snapshot',
    );
    expect(JSON.stringify(got.values)).not.toContain(SECRET);
    got.subscription.unsubscribe();
  });

  it("rejects with the server's codes: not public, internal, unknown kind, bad address, deadline, crash", async () => {
    const s = await startServer();
    const client = track(connect(s.url));
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.send('vault/a', { type: 'admin' }), 'INTERLOCK_EVENT_NOT_PUBLIC'], // handled by the machine, not public
      [() => client.ask('vault/a', { type: '@forged' }), 'INTERLOCK_INVALID_EVENT'], // internal: never from outside
      [() => client.ask('nokind/a', { type: 'get' }), 'INTERLOCK_UNKNOWN_KIND'],
      [() => client.send('no-slash', { type: 'inc' }), 'INTERLOCK_INVALID_ADDRESS'],
      [() => client.ask('vault/a', { type: 'never' }, { timeoutMs: 200 }), 'INTERLOCK_DEADLINE_EXCEEDED'],
    ];
    for (const [request, code] of cases) {
      const err = await failure(request());
      expect({ code, err: isInterlockError(err, code) ? code : err }).toEqual({ code, err: code });
    }
    const crash = await failure(client.ask('vault/b', { type: 'boom' }));
    expect(isInterlockError(crash)).toBe(true);
    expect(String((crash as Error).message)).not.toContain(SECRET);
    // The socket survived every refusal.
    expect(await bounded(client.ask('vault/a', { type: 'get' }), 'ask after errors')).toBe(0);
  });

  it('authenticates with the token (Authorization header in Node), and fails for good with a wrong one', async () => {
    const s = await startServer({ token: 'tok-1' });
    const good = track(connect(s.url, { token: 'tok-1' }));
    await good.send('vault/a', { type: 'inc' });
    const viaQuery = track(connect(s.url, { token: 'tok-1', tokenInQuery: true }));
    expect(await bounded(viaQuery.ask('vault/a', { type: 'get' }), 'ask with ?token=')).toBe(1);
    const bad = track(connect(s.url, { token: 'wrong' }));
    const err = await failure(bad.send('vault/a', { type: 'inc' }));
    expect(err).toMatchObject({ code: 'INTERLOCK_CONNECTION_CLOSED', httpStatus: 401, retryable: false });
    const none = track(connect(s.url));
    expect(await failure(none.send('vault/a', { type: 'inc' }))).toMatchObject({ code: 'INTERLOCK_CONNECTION_CLOSED', httpStatus: 401 });
  });

  it("ends a subscription the authorize hook refuses with INTERLOCK_FORBIDDEN, and keeps the others", async () => {
    const s = await startServer({ authorize: ({ address }) => address !== 'vault/secret' });
    const client = track(connect(s.url));
    await client.send('vault/open', { type: 'inc' });
    const refused = collect(client.subscribe('vault/secret'));
    const allowed = collect(client.subscribe('vault/open'));
    await bounded(refused.ended, 'the refusal');
    expect(refused.error).toMatchObject({ code: 'INTERLOCK_FORBIDDEN', address: 'vault/secret' });
    await bounded(allowed.count(1), 'the allowed snapshot');
    expect(await failure(client.send('vault/secret', { type: 'inc' }))).toMatchObject({ code: 'INTERLOCK_FORBIDDEN' });
    allowed.subscription.unsubscribe();
  });

  it('follows a pattern across addresses (live records only)', async () => {
    const s = await startServer();
    const client = track(connect(s.url));
    const seen: ClientRecord[] = [];
    const sub = client.subscribe('vault/*').subscribe((r) => seen.push(r));
    // A round trip after the subscribe, so it is in place before the sends.
    await client.ask('vault/x', { type: 'get' });
    await client.send('vault/p1', { type: 'inc' });
    await client.send('vault/p2', { type: 'inc' });
    await bounded(
      (async () => {
        while (!(['vault/p1', 'vault/p2'] as const).every((a) => seen.some((r) => r.address === a && r.type === 'snapshot'))) await new Promise((r) => setImmediate(r));
      })(),
      'records of both addresses',
    );
    sub.unsubscribe();
  });

  it('completes nothing and reconnects when the server goes away with 1001; a request in flight fails retryable', async () => {
    const s = await startServer();
    let closed!: (code: number) => void;
    const closedWith = new Promise<number>((resolve) => (closed = resolve));
    const client = track(connect(s.url, { backoff: { initialMs: 60_000 }, on: { closed: (i) => closed(i.code) } }));
    const got = collect(client.subscribe('vault/a'));
    const pending = failure(client.ask('vault/a', { type: 'never' }, { timeoutMs: 20_000 }));
    await bounded(got.count(1), 'the snapshot');
    await s.transport.close(1001, 'bye');
    expect(await bounded(closedWith, 'the close')).toBe(1001);
    expect(await pending).toMatchObject({ code: 'INTERLOCK_CONNECTION_LOST', retryable: true, closeCode: 1001 });
    // The subscription is still alive, waiting to reconnect (60 s away here).
    expect(got.error).toBeUndefined();
    expect(got.completed).toBe(false);
  });
});
