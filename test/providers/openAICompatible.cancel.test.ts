/**
 * Seed 002: a model call that ignored cancellation kept the old stream alive and hung
 * the server. These tests pin that an abort (or an early exit) reaches the socket to the
 * model server, whatever that server does.
 *
 * The upstream HOLDS its replies: after the first token it writes the next piece only
 * when the test steps it, so "the upstream has not written since the abort" is a fact of
 * the test, not a bet that this machine answers within the fixture's delay. Effects on
 * the far side of the socket (a connection closing) are awaited as conditions. One
 * real-time smoke test keeps the timer-paced path honest.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAICompatible } from '../../src/providers/openAICompatible.js';
import type { ChatRequest, Provider } from '../../src/providers/types.js';
import { startUpstream, waitUntil, type Upstream } from '../fixtures/upstream.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'Write a very long poem.' }] };
const cancelled = { name: 'InterlockError', code: 'INTERLOCK_CANCELLED' };

describe('openAICompatible cancellation reaches the socket (seed 002)', { timeout: 15_000 }, () => {
  let upstream: Upstream;
  let provider: Provider;

  beforeEach(async () => {
    upstream = await startUpstream({ tokens: 5, hold: true });
    provider = openAICompatible({ baseURL: upstream.url, model: 'fixture-model' });
  });

  afterEach(async () => {
    await upstream.close();
  });

  it('rejects a pending read with INTERLOCK_CANCELLED on abort mid-stream, and the server sees the client close', async () => {
    const controller = new AbortController();
    const iterator = provider.stream(request, controller.signal)[Symbol.asyncIterator]();

    expect(await iterator.next()).toEqual({ done: false, value: { type: 'delta', text: 'w0' } });
    const pending = iterator.next();
    const writesAtAbort = upstream.writes;
    controller.abort();

    await expect(pending).rejects.toMatchObject(cancelled);
    // Rejected without another write from the upstream: the held reply never wrote again.
    expect(upstream.writes).toBe(writesAtAbort);
    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
    expect(upstream.clientAborts).toBe(1);
    expect(upstream.completed).toBe(0);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    // Node 20's fetch opens one spare idle connection after an aborted stream and closes
    // it itself a few seconds later (nodejs/undici#5845); nothing of ours stays open.
    await waitUntil(() => upstream.openSockets() === 0, 'every server-side socket closed', 10_000);
    expect(upstream.requests).toBe(1);
  });

  it('closes the socket when aborted while the consumer holds a chunk, without another next()', async () => {
    const controller = new AbortController();
    const iterator = provider.stream(request, controller.signal)[Symbol.asyncIterator]();
    await iterator.next();

    controller.abort();

    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
    expect(upstream.clientAborts).toBe(1);
    await expect(iterator.next()).rejects.toMatchObject(cancelled);
  });

  it('finishes promptly against an upstream that ignores the abort and keeps writing', async () => {
    upstream.behaviour = 'ignoreAbort';
    upstream.tokens = 4; // opening (w0), three tokens, the finish: four pieces after the opening
    const controller = new AbortController();
    const iterator = provider.stream(request, controller.signal)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: { type: 'delta', text: 'w0' } });

    const pending = iterator.next();
    const writesAtAbort = upstream.writes;
    controller.abort();
    await expect(pending).rejects.toMatchObject(cancelled);

    // We are done while the upstream still has its reply to write: we did not wait for it.
    expect(upstream.writes).toBe(writesAtAbort);
    expect(upstream.held()).toBe(1);
    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
    // And it really does ignore us: every piece it still writes goes into the closed connection.
    let steps = 0;
    while (upstream.step() > 0) steps++;
    expect(steps).toBe(4);
    expect(upstream.writesAfterAbort).toBe(4);
    expect(upstream.held()).toBe(0);
    expect(upstream.clientAborts).toBe(1);
    expect(upstream.completed).toBe(0);
  });

  it('rejects with INTERLOCK_CANCELLED when aborted while the upstream hangs after its headers', async () => {
    upstream.behaviour = 'hang';
    let headersSeen = false;
    const watching = openAICompatible({
      baseURL: upstream.url,
      model: 'fixture-model',
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        headersSeen = true;
        return response;
      },
    });
    const controller = new AbortController();
    const pending = watching.stream(request, controller.signal)[Symbol.asyncIterator]().next();
    await waitUntil(() => headersSeen, 'response headers arrived');

    controller.abort();

    await expect(pending).rejects.toMatchObject({ ...cancelled, details: { phase: 'streaming' } });
    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
    expect(upstream.clientAborts).toBe(1);
  });

  it('rejects with INTERLOCK_CANCELLED when aborted before the upstream sends any header', async () => {
    upstream.behaviour = 'hangBeforeHeaders';
    const controller = new AbortController();
    const pending = provider.stream(request, controller.signal)[Symbol.asyncIterator]().next();
    await waitUntil(() => upstream.requests === 1, 'request reached the upstream');

    controller.abort();

    await expect(pending).rejects.toMatchObject({ ...cancelled, details: { phase: 'connecting' } });
    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
  });

  it('releases the socket when the consumer breaks out of for await early', async () => {
    upstream.tokens = 50;
    const texts: string[] = [];

    for await (const chunk of provider.stream(request, new AbortController().signal)) {
      if (chunk.type === 'delta') texts.push(chunk.text);
      if (texts.length === 2) break;
      upstream.step(); // the next token, once this one was read
    }

    expect(texts).toEqual(['w0', ' w1']);
    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
    expect(upstream.clientAborts).toBe(1);
    expect(upstream.completed).toBe(0);
  });

  it('releases the socket when the consumer calls return() on the iterator', async () => {
    const iterator = provider.stream(request, new AbortController().signal)[Symbol.asyncIterator]();
    await iterator.next();

    expect(await iterator.return?.()).toEqual({ done: true, value: undefined });

    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
    expect(upstream.clientAborts).toBe(1);
  });

  it('never calls fetch when the signal is already aborted', async () => {
    let calls = 0;
    const counting = openAICompatible({
      baseURL: upstream.url,
      model: 'fixture-model',
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });

    const pending = counting.stream(request, AbortSignal.abort())[Symbol.asyncIterator]().next();

    await expect(pending).rejects.toMatchObject({ ...cancelled, details: { phase: 'connecting' } });
    expect(calls).toBe(0);
  });

  it('real-time smoke: an abort mid-stream of a timer-paced reply rejects the read and closes the socket', async () => {
    upstream.hold = false;
    upstream.tokens = 50;
    upstream.delayMs = 20;
    const controller = new AbortController();
    const iterator = provider.stream(request, controller.signal)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: { type: 'delta', text: 'w0' } });
    expect(await iterator.next()).toEqual({ done: false, value: { type: 'delta', text: ' w1' } });

    controller.abort();

    await expect(iterator.next()).rejects.toMatchObject(cancelled);
    await waitUntil(() => upstream.busySockets() === 0, "the request's connection closed");
    expect(upstream.clientAborts).toBe(1);
    expect(upstream.completed).toBe(0);
  });
});
