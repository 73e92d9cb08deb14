/**
 * The SSE event stream `GET /v1/actors/{kind}/{key}/events` of the gateway, read by a real
 * `EventSource` (the npm `eventsource` package, v4, Node 20) and by raw fetch: the same
 * records and public view as the WebSocket, `id: <epoch>:<seq>`, resume by `Last-Event-ID`
 * (or `?since=`), the recovered:false snapshot past the ring, token by header or `?token=`,
 * the authorize hook, keep-alive comments, and a slow client dropped and resumed by its
 * EventSource without a gap.
 */
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayOptions } from '../../src/gateway/createGateway.js';
import { redactToken } from '../../src/gateway/createGatewayServer.js';
import type { KindConfig } from '../../src/index.js';
import { closeAll, startGateway, type TestGateway } from '../gateway/helpers.js';
import { SECRET, until, vaultKind } from './helpers.js';

afterEach(closeAll);

interface Record {
  address: string;
  epoch: number;
  seq: number;
  type: string;
  data: { context?: { n: number } } | null;
  recovered?: false;
}

async function gateway(options: GatewayOptions = {}, replay?: number): Promise<TestGateway> {
  return startGateway({ kinds: { vault: vaultKind(replay) as KindConfig }, gateway: { eventsRetryMs: 10, ...options } });
}

