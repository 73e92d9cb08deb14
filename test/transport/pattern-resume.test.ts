/**
 * A pattern subscription's `since` (a point per address), spoken by hand over a real
 * socket: what each kind of point is answered with (replay, a `recovered: false` snapshot
 * when the records are gone or the actor is, a snapshot for a live address it does not
 * name), every coded refusal of a malformed `since` (and that the connection survives
 * them), and that `since` cannot reach past what the pattern (as authorized) covers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizeRequest } from '../../src/transport/options.js';
import { MAX_RESUME_ADDRESSES, type ErrorMessage, type NextMessage } from '../../src/transport/protocol.js';
import { bootEpoch, toWireEpoch } from '../../src/transport/wireRecord.js';
import { closeAllServers, RawClient, startServer, vaultKind } from './helpers.js';

afterEach(closeAllServers);

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const nexts = (c: RawClient, id: string) => c.of(id).filter((m): m is NextMessage => m.type === 'next').map((m) => m.payload);
const refusal = async (c: RawClient, id: string) => (await c.until<ErrorMessage>((m) => m.type === 'error' && m.id === id)).payload;
/** A round trip: everything the server sent before it has arrived. */
const settle = async (c: RawClient) => {
  const n = c.messages.filter((m) => m.type === 'pong').length;
  c.send({ type: 'ping' });
  await c.until(() => c.messages.filter((m) => m.type === 'pong').length > n);
};
const inc = { type: 'inc' } as never;

