import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAICompatible } from '../../src/providers/openAICompatible.js';
import type { ChatRequest } from '../../src/providers/types.js';
import { drain } from './drain.js';
import { startUpstream, waitUntil, type Upstream } from '../fixtures/upstream.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello.' }] };


/** A fetch that answers every request with this body, for wire shapes the fixture does not speak. */
function answering(body: string, contentType: string): typeof fetch {
  return async () => new Response(body, { status: 200, headers: { 'content-type': contentType } });
}

describe('openAICompatible maps upstream failures to coded errors', () => {
  let upstream: Upstream;

  beforeEach(async () => {
    upstream = await startUpstream({ tokens: 5 });
  });

  afterEach(async () => {
    await upstream.close();
  });

  it('maps a 500 to INTERLOCK_UPSTREAM_FAILED with the status, the server message and a body excerpt', async () => {
    upstream.behaviour = 'fail';
    const provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([]);
    expect(error).toMatchObject({
      name: 'InterlockError',
      code: 'INTERLOCK_UPSTREAM_FAILED',
      details: {
        status: 500,
        upstreamMessage: 'The fixture failed this request with status 500.',
        upstreamCode: 'fixture_failure',
        body: expect.stringContaining('"type":"server_error"'),
      },
    });
    expect((error as Error).message).toContain('answered 500: The fixture failed this request');
  });

  it('maps a 429 to INTERLOCK_UPSTREAM_FAILED with the status and Retry-After', async () => {
    const provider = openAICompatible({
      baseURL: upstream.url,
      model: 'fixture-model',
      headers: { 'x-upstream-behaviour': 'fail', 'x-upstream-status': '429' },
    });

    const { error } = await drain(provider.stream(request, new AbortController().signal));

    expect(error).toMatchObject({
      code: 'INTERLOCK_UPSTREAM_FAILED',
      details: { status: 429, upstreamCode: 'rate_limit_exceeded', retryAfter: '1' },
    });
    expect((error as Error).message).toMatch(/rate limiting/);
  });

  it('maps a data line that is not JSON to INTERLOCK_UPSTREAM_PROTOCOL and closes the connection', async () => {
    upstream.behaviour = 'malformed';
    upstream.delayMs = 10;
    const provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([{ type: 'delta', text: 'w0' }]);
    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_PROTOCOL', details: { data: '{"choices": [' } });
    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
    expect(upstream.completed).toBe(0);
  });

  it('maps a body that ends without [DONE] or a finish_reason to INTERLOCK_UPSTREAM_FAILED', async () => {
    upstream.behaviour = 'truncated';
    const provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([
      { type: 'delta', text: 'w0' },
      { type: 'delta', text: ' w1' },
    ]);
    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED' });
    expect((error as Error).message).toContain("before 'data: [DONE]'");
  });

  it('maps a connection reset mid-stream to INTERLOCK_UPSTREAM_FAILED', async () => {
    upstream.behaviour = 'reset';
    upstream.delayMs = 50; // w0 is read well before the reset, whose error would drop queued bytes
    const provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([{ type: 'delta', text: 'w0' }]);
    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED' });
  });

  it('maps an unreachable server to INTERLOCK_UPSTREAM_FAILED naming the endpoint', async () => {
    const gone = await startUpstream();
    const url = gone.url;
    await gone.close();
    const provider = openAICompatible({ baseURL: url, model: 'fixture-model' });

    const { error } = await drain(provider.stream(request, new AbortController().signal));

    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED', details: { endpoint: `${url}/chat/completions` } });
    expect((error as Error).message).toContain('Could not reach model server');
  });

  it('maps an error event sent mid-stream to INTERLOCK_UPSTREAM_FAILED with its message', async () => {
    const provider = openAICompatible({
      baseURL: 'http://model.invalid/v1',
      model: 'm',
      fetch: answering('data: {"error":{"message":"model crashed","code":"oom"}}\n\n', 'text/event-stream'),
    });

    const { error } = await drain(provider.stream(request, new AbortController().signal));

    expect(error).toMatchObject({
      code: 'INTERLOCK_UPSTREAM_FAILED',
      details: { upstreamMessage: 'model crashed', upstreamCode: 'oom' },
    });
  });

  it('maps a 200 that is not an SSE stream to INTERLOCK_UPSTREAM_PROTOCOL', async () => {
    const provider = openAICompatible({
      baseURL: 'http://model.invalid/v1',
      model: 'm',
      fetch: answering('{"id":"chatcmpl-1","choices":[]}', 'application/json'),
    });

    const { error } = await drain(provider.stream(request, new AbortController().signal));

    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_PROTOCOL', details: { contentType: 'application/json' } });
  });

  it('accepts a stream that ends after a finish_reason without [DONE]', async () => {
    const chunk = (delta: object, finish: string | null): string =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const provider = openAICompatible({
      baseURL: 'http://model.invalid/v1',
      model: 'm',
      fetch: answering(chunk({ content: 'hi' }, null) + chunk({}, 'length'), 'text/event-stream'),
    });

    const { chunks, error } = await drain(provider.stream(request, new AbortController().signal));

    expect(error).toBeUndefined();
    expect(chunks).toEqual([
      { type: 'delta', text: 'hi' },
      { type: 'done', finishReason: 'length' },
    ]);
  });

  it('refuses a baseURL that is not an http(s) URL with INTERLOCK_INVALID_CONFIG', () => {
    expect(() => openAICompatible({ baseURL: 'localhost:11434', model: 'm' })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }),
    );
  });
});
