import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAICompatible } from '../../src/providers/openAICompatible.js';
import type { ChatRequest, ProviderChunk } from '../../src/providers/types.js';
import { startUpstream, upstreamTokens, type Upstream } from '../fixtures/upstream.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'Say five words.' }] };

async function collect(iterable: AsyncIterable<ProviderChunk>): Promise<ProviderChunk[]> {
  const chunks: ProviderChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

describe('openAICompatible streaming over real HTTP', () => {
  let upstream: Upstream;

  beforeEach(async () => {
    upstream = await startUpstream({ tokens: 5 });
  });

  afterEach(async () => {
    await upstream.close();
  });

  it('yields every token in order, then done with finish_reason and usage', async () => {
    const provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });

    const chunks = await collect(provider.stream(request, new AbortController().signal));

    expect(chunks).toEqual([
      ...upstreamTokens(5).map((text) => ({ type: 'delta', text })),
      { type: 'done', finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 5 } },
    ]);
    expect(upstream.completed).toBe(1);
    expect(upstream.clientAborts).toBe(0);
  });

  it('ignores SSE comment lines such as the keep-alive the fixture sends first', async () => {
    const provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });

    const chunks = await collect(provider.stream(request, new AbortController().signal));

    // The fixture's first frame is ': fixture keep-alive'; it must produce no chunk at all.
    expect(chunks[0]).toEqual({ type: 'delta', text: 'w0' });
    expect(chunks.filter((c) => c.type === 'delta').map((c) => (c.type === 'delta' ? c.text : '')).join('')).toBe(
      'w0 w1 w2 w3 w4',
    );
  });

  it('POSTs the OpenAI wire format with stream: true, the key as a bearer token and extra headers', async () => {
    const provider = openAICompatible({
      baseURL: `${upstream.url}/`,
      apiKey: 'sk-test',
      model: 'fixture-model',
      headers: { 'x-trace': 'abc' },
    });

    await collect(
      provider.stream({ ...request, temperature: 0.2, maxTokens: 16 }, new AbortController().signal),
    );
    await collect(provider.stream({ ...request, model: 'other-model' }, new AbortController().signal));

    const [first, second] = upstream.received;
    expect(first).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json', 'x-trace': 'abc' },
      body: { model: 'fixture-model', messages: request.messages, stream: true, temperature: 0.2, max_tokens: 16 },
    });
    expect(second?.body).toEqual({ model: 'other-model', messages: request.messages, stream: true });
  });

  it('ends at data: [DONE] and ignores whatever follows it', async () => {
    upstream.behaviour = 'junkAfterDone';
    const provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });

    const chunks = await collect(provider.stream(request, new AbortController().signal));

    expect(chunks.at(-1)).toEqual({ type: 'done', finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 5 } });
    expect(chunks).toHaveLength(6);
  });

  it('sends nothing until iteration starts', async () => {
    const provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });

    const iterable = provider.stream(request, new AbortController().signal);
    expect(upstream.requests).toBe(0);
    await collect(iterable);

    expect(upstream.requests).toBe(1);
  });
});
