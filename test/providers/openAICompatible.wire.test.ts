/**
 * What openAICompatible makes of each SSE body a server may send: the chunks it accepts
 * and how, and a coded error for each it refuses, with the message and details a user
 * reads. The bodies come from a real HTTP server on port 0 that the test scripts; the two
 * tests about where a network read ends (inside a UTF-8 character, after an abort) hand
 * the provider a body stream the test feeds piece by piece, since TCP decides read
 * boundaries.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAICompatible } from '../../src/providers/openAICompatible.js';
import type { ChatRequest, Provider, ProviderChunk } from '../../src/providers/types.js';
import { drain } from './drain.js';
import { outcome } from '../helpers/outcome.js';
import { deltaEvent, sse, startScripted, type Exchange, type ScriptedServer } from './scriptedServer.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello.' }] };
const DONE = sse('[DONE]');


describe('openAICompatible over a scripted SSE server', () => {
  let server: ScriptedServer;
  let reply: (exchange: Exchange) => void;
  let provider: Provider;
  let endpoint: string;

  beforeEach(async () => {
    server = await startScripted((exchange) => reply(exchange));
    provider = openAICompatible({ baseURL: server.url, model: 'm' });
    endpoint = `${server.url}/chat/completions`;
  });

  afterEach(async () => {
    await server.close();
  });

  /** Answers 200 text/event-stream with `body` in one write. */
  const answer = (body: string, headers: Record<string, string> = { 'content-type': 'text/event-stream' }): void => {
    reply = ({ res }) => {
      res.writeHead(200, headers);
      res.end(body);
    };
  };

  describe('refuses a data line that is not a chat.completion.chunk with INTERLOCK_UPSTREAM_PROTOCOL', () => {
    const long = `<html>${'x'.repeat(600)}`;
    it.each([
      { data: 'not json{', says: 'is not JSON', excerpt: 'not json{' },
      { data: long, says: 'is not JSON', excerpt: `${long.slice(0, 500)}…` },
      { data: 'null', says: 'is not a chat.completion.chunk', excerpt: 'null' },
      { data: '42', says: 'is not a chat.completion.chunk', excerpt: '42' },
      { data: '"text"', says: 'is not a chat.completion.chunk', excerpt: '"text"' },
      { data: '[{"choices":[]}]', says: 'is not a chat.completion.chunk', excerpt: '[{"choices":[]}]' },
      { data: '{"choices":{"0":{}}}', says: 'is not a chat.completion.chunk', excerpt: '{"choices":{"0":{}}}' },
      { data: '{"choices":null}', says: 'is not a chat.completion.chunk', excerpt: '{"choices":null}' },
    ])('data: $data', async ({ data, says, excerpt }) => {
      answer(deltaEvent('first') + sse(data) + deltaEvent('never') + DONE);

      const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

      expect(chunks).toEqual([{ type: 'delta', text: 'first' }]);
      expect(error).toMatchObject({ name: 'InterlockError', code: 'INTERLOCK_UPSTREAM_PROTOCOL' });
      expect((error as Error).message).toBe(
        `Model server at ${endpoint} sent a data line that ${says}: ${JSON.stringify(excerpt)}. Point baseURL at an OpenAI-compatible streaming API.`,
      );
      expect((error as { details: unknown }).details).toStrictEqual({ data: excerpt });
      if (says === 'is not JSON') expect((error as Error).cause).toBeInstanceOf(SyntaxError);
    });
  });

  it.each([
    {
      name: 'with a message',
      data: '{"error":{"message":"model crashed","code":"oom"}}',
      message: `reported an error mid-stream: model crashed. Retry, and check the server's logs if it repeats.`,
      details: { upstreamMessage: 'model crashed', upstreamCode: 'oom' },
    },
    {
      name: 'without a message',
      data: '{"error":{"code":503}}',
      message: `reported an error mid-stream. Retry, and check the server's logs if it repeats.`,
      details: { upstreamMessage: undefined, upstreamCode: '503' },
    },
  ])('maps an error event mid-stream $name to INTERLOCK_UPSTREAM_FAILED', async ({ data, message, details }) => {
    answer(deltaEvent('a') + sse(data) + DONE);

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([{ type: 'delta', text: 'a' }]);
    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED', details });
    expect((error as Error).message).toBe(`Model server at ${endpoint} ${message}`);
  });

  it.each([
    {
      name: "a usage-only chunk with no choices (OpenAI's include_usage)",
      body: deltaEvent('hi') + sse('{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}') + sse('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}') + DONE,
      chunks: [{ type: 'delta', text: 'hi' }, { type: 'done', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 1 } }],
    },
    {
      name: 'token counts that are not finite numbers, read as 0',
      body: sse('{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":"3","completion_tokens":1e400}}') + DONE,
      chunks: [{ type: 'delta', text: 'x' }, { type: 'done', finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 } }],
    },
    {
      name: 'a choice that is not an object, and a delta whose content is null or empty',
      body: sse('{"choices":[null]}') + sse('{"choices":[{"delta":{"content":null}}]}') + sse('{"choices":[{"delta":{"role":"assistant","content":""}}]}') + deltaEvent('ok') + DONE,
      chunks: [{ type: 'delta', text: 'ok' }, { type: 'done', finishReason: 'unknown' }],
    },
    {
      name: '[DONE] without any finish_reason or usage: done with finishReason unknown and no usage key',
      body: deltaEvent('a') + DONE,
      chunks: [{ type: 'delta', text: 'a' }, { type: 'done', finishReason: 'unknown' }],
    },
    {
      name: 'SSE lines the spec says to ignore: an unknown field, a bad retry, a comment',
      body: `foo: bar\nretry: soon\n: keep-alive\n${deltaEvent('a')}${DONE}`,
      chunks: [{ type: 'delta', text: 'a' }, { type: 'done', finishReason: 'unknown' }],
    },
  ])('accepts $name', async ({ body, chunks }) => {
    answer(body);

    const result = await drain(provider.stream(request, new AbortController().signal));

    expect(result.error).toBeUndefined();
    expect(result.chunks).toStrictEqual(chunks);
  });

  it('refuses an SSE event over 1 MiB with INTERLOCK_UPSTREAM_PROTOCOL naming the limit', async () => {
    reply = ({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(deltaEvent('a'));
      res.write(`data: ${'x'.repeat(1_048_576)}`); // and no end of line, ever
    };

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([{ type: 'delta', text: 'a' }]);
    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_PROTOCOL' });
    expect((error as Error).message).toBe(
      `Model server at ${endpoint} sent an SSE event over 1048576 characters. Point baseURL at an OpenAI-compatible streaming API.`,
    );
    expect((error as { details: unknown }).details).toStrictEqual({ maxEventChars: 1_048_576 });
  });

  it.each([
    { name: 'no content-type', headers: {} as Record<string, string>, says: 'none', contentType: null },
    { name: 'an HTML content-type', headers: { 'content-type': 'text/html' } as Record<string, string>, says: 'text/html', contentType: 'text/html' },
  ])('refuses a 200 with no SSE event and $name with INTERLOCK_UPSTREAM_PROTOCOL naming it', async ({ headers, says, contentType }) => {
    answer('<html>It works!</html>', headers);

    const { error } = await drain(provider.stream(request, new AbortController().signal));

    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_PROTOCOL' });
    expect((error as Error).message).toBe(
      `Model server at ${endpoint} answered without any SSE event (content-type ${says}). Point baseURL at an OpenAI-compatible API that supports stream: true.`,
    );
    expect((error as { details: unknown }).details).toStrictEqual({ contentType });
  });

  it('refuses a 204 (a 2xx with no body) with INTERLOCK_UPSTREAM_PROTOCOL', async () => {
    reply = ({ res }) => {
      res.writeHead(204);
      res.end();
    };

    const { error } = await drain(provider.stream(request, new AbortController().signal));

    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_PROTOCOL' });
    expect((error as Error).message).toBe(
      `Model server at ${endpoint} answered 204 with no body. Point baseURL at an OpenAI-compatible API that supports stream: true.`,
    );
    expect((error as { details: unknown }).details).toStrictEqual({ status: 204 });
  });

  it('maps a body that ends after three events without [DONE] or a finish_reason to INTERLOCK_UPSTREAM_FAILED counting them', async () => {
    answer(sse('{"choices":[{"delta":{"role":"assistant"}}]}') + deltaEvent('a') + deltaEvent('b'));

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([
      { type: 'delta', text: 'a' },
      { type: 'delta', text: 'b' },
    ]);
    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED' });
    expect((error as Error).message).toBe(
      `Model server at ${endpoint} closed the stream before 'data: [DONE]' or a finish_reason; the reply is incomplete. Retry, and check the server's logs if it repeats.`,
    );
    expect((error as { details: unknown }).details).toStrictEqual({ events: 3 });
  });

  it('maps a connection cut mid-chunk to INTERLOCK_UPSTREAM_FAILED naming the socket error', async () => {
    reply = ({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`${deltaEvent('a')}data: {"choi`, () => res.socket?.destroy());
    };

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([{ type: 'delta', text: 'a' }]);
    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED' });
    // undici says 'terminated' and names the socket's error in its cause.
    expect((error as Error).message).toMatch(
      new RegExp(`^Connection to model server at ${endpoint.replace(/[.]/g, '\\.')} broke mid-stream: terminated \\(.+\\)\\. Retry, and check the server's logs if it repeats\\.$`),
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('rejects the next read with INTERLOCK_CANCELLED when aborted while the consumer holds a chunk and another is already read', async () => {
    reply = ({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(deltaEvent('a') + deltaEvent('b')); // one write: both are read together; then the reply stays open
    };
    const controller = new AbortController();
    const iterator = openAICompatible({ baseURL: server.url, model: 'm', name: 'vllm' }).stream(request, controller.signal)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: { type: 'delta', text: 'a' } });

    controller.abort();

    const error = await iterator.next().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { provider: 'vllm', phase: 'streaming' } });
    expect((error as Error).message).toBe(
      `Stream from model server at ${endpoint} was cancelled by its caller's signal while streaming; the HTTP request was aborted and its connection closed.`,
    );
  });
});

