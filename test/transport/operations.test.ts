/**
 * Subscriptions, sends and asks over a real socket, spoken by hand: what each answers,
 * every coded error the server produces, the id rules (4409, complete), patterns,
 * batching, and that only the kind's public view crosses the wire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode, type ErrorMessage, type NextMessage, type ResultMessage } from '../../src/transport/protocol.js';
import type { KindConfig } from '../../src/index.js';
import { closeAllServers, RawClient, SECRET, startServer, vaultKind } from './helpers.js';

afterEach(closeAllServers);

const nexts = (c: RawClient, id: string) => c.of(id).filter((m): m is NextMessage => m.type === 'next');
const code = async (c: RawClient, id: string) => (await c.until<ErrorMessage>((m) => m.type === 'error' && m.id === id)).payload.code;
const seqs = (ms: NextMessage[]) => ms.map((m) => m.payload.seq);

describe('subscribe', () => {
  it('starts with the public snapshot at the current seq, then every live record in order, gapless', async () => {
    const s = await startServer();
    s.rt.tell('vault/1', { type: 'inc' } as never);
    await new Promise((r) => setImmediate(r));
    const seq = s.rt.view('vault/1')!.seq;
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'a', payload: { address: 'vault/1' } });
    c.send({ type: 'send', id: 'r', payload: { address: 'vault/1', event: { type: 'inc' } } });
    expect(await c.until<ResultMessage>((m) => m.type === 'result' && m.id === 'r')).toEqual({ type: 'result', id: 'r', payload: { data: null } });
    await c.until((m) => m.type === 'next' && m.payload.type === 'snapshot' && m.payload.seq > seq);
    const got = nexts(c, 'a');
    expect(got[0]!.payload).toMatchObject({ address: 'vault/1', seq, type: 'snapshot', data: { value: {}, status: 'active', context: { n: 1, blob: '' } } });
    expect(got[0]!.payload.recovered).toBeUndefined();
    expect(seqs(got)).toEqual(got.map((_, i) => seq + i));
    expect(got.map((m) => m.payload.type)).toEqual(['snapshot', 'mailbox.enqueued', 'mailbox.delivered', 'snapshot']);
    expect(got.at(-1)!.payload.data).toMatchObject({ context: { n: 2 } });
    expect(new Set(got.map((m) => m.payload.epoch)).size).toBe(1);
  });

  it('sends no snapshot for an actor that is not live; its records start at seq 1 when it activates', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'a', payload: { address: 'vault/new' } });
    c.send({ type: 'send', id: 'r', payload: { address: 'vault/new', event: { type: 'inc' } } });
    await c.until((m) => m.type === 'next' && m.payload.type === 'snapshot');
    expect(nexts(c, 'a')[0]!.payload).toMatchObject({ seq: 1, type: 'lifecycle.activated' });
  });

  it('follows a pattern: every address of a kind, a key prefix, or everything; live records only', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'kind', payload: { pattern: 'vault/*' } });
    c.send({ type: 'subscribe', id: 'prefix', payload: { pattern: 'vault/a-*' } });
    c.send({ type: 'subscribe', id: 'all', payload: { pattern: '*' } });
    for (const key of ['a-1', 'b-1', 'a-2']) c.send({ type: 'send', id: key, payload: { address: `vault/${key}`, event: { type: 'inc' } } });
    await c.until((m) => m.type === 'next' && m.id === 'all' && m.payload.address === 'vault/a-2' && m.payload.type === 'snapshot' && (m.payload.data as { context: { n: number } }).context.n === 1);
    const addresses = (id: string) => [...new Set(nexts(c, id).map((m) => m.payload.address))];
    expect(addresses('kind')).toEqual(['vault/a-1', 'vault/b-1', 'vault/a-2']);
    expect(addresses('prefix')).toEqual(['vault/a-1', 'vault/a-2']);
    expect(nexts(c, 'all').length).toBe(nexts(c, 'kind').length);
    for (const id of ['kind', 'all']) {
      for (const a of addresses(id)) expect(seqs(nexts(c, id).filter((m) => m.payload.address === a))[0], `${id} ${a}`).toBe(1);
    }
  });
});

describe('send and ask', () => {
  it("answers an ask with the machine's reply, and a send with null once it is queued", async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'send', id: 's1', payload: { address: 'vault/1', event: { type: 'inc' }, priority: 'high' } });
    c.send({ type: 'ask', id: 'a1', payload: { address: 'vault/1', event: { type: 'get' }, timeoutMs: 5_000 } });
    expect(await c.until((m) => m.type === 'result' && m.id === 'a1')).toEqual({ type: 'result', id: 'a1', payload: { data: 1 } });
    expect(c.of('s1')).toEqual([{ type: 'result', id: 's1', payload: { data: null } }]);
  });

  it('answers every refusal with its code, on its id, and keeps the connection', async () => {
    const small = { ...vaultKind(), mailbox: { capacity: 1 }, maxActive: 1 } as KindConfig;
    const s = await startServer({ askTimeoutMs: 50, kinds: { small } });
    const c = await RawClient.connect(s);
    const to = (address: string, type: string, kind = 'send') => ({ type: kind, id: `${kind}:${address}:${type}`, payload: { address, event: { type } } });
    const cases: [object, string][] = [
      [to('nokind/1', 'inc'), 'INTERLOCK_UNKNOWN_KIND'],
      [to('Vault/1', 'inc'), 'INTERLOCK_INVALID_ADDRESS'],
      [to('vault/1', 'admin'), 'INTERLOCK_EVENT_NOT_PUBLIC'],
      [to('vault/1', '@restart.done'), 'INTERLOCK_INVALID_EVENT'],
      [to('vault/1', 'xstate.init'), 'INTERLOCK_INVALID_EVENT'],
      [to('vault/1', 'never', 'ask'), 'INTERLOCK_DEADLINE_EXCEEDED'],
      [to('vault/1', 'bigint', 'ask'), 'INTERLOCK_INTERNAL'],
      [to('vault/1', 'boom', 'ask'), 'INTERLOCK_ACTOR_CRASHED'],
      [{ type: 'ask', id: 'full-1', payload: { address: 'small/1', event: { type: 'never' }, timeoutMs: 2_000 } }, 'INTERLOCK_DEADLINE_EXCEEDED'],
      [{ type: 'send', id: 'full-2', payload: { address: 'small/1', event: { type: 'never' } } }, 'INTERLOCK_MAILBOX_FULL'],
      [to('small/2', 'inc'), 'INTERLOCK_ACTOR_LIMIT'],
      [{ type: 'subscribe', id: 'p1', payload: { pattern: 'vault/x*y*' } }, 'INTERLOCK_INVALID_ADDRESS'],
      [{ type: 'subscribe', id: 'p2', payload: { pattern: 'nokind/*' } }, 'INTERLOCK_UNKNOWN_KIND'],
      [{ type: 'subscribe', id: 'p3', payload: { address: 'vault/1', pattern: '*' } }, 'INTERLOCK_INVALID_MESSAGE'],
      [{ type: 'subscribe', id: 'p4', payload: { pattern: '*', since: { epoch: 1, seq: 1 } } }, 'INTERLOCK_INVALID_MESSAGE'],
      [{ type: 'send', id: 'm1', payload: { address: 'vault/1', event: { type: 7 } } }, 'INTERLOCK_INVALID_MESSAGE'],
      [{ type: 'ask', id: 'm2', payload: { address: 'vault/1', event: { type: 'get' }, timeoutMs: -1 } }, 'INTERLOCK_INVALID_MESSAGE'],
      [{ type: 'teleport', id: 'm3' }, 'INTERLOCK_INVALID_MESSAGE'],
    ];
    for (const [m] of cases) c.send(m);
    for (const [m, want] of cases) expect(await code(c, (m as { id: string }).id), JSON.stringify(m)).toBe(want);
    // The crash's own text (which names the secret) stays in the server.
    const crash = c.of('ask:vault/1:boom')[0] as ErrorMessage;
    expect(crash.payload.message).not.toContain(SECRET);
    c.send('{"type":');
    c.send({ id: 'no-type' });
    await c.until((m) => m.type === 'error' && m.id === 'no-type');
    expect(c.messages.filter((m) => m.type === 'error' && m.id === undefined)).toEqual([
      { type: 'error', payload: { code: 'INTERLOCK_INVALID_MESSAGE', message: expect.stringContaining('not JSON') } },
    ]);
    c.send({ type: 'ping' });
    await c.until((m) => m.type === 'pong');
  });
});

describe('ids', () => {
  it('closes 4409 when an id in use (a subscription or a pending ask) is used again', async () => {
    const s = await startServer();
    const a = await RawClient.connect(s);
    a.send({ type: 'subscribe', id: 'x', payload: { address: 'vault/1' } });
    a.send({ type: 'subscribe', id: 'x', payload: { address: 'vault/2' } });
    expect((await a.closed).code).toBe(CloseCode.DuplicateId);
    const b = await RawClient.connect(s);
    b.send({ type: 'ask', id: 'q', payload: { address: 'vault/1', event: { type: 'never' } } });
    b.send({ type: 'send', id: 'q', payload: { address: 'vault/1', event: { type: 'inc' } } });
    expect((await b.closed).code).toBe(CloseCode.DuplicateId);
  });

  it('answers complete after the last message of that id, sends nothing more for it, and frees the id', async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'x', payload: { address: 'vault/1' } });
    c.send({ type: 'send', id: 's', payload: { address: 'vault/1', event: { type: 'inc' } } });
    await c.until((m) => m.type === 'next' && m.id === 'x' && m.payload.type === 'snapshot');
    c.send({ type: 'complete', id: 'x' });
    c.send({ type: 'complete', id: 'unknown' }); // ignored
    await c.until((m) => m.type === 'complete' && m.id === 'x');
    const before = c.of('x').length;
    c.send({ type: 'send', id: 's2', payload: { address: 'vault/1', event: { type: 'inc' } } });
    c.send({ type: 'subscribe', id: 'x', payload: { address: 'vault/2' } });
    c.send({ type: 'ask', id: 'g', payload: { address: 'vault/1', event: { type: 'get' } } });
    await c.until((m) => m.type === 'result' && m.id === 'g');
    expect(c.of('x').slice(before - 1)).toEqual([{ type: 'complete', id: 'x' }]);
    expect(c.messages.filter((m) => m.type === 'complete')).toEqual([{ type: 'complete', id: 'x' }]);
  });

  it("cancels an ask on complete: the envelope leaves the actor's mailbox and no answer comes", async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'watch', payload: { pattern: 'vault/*' } });
    c.send({ type: 'ask', id: 'q', payload: { address: 'vault/1', event: { type: 'never' } } });
    await c.until((m) => m.type === 'next' && m.payload.type === 'mailbox.postponed');
    c.send({ type: 'complete', id: 'q' });
    const rejected = await c.until<NextMessage>((m) => m.type === 'next' && m.payload.type === 'mailbox.rejected');
    expect(rejected.payload.data).toMatchObject({ type: 'never', code: 'INTERLOCK_CANCELLED' });
    expect(c.of('q')).toEqual([{ type: 'complete', id: 'q' }]);
    expect(s.rt.view('vault/1')!.postponed).toBe(0);
  });

  it('refuses a subscription past maxSubscriptions with a coded error, and takes one again after a complete', async () => {
    const s = await startServer({ maxSubscriptions: 2 });
    const c = await RawClient.connect(s);
    for (const id of ['1', '2', '3']) c.send({ type: 'subscribe', id, payload: { address: `vault/${id}` } });
    expect(await code(c, '3')).toBe('INTERLOCK_TOO_MANY_SUBSCRIPTIONS');
    c.send({ type: 'complete', id: '1' });
    c.send({ type: 'subscribe', id: '4', payload: { pattern: '*' } });
    c.send({ type: 'send', id: 's', payload: { address: 'vault/9', event: { type: 'inc' } } });
    await c.until((m) => m.type === 'next' && m.id === '4');
    expect(c.of('4').every((m) => m.type === 'next')).toBe(true);
  });
});

describe('what crosses the wire', () => {
  it("carries the kind's view and never the context's secret, nor a crash's text, in any record", async () => {
    const s = await startServer();
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'all', payload: { pattern: '*' } });
    c.send({ type: 'subscribe', id: 'one', payload: { address: 'vault/1' } });
    // An event's payload stays in the mailbox: records name its type only.
    ['inc', 'boom', 'inc', 'get'].forEach((type, i) => c.send({ type: 'ask', id: `q${i}`, payload: { address: 'vault/1', event: { type, password: 'hunter2' }, timeoutMs: 2_000 } }));
    await c.until((m) => m.type === 'next' && m.payload.type === 'lifecycle.restarted');
    await c.until((m) => m.type === 'result' && (m.payload as { data: unknown }).data === 1);
    const crashed = await c.until<NextMessage>((m) => m.type === 'next' && m.payload.type === 'lifecycle.crashed');
    expect(crashed.payload.data).toEqual({});
    expect(c.frames.join('\n')).not.toContain(SECRET);
    expect(c.frames.join('\n')).not.toContain('machine failure');
    expect(c.frames.join('\n')).not.toContain('hunter2');
    expect(c.messages.some((m) => m.type === 'next' && m.payload.type === 'mailbox.enqueued')).toBe(true);
    const snap = nexts(c, 'one').find((m) => m.payload.type === 'snapshot')!;
    expect(Object.keys((snap.payload.data as { context: object }).context).sort()).toEqual(['blob', 'n']);
  });
});

describe('batching', () => {
  it('sends a JSON array of messages per frame only to a client that asked, same messages in the same order', async () => {
    const s = await startServer();
    const plain = await RawClient.connect(s);
    const batched = await RawClient.connect(s, { init: { batch: true } });
    expect(batched.messages[0]).toMatchObject({ type: 'connection_ack', payload: { batch: true } });
    for (const c of [plain, batched]) c.send({ type: 'subscribe', id: 'a', payload: { pattern: 'vault/*' } });
    plain.send({ type: 'ping' });
    await plain.until((m) => m.type === 'pong');
    batched.send({ type: 'ping' });
    await batched.until((m) => m.type === 'pong');
    for (let i = 0; i < 20; i++) s.rt.tell(`vault/${i % 3}`, { type: 'inc' } as never);
    const done = (c: RawClient) => c.until((m) => m.type === 'next' && m.payload.address === 'vault/1' && (m.payload.data as { context?: { n: number } })?.context?.n === 7);
    await Promise.all([done(plain), done(batched)]);
    await new Promise((r) => setTimeout(r, 20));
    expect(batched.messages.slice(1)).toEqual(plain.messages.slice(1));
    expect(plain.frames.every((f) => f.startsWith('{'))).toBe(true);
    expect(batched.frames.some((f) => f.startsWith('['))).toBe(true);
    expect(batched.frames.length).toBeLessThan(plain.frames.length / 5);
  });
});