describe('a pattern subscription with since', () => {
  it('replays each named address after its point, snapshots a live address it does not name, then goes live', async () => {
    const s = await startServer();
    for (const a of ['vault/a', 'vault/b', 'vault/c']) s.rt.tell(a, inc);
    await tick();
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'p', payload: { pattern: 'vault/*' } });
    await settle(c);
    s.rt.tell('vault/a', inc);
    s.rt.tell('vault/b', inc);
    await c.until((m) => m.type === 'next' && m.payload.address === 'vault/b' && m.payload.type === 'snapshot');
    const a = nexts(c, 'p').filter((p) => p.address === 'vault/a').at(-1)!;
    const b = nexts(c, 'p').filter((p) => p.address === 'vault/b').at(-1)!;
    c.terminate();

    // Meanwhile: a and b move on, c is untouched (the client has no point for it), d appears.
    for (const x of ['vault/a', 'vault/a', 'vault/b', 'vault/d']) s.rt.tell(x, inc);
    await tick();
    const r = await RawClient.connect(s);
    r.send({ type: 'subscribe', id: 'p', payload: { pattern: 'vault/*', since: { 'vault/a': { epoch: a.epoch, seq: a.seq }, 'vault/b': { epoch: b.epoch, seq: b.seq } } } });
    await settle(r);
    s.rt.tell('vault/c', inc);
    await r.until((m) => m.type === 'next' && m.payload.address === 'vault/c' && m.payload.type === 'snapshot' && m.payload.seq > s.rt.view('vault/c')!.seq - 1);
    const got = nexts(r, 'p');
    const of = (address: string) => got.filter((p) => p.address === address);
    // a and b: exactly the records after their points, gapless, none flagged.
    expect(of('vault/a').map((p) => p.seq)).toEqual(Array.from({ length: s.rt.view('vault/a')!.seq - a.seq }, (_, i) => a.seq + 1 + i));
    expect(of('vault/b').map((p) => p.seq)).toEqual(Array.from({ length: s.rt.view('vault/b')!.seq - b.seq }, (_, i) => b.seq + 1 + i));
    expect(got.some((p) => p.recovered === false)).toBe(false);
    // c and d, not named: their current snapshot first (not flagged: nothing was promised), then c goes live.
    expect(of('vault/d')).toEqual([expect.objectContaining({ type: 'snapshot', seq: s.rt.view('vault/d')!.seq, data: expect.objectContaining({ context: { n: 1, blob: '' } }) })]);
    expect(of('vault/d')[0]!.recovered).toBeUndefined();
    const cs = of('vault/c');
    expect(cs[0]).toMatchObject({ type: 'snapshot', data: { context: { n: 1, blob: '' } } });
    expect(cs.map((p) => p.seq)).toEqual(cs.map((_, i) => cs[0]!.seq + i));
    expect(cs.at(-1)).toMatchObject({ type: 'snapshot', data: { context: { n: 2 } } });
    // Per address in order; the replays come before anything live.
    expect(got.findIndex((p) => p.address === 'vault/c' && p.type !== 'snapshot')).toBeGreaterThan(got.findLastIndex((p) => p.address === 'vault/a'));
  });

  it('answers a point whose records left the ring with one recovered:false snapshot, then gapless', async () => {
    const s = await startServer({ kinds: { tiny: vaultKind(8) as never } });
    s.rt.tell('tiny/a', inc);
    await tick();
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'p', payload: { pattern: 'tiny/*', since: {} } });
    const first = (await c.until<NextMessage>((m) => m.type === 'next')).payload;
    c.terminate();
    for (let i = 0; i < 10; i++) s.rt.tell('tiny/a', inc);
    await tick();
    const r = await RawClient.connect(s);
    r.send({ type: 'subscribe', id: 'p', payload: { pattern: 'tiny/*', since: { 'tiny/a': { epoch: first.epoch, seq: first.seq } } } });
    const snap = (await r.until<NextMessage>((m) => m.type === 'next')).payload;
    expect(snap).toMatchObject({ address: 'tiny/a', type: 'snapshot', recovered: false, epoch: first.epoch, seq: s.rt.view('tiny/a')!.seq, data: { context: { n: 11 } } });
    s.rt.tell('tiny/a', inc);
    await r.until((m) => m.type === 'next' && m.payload.seq === snap.seq + 3);
    expect(nexts(r, 'p').map((p) => p.seq)).toEqual([snap.seq, snap.seq + 1, snap.seq + 2, snap.seq + 3]);
  });

  it('answers a point of an actor that was passivated with a recovered:false snapshot of no actor, then its next activation from seq 1', async () => {
    const s = await startServer();
    s.rt.tell('vault/a', inc);
    await tick();
    const point = { epoch: 0, seq: 0 };
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'p', payload: { pattern: 'vault/*', since: {} } });
    Object.assign(point, (await c.until<NextMessage>((m) => m.type === 'next')).payload);
    c.terminate();
    expect(s.rt.passivate('vault/a')).toBe(true);
    const r = await RawClient.connect(s);
    r.send({ type: 'subscribe', id: 'p', payload: { pattern: 'vault/*', since: { 'vault/a': { epoch: point.epoch, seq: point.seq } } } });
    await settle(r);
    expect(nexts(r, 'p')).toEqual([expect.objectContaining({ address: 'vault/a', type: 'snapshot', recovered: false, epoch: 0, seq: 0, data: null })]);
    s.rt.tell('vault/a', inc);
    await r.until((m) => m.type === 'next' && m.payload.type === 'snapshot' && m.payload.epoch !== 0);
    const fresh = nexts(r, 'p').slice(1);
    expect(fresh[0]).toMatchObject({ seq: 1, type: 'lifecycle.activated' });
    expect(fresh[0]!.epoch).not.toBe(point.epoch);
    expect(fresh.map((p) => p.seq)).toEqual(fresh.map((_, i) => i + 1));
  });

  it('answers a point of an earlier activation with the current snapshot (restored from the store, then inc) flagged recovered:false', async () => {
    const s = await startServer();
    s.rt.tell('vault/a', inc);
    await tick();
    const old = s.rt.view('vault/a')!;
    expect(s.rt.passivate('vault/a')).toBe(true);
    s.rt.tell('vault/a', inc);
    await tick();
    const base = bootEpoch(s.rt);
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'p', payload: { pattern: 'vault/*', since: { 'vault/a': { epoch: toWireEpoch(base, old.epoch), seq: old.seq } } } });
    const snap = (await c.until<NextMessage>((m) => m.type === 'next' && m.id === 'p')).payload;
    const now = s.rt.view('vault/a')!;
    expect(now.epoch).not.toBe(old.epoch);
    expect(snap).toMatchObject({ type: 'snapshot', recovered: false, epoch: toWireEpoch(base, now.epoch), seq: now.seq, data: { context: { n: 2 } } });
  });
});

