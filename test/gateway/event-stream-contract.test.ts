/**
 * The exact contract of `GET /v1/actors/{kind}/{key}/events` (src/gateway/events.ts) over
 * real HTTP: the SSE headers, the coded refusals and the words in them that tell the
 * client the fix (unknown kind, foreign Origin, a resume point that is not
 * `<epoch>:<seq>`, a token the authorize hook refuses), what the authorize hook is asked,
 * an empty Last-Event-ID leaving `?since=` in charge, no keep-alive comments when they are
 * off, and the log line of a slow client dropped.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayOptions } from '../../src/gateway/createGateway.js';
import type { KindConfig } from '../../src/index.js';
import type { AuthorizeRequest } from '../../src/transport/options.js';
import { until, vaultKind } from '../transport/helpers.js';
import { closeAll, startGateway, type TestGateway } from './helpers.js';

afterEach(closeAll);

async function gateway(options: GatewayOptions = {}): Promise<TestGateway> {
  return startGateway({ kinds: { vault: vaultKind() as KindConfig }, gateway: { eventsRetryMs: 10, ...options } });
}

interface WireError {
  code: string;
  message: string;
  param: string | null;
}

async function refusal(res: Response): Promise<{ status: number; error: WireError }> {
  return { status: res.status, error: ((await res.json()) as { error: WireError }).error };
}

/** GET with node:http, so every response header is visible (fetch hides `connection`). */
function rawGet(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET' }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Reads SSE text until `done(text)`, bounded by the number of chunks; then cancels. */
async function readUntil(res: Response, done: (text: string) => boolean, maxChunks = 1_000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (let i = 0; i < maxChunks && !done(text); i++) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe('GET /v1/actors/{kind}/{key}/events: headers', () => {
  it('answers 200 with the SSE headers: no-cache, keep-alive, x-accel-buffering no; no CORS header for a request without Origin', async () => {
    const gw = await gateway();
    const res = await rawGet(`${gw.url}/v1/actors/vault/h1/events`);
    try {
      expect(res.statusCode).toBe(200);
      expect(res.headers).toMatchObject({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      res.destroy();
    }
  });
});

describe('GET /v1/actors/{kind}/{key}/events: refusals', () => {
  it('an unknown kind is 404 INTERLOCK_UNKNOWN_KIND naming the known kinds', async () => {
    const gw = await gateway();
    const { status, error } = await refusal(await fetch(`${gw.url}/v1/actors/nokind/1/events`));
    expect(status).toBe(404);
    expect(error.code).toBe('INTERLOCK_UNKNOWN_KIND');
    expect(error.message).toContain('Known kinds: session, vault.');
  });

  it("a foreign Origin is 403 INTERLOCK_FORBIDDEN telling the operator to add it to the WebSocket's origins", async () => {
    const gw = await gateway();
    const { status, error } = await refusal(await fetch(`${gw.url}/v1/actors/vault/1/events`, { headers: { origin: 'https://evil.example' } }));
    expect(status).toBe(403);
    expect(error.code).toBe('INTERLOCK_FORBIDDEN');
    expect(error.message).toBe("This Origin may not read the event stream here. Add it to the server's WebSocket `origins` (they apply to this stream too).");
  });

  it('a resume point that is not exactly <epoch>:<seq> of safe integers is 400 INTERLOCK_INVALID_REQUEST on last-event-id, saying what it must be', async () => {
    const gw = await gateway();
    for (const since of ['x1:2', '1:2x', '9999999999999999:1', '1:9999999999999999']) {
      const { status, error } = await refusal(await fetch(`${gw.url}/v1/actors/vault/1/events?since=${encodeURIComponent(since)}`));
      expect(status, since).toBe(400);
      expect(error, since).toEqual({
        code: 'INTERLOCK_INVALID_REQUEST',
        message: 'Invalid resume point: Last-Event-ID (or ?since=) must be <epoch>:<seq>, the id of the last event received.',
        param: 'last-event-id',
        type: 'invalid_request_error',
      });
    }
  });

  it('asks the authorize hook for subscribe to the exact address (not a pattern); a refusal is 403 naming the action', async () => {
    const asked: AuthorizeRequest[] = [];
    const gw = await gateway({ authorize: (req) => (asked.push(req), req.token === 'ok') });
    const { status, error } = await refusal(await fetch(`${gw.url}/v1/actors/vault/a1/events?token=nope`));
    expect(status).toBe(403);
    expect(error.code).toBe('INTERLOCK_FORBIDDEN');
    expect(error.message).toBe("This token may not subscribe to 'vault/a1'. Use a token the server's authorize hook allows for that address.");
    expect(asked).toEqual([{ token: 'nope', address: 'vault/a1', pattern: false, action: 'subscribe' }]);
  });
});

describe('GET /v1/actors/{kind}/{key}/events: resume and pacing', () => {
  it('an empty Last-Event-ID is ignored: ?since= decides (a bad one is refused, a good one resumes)', async () => {
    const gw = await gateway();
    gw.rt.tell('vault/r1', { type: 'inc' } as never);
    const first = await readUntil(await fetch(`${gw.url}/v1/actors/vault/r1/events`), (t) => /^id: /m.test(t));
    const id = /^id: (\d+:\d+)$/m.exec(first)![1]!;
    const bad = await refusal(await fetch(`${gw.url}/v1/actors/vault/r1/events?since=nope`, { headers: { 'last-event-id': '' } }));
    expect([bad.status, bad.error.code]).toEqual([400, 'INTERLOCK_INVALID_REQUEST']);
    const res = await fetch(`${gw.url}/v1/actors/vault/r1/events?since=${id}`, { headers: { 'last-event-id': '' } });
    expect(res.status).toBe(200);
    await res.body!.cancel();
  });

  it('sends no keep-alive comment when keepAliveMs is 0', async () => {
    const gw = await gateway({ keepAliveMs: 0 });
    const res = await fetch(`${gw.url}/v1/actors/vault/k1/events`);
    gw.rt.tell('vault/k1', { type: 'inc' } as never);
    // Wait for a record that comes after the subscription's snapshot: time in which a 0 ms interval would have fired many times.
    let text = await readUntil(res, (t) => /"n":1/.test(t));
    for (let i = 0; i < 20; i++) {
      gw.rt.tell('vault/k1', { type: 'inc' } as never);
    }
    const res2 = await fetch(`${gw.url}/v1/actors/vault/k1/events`);
    text += await readUntil(res2, (t) => /"n":21/.test(t));
    expect(text).toMatch(/^retry: 10\n\n/);
    expect(text).not.toContain(': keep-alive');
  });

  it('drops a client that leaves more than maxBufferedBytes unread, logging slow_client_dropped with the address and the bytes buffered', async () => {
    const gw = await gateway({ maxBufferedBytes: 1_024 });
    const res = await rawGet(`${gw.url}/v1/actors/vault/s1/events`);
    res.pause();
    try {
      for (let i = 0; i < 20; i++) gw.rt.tell('vault/s1', { type: 'big', size: 1_000_000 } as never);
      await until(() => gw.logs.some((l) => l.msg === 'slow_client_dropped'), 20_000);
      const line = gw.logs.find((l) => l.msg === 'slow_client_dropped')!;
      expect(line.level).toBe(40);
      expect(line.address).toBe('vault/s1');
      expect(line.buffered).toBeGreaterThan(1_024);
    } finally {
      res.destroy();
    }
  });

  it('drops a client only when more than maxBufferedBytes wait for it: exactly that many is fine', async () => {
    // A live actor: its current snapshot goes out in the same turn as the headers and the retry frame, and the two
    // writes wait together (Node sends a response's writes of one turn at once), so what waits is the same each time.
    const live = async (max: number) => {
      const gw = await gateway({ maxBufferedBytes: max });
      gw.rt.tell('vault/b1', { type: 'inc' } as never);
      await gw.rt.ask('vault/b1', { type: 'get' } as never);
      return { gw, res: await fetch(`${gw.url}/v1/actors/vault/b1/events`) };
    };
    /** How many bytes waited for the client when a gateway that allows `max` dropped it. */
    const droppedAt = async (max: number): Promise<number> => {
      const { gw, res } = await live(max);
      await res.text().catch(() => undefined);
      await until(() => gw.logs.some((l) => l.msg === 'slow_client_dropped'), 5_000);
      return gw.logs.find((l) => l.msg === 'slow_client_dropped')!.buffered as number;
    };
    const first = await droppedAt(1); // the headers and the retry frame
    const both = await droppedAt(first); // and the snapshot
    expect(both).toBeGreaterThan(first);

    // Exactly that many: the client gets both, and is not dropped (the check runs at each write).
    const { gw, res } = await live(both);
    expect(await readUntil(res, (t) => /"n":1/.test(t))).toMatch(/^retry: 10\n\nid: \d+:\d+\ndata: .*"n":1/);
    expect(gw.logs.filter((l) => l.msg === 'slow_client_dropped')).toEqual([]);
  });

  describe('a client that is gone is no longer watched: the actor\'s records are not built for it', () => {
    /** A gateway whose vault kind counts the calls of its view (run for every snapshot record built). */
    async function counted(options: GatewayOptions = {}) {
      const views: number[] = [];
      // No replay buffer: a record is built only while someone watches the actor.
      const base = vaultKind(0);
      const kind = { ...base, view: (c: { n: number; blob: string }) => (views.push(c.n), { n: c.n, blob: c.blob }) };
      const gw = await startGateway({ kinds: { vault: kind as KindConfig }, gateway: { eventsRetryMs: 10, metrics: false, ...options }, logLevel: 'warn' });
      const connections = () => new Promise<number>((resolve) => gw.app.server.getConnections((_e, n) => resolve(n)));
      /** Sends the actor an event and waits until its turn is done; returns the views built meanwhile. */
      const viewsOfOneMore = async () => {
        views.length = 0;
        gw.rt.tell('vault/1', { type: 'inc' } as never);
        await gw.rt.ask('vault/1', { type: 'get' } as never);
        return [...views];
      };
      return { gw, connections, viewsOfOneMore };
    }

    it('after it hangs up', async () => {
      const { gw, connections, viewsOfOneMore } = await counted();
      await gw.rt.ask('vault/1', { type: 'get' } as never);
      // node:http rather than fetch: fetch keeps a spare connection open for seconds after an abort.
      const res = await rawGet(`${gw.url}/v1/actors/vault/1/events`);
      await new Promise((r) => res.once('data', r));
      expect(await viewsOfOneMore()).not.toEqual([]);
      res.destroy();
      let open = 1;
      await until(() => (void connections().then((n) => (open = n)), open === 0));
      await new Promise((r) => setImmediate(r));
      expect(await viewsOfOneMore()).toEqual([]);
    });

    it('after it hangs up while its authorize hook still runs (the response is closed before the stream starts)', async () => {
      let asked = 0;
      let allow!: () => void;
      const allowed = new Promise<void>((resolve) => (allow = resolve));
      const { gw, connections, viewsOfOneMore } = await counted({ authorize: async () => (asked++, await allowed, true) });
      await gw.rt.ask('vault/1', { type: 'get' } as never);
      const req = httpRequest(`${gw.url}/v1/actors/vault/1/events`, { method: 'GET' });
      req.on('error', () => undefined);
      req.end();
      await until(() => asked === 1);
      req.destroy();
      let open = 1;
      await until(() => (void connections().then((n) => (open = n)), open === 0));
      allow();
      await new Promise((r) => setImmediate(r));
      expect(await viewsOfOneMore()).toEqual([]);
    });
  });
});
