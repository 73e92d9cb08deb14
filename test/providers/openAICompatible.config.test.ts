/**
 * openAICompatible's options: what it refuses (INTERLOCK_INVALID_CONFIG naming the fix),
 * its defaults, and the request it sends, checked on a real HTTP server on port 0.
 */
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAICompatible, type OpenAICompatibleOptions } from '../../src/providers/openAICompatible.js';
import type { ChatRequest, ProviderChunk } from '../../src/providers/types.js';
import { deltaEvent, sse, startScripted, type ScriptedServer } from './scriptedServer.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello.' }] };
const BASE_URL_EXAMPLE = "Pass the API root, e.g. 'http://localhost:11434/v1'.";
const BASE_URL_FIX = `is not an http(s) URL. ${BASE_URL_EXAMPLE}`;
const MODEL_FIX = "openAICompatible: model must be a non-empty string. Pass the model the server should run, e.g. 'llama3.2'.";

function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  throw new Error('openAICompatible did not throw');
}

describe('openAICompatible refuses options it cannot use with INTERLOCK_INVALID_CONFIG', () => {
  it.each([
    { name: 'no options at all', options: undefined, message: `openAICompatible: baseURL must be a string, got undefined. ${BASE_URL_EXAMPLE}` },
    { name: 'no baseURL', options: { model: 'm' }, message: `openAICompatible: baseURL must be a string, got undefined. ${BASE_URL_EXAMPLE}` },
    { name: 'a null baseURL', options: { baseURL: null, model: 'm' }, message: `openAICompatible: baseURL must be a string, got null. ${BASE_URL_EXAMPLE}` },
    { name: 'a baseURL without a scheme', options: { baseURL: 'localhost:11434/v1', model: 'm' }, message: `openAICompatible: baseURL "localhost:11434/v1" ${BASE_URL_FIX}` },
    { name: 'a baseURL with a space before the scheme', options: { baseURL: ' http://localhost:11434/v1', model: 'm' }, message: `openAICompatible: baseURL " http://localhost:11434/v1" ${BASE_URL_FIX}` },
    { name: 'a baseURL that is a URL object, not a string', options: { baseURL: new URL('http://localhost:11434/v1'), model: 'm' }, message: `openAICompatible: baseURL must be a string, got a URL object (pass its .href). ${BASE_URL_EXAMPLE}` },
    { name: 'no model', options: { baseURL: 'http://localhost:11434/v1' }, message: MODEL_FIX },
    { name: 'an empty model', options: { baseURL: 'http://localhost:11434/v1', model: '' }, message: MODEL_FIX },
    { name: 'a model that is not a string', options: { baseURL: 'https://api.example.com/v1', model: 42 }, message: MODEL_FIX },
  ])('$name', ({ options, message }) => {
    const error = thrown(() => openAICompatible(options as unknown as OpenAICompatibleOptions));

    expect(error).toMatchObject({ name: 'InterlockError', code: 'INTERLOCK_INVALID_CONFIG' });
    expect((error as Error).message).toBe(message);
  });

  it('accepts http and https base URLs', () => {
    expect(openAICompatible({ baseURL: 'http://localhost:11434/v1', model: 'm' }).name).toBe('openai-compatible');
    expect(openAICompatible({ baseURL: 'https://api.example.com/v1', model: 'm', name: 'openai' }).name).toBe('openai');
  });
});

describe('openAICompatible names its provider and its endpoint', () => {
  it.each([
    { name: undefined, provider: 'openai-compatible', baseURL: 'http://model.invalid/v1', endpoint: 'http://model.invalid/v1/chat/completions' },
    { name: 'ollama', provider: 'ollama', baseURL: 'http://model.invalid/v1//', endpoint: 'http://model.invalid/v1/chat/completions' },
  ])('name $name, baseURL $baseURL', async ({ name, provider: providerName, baseURL, endpoint }) => {
    const provider = openAICompatible({ baseURL, model: 'm', ...(name === undefined ? {} : { name }) });

    const error = await provider.stream(request, AbortSignal.abort())[Symbol.asyncIterator]().next().catch((e: unknown) => e);

    expect(provider.name).toBe(providerName);
    expect(error).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { provider: providerName, phase: 'connecting' } });
    expect((error as Error).message).toBe(
      `Stream from model server at ${endpoint} was cancelled by its caller's signal while connecting; the HTTP request was aborted and its connection closed.`,
    );
  });
});

describe('openAICompatible over a scripted server', () => {
  let server: ScriptedServer;

  beforeEach(async () => {
    server = await startScripted(({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(deltaEvent('a') + sse('[DONE]'));
    });
  });

  afterEach(async () => {
    await server.close();
  });

  async function collect(iterable: AsyncIterable<ProviderChunk>): Promise<ProviderChunk[]> {
    const chunks: ProviderChunk[] = [];
    for await (const chunk of iterable) chunks.push(chunk);
    return chunks;
  }

  it('POSTs to <baseURL>/chat/completions, trailing slashes dropped, asking for an event stream, with no authorization and no unset option', async () => {
    const provider = openAICompatible({ baseURL: `${server.url}///`, model: 'm' });

    await collect(provider.stream(request, new AbortController().signal));

    const [{ req, body }] = server.received as [(typeof server.received)[number]];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.headers.accept).toBe('text/event-stream');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers).not.toHaveProperty('authorization');
    expect(JSON.parse(body)).toStrictEqual({ model: 'm', messages: request.messages, stream: true });
  });

  it("leaves no listener on the caller's signal once a stream ends, fails or is left early", async () => {
    const provider = openAICompatible({ baseURL: server.url, model: 'm' });
    const signal = new AbortController().signal;
    const failing = openAICompatible({ baseURL: server.url, model: 'm', fetch: async () => new Response('', { status: 200 }) });

    await collect(provider.stream(request, signal));
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await expect(collect(failing.stream(request, signal))).rejects.toMatchObject({ code: 'INTERLOCK_UPSTREAM_PROTOCOL' });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    for await (const chunk of provider.stream(request, signal)) if (chunk.type === 'delta') break;
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