describe('a malformed since', () => {
  it('is refused with a coded error naming what is wrong, and the connection goes on', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    const point = { epoch: 1, seq: 1 };
    const tooMany = Object.fromEntries(Array.from({ length: MAX_RESUME_ADDRESSES + 1 }, (_, i) => [`vault/${i}`, point]));
    const cases: [string, object, string, RegExp][] = [
      ['outside', { pattern: 'vault/a-*', since: { 'vault/b-1': point } }, 'INTERLOCK_INVALID_MESSAGE', /'vault\/b-1', which pattern 'vault\/a-\*' does not match/],
      ['other-kind', { pattern: 'vault/*', since: { 'tiny/1': point } }, 'INTERLOCK_UNKNOWN_KIND', /kind 'tiny'/],
      ['not-address', { pattern: '*', since: { 'not an address': point } }, 'INTERLOCK_INVALID_ADDRESS', /not 'kind\/key'/],
      ['upper', { pattern: '*', since: { 'Vault/1': point } }, 'INTERLOCK_INVALID_ADDRESS', /"Vault\/1"/],
      ['too-many', { pattern: 'vault/*', since: tooMany }, 'INTERLOCK_INVALID_MESSAGE', /more than 1000 addresses/],
      ['long-key', { pattern: 'vault/*', since: { [`vault/${'k'.repeat(500)}`]: point } }, 'INTERLOCK_INVALID_MESSAGE', /has a key that is not an address/],
      ['no-seq', { pattern: 'vault/*', since: { 'vault/1': { epoch: 1 } } }, 'INTERLOCK_INVALID_MESSAGE', /'payload\.since\.vault\/1' must have required property 'seq'/],
      ['negative', { pattern: 'vault/*', since: { 'vault/1': { epoch: 1, seq: -1 } } }, 'INTERLOCK_INVALID_MESSAGE', /'payload\.since\.vault\/1\.seq' must be >= 0/],
      ['fraction', { pattern: 'vault/*', since: { 'vault/1': { epoch: 1.5, seq: 1 } } }, 'INTERLOCK_INVALID_MESSAGE', /epoch' must be integer/],
      ['extra', { pattern: 'vault/*', since: { 'vault/1': { epoch: 1, seq: 1, at: 2 } } }, 'INTERLOCK_INVALID_MESSAGE', /additional properties \('at'\)/],
      ['number', { pattern: 'vault/*', since: { 'vault/1': 7 } }, 'INTERLOCK_INVALID_MESSAGE', /'payload\.since\.vault\/1' must be object/],
      ['array', { pattern: 'vault/*', since: [] }, 'INTERLOCK_INVALID_MESSAGE', /'payload\.since' must be object/],
      ['point-on-pattern', { pattern: 'vault/*', since: point }, 'INTERLOCK_INVALID_MESSAGE', /of a pattern is a map of points by address/],
      ['map-on-address', { address: 'vault/1', since: { 'vault/1': point } }, 'INTERLOCK_INVALID_MESSAGE', /of an address is \{ epoch, seq \}/],
      ['bad-point-on-address', { address: 'vault/1', since: { epoch: 1, seq: 'x' } }, 'INTERLOCK_INVALID_MESSAGE', /'payload\.since\.seq' must be integer/],
    ];
    for (const [id, payload] of cases) c.send({ type: 'subscribe', id, payload });
    for (const [id, , code, message] of cases) {
      const e = await refusal(c, id);
      expect({ id, code: e.code }).toEqual({ id, code });
      expect(e.message, id).toMatch(message);
    }
    // None of them took a subscription (nor its id), and the connection still works.
    c.send({ type: 'subscribe', id: 'outside', payload: { pattern: 'vault/*', since: {} } });
    s.rt.tell('vault/1', inc);
    await c.until((m) => m.type === 'next' && m.id === 'outside');
    expect(c.messages.filter((m) => m.type === 'next' && m.id !== 'outside')).toEqual([]);
  });

  it('cannot reach past the authorized pattern: a point for another user is refused, and nothing of theirs is sent', async () => {
    const users = new Map([['alice-token', 'alice']]);
    const authorize = ({ token, address, pattern }: AuthorizeRequest) => pattern && address === `vault/${users.get(token ?? '')}-*`;
    const s = await startServer({ authenticate: (t) => users.has(t), authorize });
    s.rt.tell('vault/bob-1', inc);
    s.rt.tell('vault/alice-1', inc);
    await tick();
    const alice = await RawClient.connect(s, { token: 'alice-token' });
    alice.send({ type: 'subscribe', id: 'sneak', payload: { pattern: 'vault/alice-*', since: { 'vault/bob-1': { epoch: 1, seq: 0 } } } });
    alice.send({ type: 'subscribe', id: 'wide', payload: { pattern: 'vault/*', since: {} } });
    alice.send({ type: 'subscribe', id: 'own', payload: { pattern: 'vault/alice-*', since: {} } });
    expect((await refusal(alice, 'sneak')).code).toBe('INTERLOCK_INVALID_MESSAGE');
    expect((await refusal(alice, 'wide')).code).toBe('INTERLOCK_FORBIDDEN');
    await settle(alice);
    expect(alice.messages.filter((m): m is NextMessage => m.type === 'next').map((m) => [m.id, m.payload.address])).toEqual([['own', 'vault/alice-1']]);
  });
});