/** Reads an SSE response as events (id, data) and comments, until `done` or the end. */
async function read(res: Response, done: (events: { id: string; data: Record }[], comments: string[]) => boolean, timeoutMs = 10_000) {
  const events: { id: string; data: Record }[] = [];
  const comments: string[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const t0 = Date.now();
  while (!done(events, comments)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out; got ${JSON.stringify(events).slice(0, 300)}`);
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buf += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      if (block.startsWith(':')) comments.push(block);
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id !== undefined && data !== undefined) events.push({ id, data: JSON.parse(data) as Record });
    }
  }
  await reader.cancel();
  return { events, comments };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('GET /v1/actors/{kind}/{key}/events', () => {
  it('streams the public snapshot, then every record, each with id <epoch>:<seq>; token by header or ?token=', async () => {
    const gw = await gateway({ token: 't0k' });
    gw.rt.tell('vault/1', { type: 'inc' } as never);
    await tick();
    const url = `${gw.url}/v1/actors/vault/1/events`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${url}?token=nope`)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: 'Bearer t0k' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const seq = gw.rt.view('vault/1')!.seq;
    gw.rt.tell('vault/1', { type: 'inc' } as never);
    const { events } = await read(res, (e) => e.some((x) => x.data.type === 'snapshot' && x.data.data?.context?.n === 2));
    expect(events[0]!.data).toMatchObject({ address: 'vault/1', seq, type: 'snapshot', data: { context: { n: 1, blob: '' } } });
    expect(events.map((e) => e.id)).toEqual(events.map((e) => `${e.data.epoch}:${e.data.seq}`));
    expect(events.map((e) => e.data.seq)).toEqual(events.map((_, i) => seq + i));
    expect(JSON.stringify(events)).not.toContain(SECRET);
    const byQuery = await fetch(`${url}?token=t0k`);
    expect(byQuery.status).toBe(200);
    await byQuery.body!.cancel();
    // A query token never reaches the log with the URL.
    expect(gw.logs.some((l) => (l.req as { url?: string } | undefined)?.url === '/v1/actors/vault/1/events?token=[redacted]')).toBe(true);
    // The whole value goes, up to the next parameter or fragment, whatever the case of the name.
    expect(redactToken('/x?a=1&TOKEN=s3cr3t&since=1:2#h')).toBe('/x?a=1&TOKEN=[redacted]&since=1:2#h');
    expect(redactToken('/x?token=a#token=b')).toBe('/x?token=[redacted]#token=b');
    expect(JSON.stringify(gw.logs)).not.toContain('t0k');
  });

  it('resumes after Last-Event-ID (or ?since=) with exactly the missed records, and past the ring with a recovered:false snapshot', async () => {
    const gw = await gateway({}, 8);
    gw.rt.tell('vault/1', { type: 'inc' } as never);
    await tick();
    const url = `${gw.url}/v1/actors/vault/1/events`;
    const first = (await read(await fetch(url), (e) => e.length > 0)).events[0]!;
    gw.rt.tell('vault/1', { type: 'inc' } as never);
    await tick();
    const { events } = await read(await fetch(url, { headers: { 'last-event-id': first.id } }), (e) => e.length === 3);
    expect(events.map((e) => [e.data.seq, e.data.type])).toEqual([
      [first.data.seq + 1, 'mailbox.enqueued'],
      [first.data.seq + 2, 'mailbox.delivered'],
      [first.data.seq + 3, 'snapshot'],
    ]);
    const again = (await read(await fetch(`${url}?since=${first.id}`), (e) => e.length === 3)).events;
    expect(again).toEqual(events);
    for (let i = 0; i < 5; i++) gw.rt.tell('vault/1', { type: 'inc' } as never);
    await tick();
    const gone = (await read(await fetch(url, { headers: { 'last-event-id': first.id } }), (e) => e.length > 0)).events[0]!;
    expect(gone.data).toMatchObject({ type: 'snapshot', recovered: false, seq: gw.rt.view('vault/1')!.seq, data: { context: { n: 7 } } });
    const bad = await fetch(url, { headers: { 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_INVALID_REQUEST');
    expect((await fetch(`${gw.url}/v1/actors/nokind/1/events`)).status).toBe(404);
  });

  it("refuses another user's actor with 403 INTERLOCK_FORBIDDEN", async () => {
    const users = new Map([['alice-token', 'alice']]);
    const gw = await gateway({
      authenticate: (t) => users.has(t),
      authorize: ({ token, address }) => address.startsWith(`vault/${users.get(token ?? '')}-`),
    });
    const res = await fetch(`${gw.url}/v1/actors/vault/bob-1/events?token=alice-token`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_FORBIDDEN');
    const mine = await fetch(`${gw.url}/v1/actors/vault/alice-1/events?token=alice-token`);
    expect(mine.status).toBe(200);
    await mine.body!.cancel();
    expect(gw.rt.view('vault/bob-1')).toBeUndefined();
  });

  it("holds a limited token to its own actors on the HTTP routes too: state, mailbox, list, tell, ask, cancel, revive and chat", async () => {
    const users = new Map([['alice-token', 'alice']]);
    const gw = await gateway({
      authenticate: (t) => users.has(t),
      authorize: ({ token, address }) => address.startsWith(`vault/${users.get(token ?? '')}-`) || address === `session/${users.get(token ?? '')}-chat`,
    });
    gw.rt.tell('vault/bob-1', { type: 'inc' } as never);
    const as = { authorization: 'Bearer alice-token' };
    const call = async (method: string, path: string, body?: unknown, extra: { [header: string]: string } = {}) => {
      const res = await fetch(`${gw.url}${path}`, { method, headers: { ...as, ...extra, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const json = (await res.json()) as { error?: { code: string } };
      return `${res.status} ${json.error?.code ?? 'ok'}`;
    };
    const chat = { model: 'interlock-test', messages: [{ role: 'user', content: 'hi' }] };
    const forbidden = '403 INTERLOCK_FORBIDDEN';
    expect([
      await call('GET', '/v1/actors/vault/bob-1'),
      await call('GET', '/v1/actors/vault/bob-1/mailbox'),
      await call('GET', '/v1/actors?kind=vault'),
      await call('POST', '/v1/actors/vault/bob-1/tell', { event: { type: 'inc' } }),
      await call('POST', '/v1/actors/vault/bob-1/ask', { event: { type: 'get' } }),
      await call('POST', '/v1/actors/vault/bob-1/cancel'),
      await call('POST', '/v1/actors/vault/bob-1/revive'),
      await call('POST', '/v1/chat/completions', chat, { 'x-session-id': 'bob-chat' }),
    ]).toEqual(Array(8).fill(forbidden));
    expect((gw.rt.snapshot('vault/bob-1')!.context as { n: number }).n).toBe(1);
    expect(await call('POST', '/v1/actors/vault/alice-1/ask', { event: { type: 'get' } })).toBe('200 ok');
    expect(await call('GET', '/v1/actors/vault/alice-1')).toBe('200 ok');
    expect(await call('POST', '/v1/chat/completions', chat, { 'x-session-id': 'alice-chat' })).toBe('200 ok');
  });

  it("applies the WebSocket's Origin rule: another origin is 403 unless allowlisted, which gets CORS headers", async () => {
    const gw = await gateway({ websocket: { origins: ['https://app.example'] } });
    const url = `${gw.url}/v1/actors/vault/o1/events`;
    const foreign = await fetch(url, { headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_FORBIDDEN');
    const listed = await fetch(url, { headers: { origin: 'https://app.example' } });
    expect([listed.status, listed.headers.get('access-control-allow-origin'), listed.headers.get('vary')]).toEqual([200, 'https://app.example', 'Origin']);
    await listed.body!.cancel();
    // The server's own origin (and a request without Origin) needs no CORS header.
    const own = await fetch(url, { headers: { origin: gw.url } });
    expect([own.status, own.headers.get('access-control-allow-origin')]).toEqual([200, null]);
    await own.body!.cancel();
    // With the WebSocket off, only the server's own origin remains.
    const closed = await gateway({ websocket: false });
    expect((await fetch(`${closed.url}/v1/actors/vault/o1/events`, { headers: { origin: 'https://app.example' } })).status).toBe(403);
  });

  it('sends keep-alive comments while nothing happens', async () => {
    const gw = await gateway({ keepAliveMs: 20 });
    const { comments } = await read(await fetch(`${gw.url}/v1/actors/vault/idle/events`), (_e, c) => c.length >= 2);
    expect(comments.slice(0, 2)).toEqual([': keep-alive', ': keep-alive']);
  });
});

describe('with a real EventSource', () => {
  it('is dropped when it leaves more than maxBufferedBytes unread, reconnects with Last-Event-ID, and misses nothing', async () => {
    const gw = await gateway({ maxBufferedBytes: 64 * 1024 });
    gw.rt.tell('vault/1', { type: 'inc' } as never);
    await tick();
    const got: Record[] = [];
    const ids: string[] = [];
    const es = new EventSource(`${gw.url}/v1/actors/vault/1/events`);
    es.onmessage = (e) => {
      got.push(JSON.parse(e.data as string) as Record);
      ids.push(e.lastEventId);
    };
    try {
      await until(() => got.length > 0);
      // Bursts of ~100 KB snapshots: far more than 64 KiB at once, so the stream is dropped, repeatedly.
      for (let i = 0; i < 40; i++) gw.rt.tell('vault/1', { type: 'big', size: 100_000 } as never);
      await tick();
      const last = gw.rt.view('vault/1')!.seq;
      await until(() => got.at(-1)?.seq === last, 20_000);
    } finally {
      es.close();
    }
    expect(gw.logs.filter((l) => l.msg === 'slow_client_dropped').length).toBeGreaterThan(0);
    expect(got.map((r) => r.seq)).toEqual(got.map((_, i) => got[0]!.seq + i));
    expect(got.at(-1)!.data!.context!.n).toBe(41);
    expect(ids).toEqual(got.map((r) => `${r.epoch}:${r.seq}`));
  });
});