describe('openAICompatible with a body stream the test feeds', () => {
  const encoder = new TextEncoder();

  /** A fetch answering 200 SSE whose body is a stream the test writes to; it ignores the signal, as a custom fetch may. */
  function fed(): { fetch: typeof fetch; push(bytes: Uint8Array): void; end(): void } {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    return {
      fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
      push: (bytes) => controller.enqueue(bytes),
      end: () => controller.close(),
    };
  }

  it('keeps a UTF-8 character that a read boundary splits', async () => {
    const upstream = fed();
    const bytes = encoder.encode(deltaEvent('naïve 🙂') + DONE);
    const split = bytes.indexOf(0xf0) + 2; // inside the emoji's four bytes
    upstream.push(bytes.slice(0, split));
    upstream.push(bytes.slice(split));
    upstream.end();
    const provider = openAICompatible({ baseURL: 'http://model.invalid/v1', model: 'm', fetch: upstream.fetch });

    const { chunks } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([
      { type: 'delta', text: 'naïve 🙂' },
      { type: 'done', finishReason: 'unknown' },
    ]);
  });

  it('rejects the next read at once when aborted while the consumer holds a chunk, even if the fetch ignores the signal', async () => {
    const upstream = fed();
    upstream.push(encoder.encode(sse('{"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}')));
    const provider = openAICompatible({ baseURL: 'http://model.invalid/v1', model: 'm', fetch: upstream.fetch });
    const controller = new AbortController();
    const iterator = provider.stream(request, controller.signal)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: { type: 'delta', text: 'a' } });

    controller.abort();
    const next = iterator.next();

    const result = await outcome(next);
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { phase: 'streaming' } } });
  });
});

describe('openAICompatible names why a server could not be reached', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  it.each([
    { name: "undici's error, with the socket error in its cause", thrown: new TypeError('fetch failed', { cause: refused }), says: 'fetch failed (connect ECONNREFUSED 127.0.0.1:9)' },
    { name: 'an error with no cause', thrown: new Error('socket hang up'), says: 'socket hang up' },
    { name: 'an error whose cause is not an error', thrown: new Error('proxy refused', { cause: 'policy' }), says: 'proxy refused' },
    { name: 'a thrown string', thrown: 'offline', says: 'offline' },
  ])('$name', async ({ thrown, says }) => {
    const provider = openAICompatible({
      baseURL: 'http://model.invalid/v1',
      model: 'm',
      fetch: async () => {
        throw thrown;
      },
    });

    const { error } = await drain(provider.stream(request, new AbortController().signal));

    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED', details: { endpoint: 'http://model.invalid/v1/chat/completions' } });
    expect((error as Error).message).toBe(
      `Could not reach model server at http://model.invalid/v1/chat/completions: ${says}. Check baseURL and that the server is running.`,
    );
    expect((error as Error).cause).toBe(thrown);
  });
});
