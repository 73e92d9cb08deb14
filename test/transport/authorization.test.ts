/**
 * Per-address authorization on the WebSocket: one token per user (`authenticate`), each
 * limited by the `authorize` hook to its own actors (`vault/<user>-…`). A token can neither
 * subscribe to, send to, nor ask another user's actor, nor follow a pattern wider than its
 * own; a refused send activates nothing. The hook may be async: frames after it keep their
 * order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizeRequest } from '../../src/transport/options.js';
import type { ErrorMessage, NextMessage } from '../../src/transport/protocol.js';
import { closeAllServers, RawClient, startServer } from './helpers.js';

afterEach(closeAllServers);

const users = new Map([
  ['alice-token', 'alice'],
  ['bob-token', 'bob'],
]);
const authenticate = (token: string) => users.has(token);
const own = ({ token, address, pattern }: AuthorizeRequest): boolean => {
  const user = token === undefined ? undefined : users.get(token);
  if (user === undefined) return false;
  return pattern ? address === `vault/${user}-*` : address.startsWith(`vault/${user}-`);
};

const errorCode = async (c: RawClient, id: string) => (await c.until<ErrorMessage>((m) => m.type === 'error' && m.id === id)).payload.code;

describe.each([
  ['a sync hook', own],
  ['an async hook', (r: AuthorizeRequest) => new Promise<boolean>((resolve) => setTimeout(() => resolve(own(r)), 1))],
])('a token limited to its own actors (%s)', (_name, authorize) => {
  it("can neither subscribe to, send to, nor ask another user's actor", async () => {
    const s = await startServer({ authenticate, authorize });
    const alice = await RawClient.connect(s, { token: 'alice-token' });
    alice.send({ type: 'subscribe', id: 'mine', payload: { address: 'vault/alice-1' } });
    alice.send({ type: 'subscribe', id: 'theirs', payload: { address: 'vault/bob-1' } });
    alice.send({ type: 'send', id: 'tell', payload: { address: 'vault/bob-1', event: { type: 'inc' } } });
    alice.send({ type: 'send', id: 'admin', payload: { address: 'vault/bob-1', event: { type: 'admin' } } });
    alice.send({ type: 'ask', id: 'ask', payload: { address: 'vault/bob-1', event: { type: 'get' } } });
    alice.send({ type: 'subscribe', id: 'wide', payload: { pattern: 'vault/*' } });
    alice.send({ type: 'subscribe', id: 'all', payload: { pattern: '*' } });
    alice.send({ type: 'subscribe', id: 'own-pattern', payload: { pattern: 'vault/alice-*' } });
    for (const id of ['theirs', 'tell', 'admin', 'ask', 'wide', 'all']) expect(await errorCode(alice, id), id).toBe('INTERLOCK_FORBIDDEN');
    // Nothing reached bob's actor: not even an activation.
    expect(s.rt.view('vault/bob-1')).toBeUndefined();

    const bob = await RawClient.connect(s, { token: 'bob-token' });
    bob.send({ type: 'send', id: 'b', payload: { address: 'vault/bob-1', event: { type: 'inc' } } });
    await bob.until((m) => m.type === 'result' && m.id === 'b');
    alice.send({ type: 'ask', id: 'mine-ask', payload: { address: 'vault/alice-1', event: { type: 'get' } } });
    expect(await alice.until((m) => m.type === 'result' && m.id === 'mine-ask')).toMatchObject({ payload: { data: 0 } });
    await alice.until((m) => m.type === 'next' && m.id === 'own-pattern');
    const seen = alice.messages.filter((m): m is NextMessage => m.type === 'next').map((m) => m.payload.address);
    expect(new Set(seen)).toEqual(new Set(['vault/alice-1']));
    expect(alice.of('theirs')).toHaveLength(1);
  });

  it('keeps the order of sends that wait for the hook, even when it answers later calls sooner', async () => {
    let calls = 0;
    // Each call answers sooner than the one before it (without a hook that holds frames: reversed order).
    const jittered = (r: AuthorizeRequest) => new Promise<boolean>((resolve) => setTimeout(() => resolve(own(r)), Math.max(0, 30 - 5 * calls++)));
    const s = await startServer({ authenticate, authorize: authorize === own ? own : jittered });
    const alice = await RawClient.connect(s, { token: 'alice-token' });
    alice.send({ type: 'subscribe', id: 'w', payload: { address: 'vault/alice-order' } });
    for (let i = 0; i < 5; i++) alice.send({ type: 'send', id: `s${i}`, payload: { address: 'vault/alice-order', event: { type: i === 2 ? 'get' : 'inc' } } });
    await alice.until((m) => m.type === 'result' && m.id === 's4');
    const results = alice.messages.filter((m) => m.type === 'result').map((m) => (m as { id: string }).id);
    expect(results).toEqual(['s0', 's1', 's2', 's3', 's4']);
    const enqueued = await alice.until(() => alice.messages.filter((m) => m.type === 'next' && m.payload.type === 'mailbox.enqueued').length === 5);
    expect(enqueued).toBeDefined();
    const types = alice.messages.filter((m): m is NextMessage => m.type === 'next' && m.payload.type === 'mailbox.enqueued').map((m) => (m.payload.data as { type: string }).type);
    expect(types).toEqual(['inc', 'inc', 'get', 'inc', 'inc']);
  });
});

describe('without a hook', () => {
  it('lets every authenticated token reach every address, and refuses unknown tokens at the upgrade', async () => {
    const s = await startServer({ authenticate });
    const bob = await RawClient.connect(s, { token: 'bob-token' });
    bob.send({ type: 'ask', id: 'x', payload: { address: 'vault/alice-1', event: { type: 'get' } } });
    expect(await bob.until((m) => m.type === 'result')).toMatchObject({ id: 'x', payload: { data: 0 } });
    await expect(RawClient.connect(s, { token: 'eve-token' })).rejects.toThrow('refused: 401');
  });
});
