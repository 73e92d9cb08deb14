/**
 * The official openai@6 SDK against the gateway, unchanged: non-stream, stream (with
 * usage), abort mid-stream (the session hears it and the upstream socket closes), every
 * error class of the status table, and the SDK's own retry on 429.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusRecord } from '../../src/index.js';
import { openAICompatible } from '../../src/providers/openAICompatible.js';
import { simulated } from '../../src/providers/simulated.js';
import { startUpstream, waitUntil, type Upstream } from '../fixtures/upstream.js';
import { closeAll, MODEL, startGateway, type TestGateway } from './helpers.js';

const upstreams: Upstream[] = [];
afterEach(async () => {
  await closeAll();
  for (const u of upstreams.splice(0)) await u.close();
});

const REPLY = 'The quick brown fox jumps over the lazy dog.';

function client(gw: TestGateway, options: { apiKey?: string; maxRetries?: number; sessionId?: string } = {}): OpenAI {
  return new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: options.apiKey ?? 'unused',
    maxRetries: options.maxRetries ?? 0,
    timeout: 20_000,
    ...(options.sessionId === undefined ? {} : { defaultHeaders: { 'x-session-id': options.sessionId } }),
  });
}

const user = (content: string) => [{ role: 'user' as const, content }];

/** The error an SDK call rejects with. */
async function failure(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

function expectShape(err: InstanceType<typeof OpenAI.APIError>, status: number, code: string): void {
  expect(err.status).toBe(status);
  expect(err.code).toBe(code);
  const body = err.error as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(String(body.message)).not.toMatch(/\n\s+at /); // never a stack trace
}

describe('the openai@6 SDK against the gateway', { timeout: 30_000 }, () => {
  it('gets a chat.completion for a non-streamed request, and lists the model', async () => {
    const gw = await startGateway({ provider: simulated({ tokensPerSecond: 2_000, text: REPLY }) });
    const sdk = client(gw);

    const models = await sdk.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);

    const completion = await sdk.chat.completions.create({ model: MODEL, messages: user('hello') });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message).toEqual({ role: 'assistant', content: REPLY });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({ prompt_tokens: 1, completion_tokens: 9, total_tokens: 10 });
  });

  it('streams chat.completion.chunk events to [DONE], with a usage chunk when include_usage is set', async () => {
    const gw = await startGateway({ provider: simulated({ tokensPerSecond: 2_000, text: REPLY }) });
    const stream = await client(gw).chat.completions.create({
      model: MODEL,
      messages: user('hello'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    const finishes: (string | null)[] = [];
    let usage: unknown;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        if (choice.delta.content) deltas.push(choice.delta.content);
        finishes.push(choice.finish_reason);
      }
    }
    expect(deltas.join('')).toBe(REPLY);
    expect(finishes.at(-1)).toBe('stop');
    expect(finishes.filter((f) => f !== null)).toEqual(['stop']);
    expect(usage).toEqual({ prompt_tokens: 1, completion_tokens: 9, total_tokens: 10 });
  });

  it('keeps a conversation in the session named by X-Session-Id', async () => {
    const gw = await startGateway();
    const sdk = client(gw, { sessionId: 'conv-1' });
    await sdk.chat.completions.create({ model: MODEL, messages: user('one') });
    await sdk.chat.completions.create({ model: MODEL, messages: user('two') });
    const view = await fetch(`${gw.url}/v1/actors/session/conv-1`).then((r) => r.json());
    expect(view).toMatchObject({ address: 'session/conv-1', state: 'idle', context: { gen: 2, messages: 4 } });
  });

  it("an abort mid-stream reaches the session as a disconnect of that request (policy cancel) and closes the upstream socket", async () => {
    const upstream = await startUpstream({ tokens: 200, delayMs: 10 });
    upstreams.push(upstream);
    const gw = await startGateway({ provider: openAICompatible({ baseURL: upstream.url, model: 'fixture-model' }) });
    const ends: unknown[] = [];
    const sub = gw.rt.events$.subscribe((r: BusRecord) => {
      const e = (r.data as { event?: { type: string } }).event;
      if (r.type === 'emitted' && e?.type === 'stream.end') ends.push(e);
    });
    const abort = new AbortController();
    const stream = await client(gw, { sessionId: 'leaver' }).chat.completions.create(
      { model: MODEL, messages: user('a long poem'), stream: true },
      { signal: abort.signal },
    );
    let chunks = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content && ++chunks === 3) abort.abort();
      }
    } catch (err) {
      // The SDK may end the iteration quietly or throw its APIUserAbortError; both mean it stopped.
      expect(err).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    expect(chunks).toBe(3);

    await waitUntil(() => ends.length === 1, 'the session ended the stream');
    expect(ends[0]).toMatchObject({ type: 'stream.end', reason: 'disconnected' });
    await waitUntil(() => upstream.busySockets() === 0, 'the upstream connection closed');
    expect(upstream.clientAborts).toBe(1);
    expect(upstream.completed).toBe(0);
    expect(gw.logs.filter((l) => l.session === 'leaver').map((l) => `${l.msg}${l.reason ? ` ${l.reason}` : ''}`)).toEqual([
      'stream_start',
      'client_disconnect',
      'stream_cancelled client_disconnect',
      'stream_end client_disconnect',
    ]);
    sub.unsubscribe();
  });

  describe('errors are OpenAI-shaped, with the runtime code and the right status', () => {
    it('400 for a body that fails the schema, 404 for an unknown model, 400 for a bad session id', async () => {
      const gw = await startGateway();
      const sdk = client(gw);
      const bad = await failure(sdk.chat.completions.create({ model: MODEL, messages: [] }));
      expectShape(bad, 400, 'INTERLOCK_INVALID_REQUEST');
      expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
      expect(bad.param).toBe('messages');

      const model = await failure(sdk.chat.completions.create({ model: 'gpt-nope', messages: user('x') }));
      expectShape(model, 404, 'INTERLOCK_UNKNOWN_MODEL');
      expect(model).toBeInstanceOf(OpenAI.NotFoundError);
      expect(model.param).toBe('model');

      const key = await failure(client(gw, { sessionId: 'no spaces/or slashes' }).chat.completions.create({ model: MODEL, messages: user('x') }));
      expectShape(key, 400, 'INTERLOCK_INVALID_ADDRESS');
      expect(key.param).toBe('x-session-id');
    });

    it('401 for a missing or wrong bearer token; the right one passes', async () => {
      const gw = await startGateway({ gateway: { token: 's3cret' } });
      const wrong = await failure(client(gw, { apiKey: 'guess' }).chat.completions.create({ model: MODEL, messages: user('x') }));
      expectShape(wrong, 401, 'INTERLOCK_UNAUTHORIZED');
      expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
      const none = await fetch(`${gw.url}/v1/models`);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_UNAUTHORIZED');
      const ok = await client(gw, { apiKey: 's3cret' }).chat.completions.create({ model: MODEL, messages: user('x') });
      expect(ok.choices[0]!.message.content).toContain('x');
    });

    it("409 for a busy session under 'reject'", async () => {
      const gw = await startGateway({ provider: simulated({ tokensPerSecond: 20 }), session: { onBusy: 'reject' } });
      const sdk = client(gw, { sessionId: 'busy' });
      const abort = new AbortController();
      const first = await sdk.chat.completions.create({ model: MODEL, messages: user('long'), stream: true }, { signal: abort.signal });
      const it1 = first[Symbol.asyncIterator]();
      await it1.next(); // the stream has started
      const busy = await failure(sdk.chat.completions.create({ model: MODEL, messages: user('again') }));
      expectShape(busy, 409, 'INTERLOCK_BUSY');
      expect(busy).toBeInstanceOf(OpenAI.ConflictError);
      abort.abort();
      await it1.return?.();
    });

    it('413 for a body over the limit', async () => {
      const gw = await startGateway({ gateway: { bodyLimit: 4_096 } });
      const big = await failure(client(gw).chat.completions.create({ model: MODEL, messages: user('x'.repeat(10_000)) }));
      expectShape(big, 413, 'INTERLOCK_BODY_TOO_LARGE');
    });

    it('429 with retry-after when the session mailbox is full', async () => {
      const gw = await startGateway({ provider: simulated({ tokensPerSecond: 20 }), session: { onBusy: 'enqueue', mailboxCapacity: 1 } });
      const sdk = client(gw, { sessionId: 'full' });
      const abort = new AbortController();
      const first = await sdk.chat.completions.create({ model: MODEL, messages: user('long'), stream: true }, { signal: abort.signal });
      const it1 = first[Symbol.asyncIterator]();
      await it1.next();
      const queued = sdk.chat.completions.create({ model: MODEL, messages: user('queued') }, { signal: abort.signal }).catch(() => 'aborted');
      await waitUntil(() => gw.rt.view('session/full')?.depth === 1, 'the second prompt waits in the mailbox');
      const full = await failure(sdk.chat.completions.create({ model: MODEL, messages: user('third') }));
      expectShape(full, 429, 'INTERLOCK_MAILBOX_FULL');
      expect(full).toBeInstanceOf(OpenAI.RateLimitError);
      expect(full.headers?.get('retry-after')).toBe('1');
      abort.abort();
      await it1.return?.();
      expect(await queued).toBe('aborted');
    });

    it('503 while draining, 504 when an ask passes its deadline', async () => {
      const gw = await startGateway({ provider: simulated({ tokensPerSecond: 5 }) });
      const sdk = client(gw);
      const late = await failure(sdk.post('/actors/session/slow/ask', { body: { event: { type: 'prompt', text: 'slow' }, timeoutMs: 20 } }));
      expectShape(late, 504, 'INTERLOCK_DEADLINE_EXCEEDED');

      gw.gateway.drain();
      const closing = await failure(sdk.chat.completions.create({ model: MODEL, messages: user('x') }));
      expectShape(closing, 503, 'INTERLOCK_SHUTTING_DOWN');
      expect(closing).toBeInstanceOf(OpenAI.InternalServerError);
    });
  });

  it('the SDK retries a 429 after retry-after and then succeeds', async () => {
    const gw = await startGateway({ provider: simulated({ tokensPerSecond: 20 }), session: { onBusy: 'enqueue', mailboxCapacity: 1 } });
    const abort = new AbortController();
    const holder = client(gw, { sessionId: 'retry' });
    const first = await holder.chat.completions.create({ model: MODEL, messages: user('long'), stream: true }, { signal: abort.signal });
    const it1 = first[Symbol.asyncIterator]();
    await it1.next();
    const queued = holder.chat.completions.create({ model: MODEL, messages: user('queued') }, { signal: abort.signal }).catch(() => 'aborted');
    await waitUntil(() => gw.rt.view('session/retry')?.depth === 1, 'the second prompt waits in the mailbox');

    const retrying = client(gw, { sessionId: 'retry', maxRetries: 2 }).chat.completions.create({ model: MODEL, messages: user('hi') });
    // Once the SDK has been refused, free the mailbox; its retry (after retry-after: 1 s) gets through.
    await waitUntil(() => gw.logs.some((l) => l.code === 'INTERLOCK_MAILBOX_FULL'), 'the first attempt was refused with 429');
    abort.abort();
    await it1.return?.();
    const answer = await retrying;
    expect(answer.choices[0]!.message.content).toContain('hi');
    expect(gw.logs.filter((l) => l.code === 'INTERLOCK_MAILBOX_FULL')).toHaveLength(1);
    expect(await queued).toBe('aborted');
  });
});
