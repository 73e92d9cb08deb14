/**
 * simulated()'s options and messages: what it refuses and how it says so, its name, the
 * reply it derives from a conversation, and the cancellation error a caller reads.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { simulated, type SimulatedOptions } from '../../src/providers/simulated.js';
import type { ChatRequest, ProviderChunk } from '../../src/providers/types.js';
import { outcome } from '../helpers/outcome.js';

const HELLO = "Hello from Interlock's simulated model. Send a user message and it will answer it.";
const saying = (said: string): string => `You said: "${said}". This is Interlock's simulated model answering without a network.`;

/** The whole reply text the provider streams for `request`, on simulated time. */
async function replyText(request: ChatRequest): Promise<string> {
  const clock = new SimulatedClock();
  let text = '';
  const done = (async () => {
    for await (const chunk of simulated({ clock }).stream(request, new AbortController().signal)) if (chunk.type === 'delta') text += chunk.text;
  })();
  await clock.runAll();
  await done;
  return text;
}

describe('simulated() refuses a rate it cannot pace with INTERLOCK_INVALID_CONFIG', () => {
  it.each([
    { rate: 0, shown: '0' },
    { rate: -5, shown: '-5' },
    { rate: Number.NaN, shown: 'NaN' },
    { rate: Number.POSITIVE_INFINITY, shown: 'Infinity' },
    { rate: '50', shown: '50' },
  ])('tokensPerSecond $shown', ({ rate, shown }) => {
    let error: unknown;
    try {
      simulated({ tokensPerSecond: rate } as unknown as SimulatedOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: 'InterlockError', code: 'INTERLOCK_INVALID_CONFIG' });
    expect((error as Error).message).toBe(
      `simulated: tokensPerSecond must be a finite number above 0, got ${shown}. Pass e.g. { tokensPerSecond: 50 }.`,
    );
  });
});

describe('simulated() reply derived from the conversation', () => {
  it.each<{ name: string; messages: ChatRequest['messages']; reply: string }>([
    { name: 'no messages: the greeting', messages: [], reply: HELLO },
    { name: 'no user message: the greeting', messages: [{ role: 'system', content: 'Be brief.' }], reply: HELLO },
    { name: 'a user message of whitespace only: the greeting', messages: [{ role: 'user', content: ' \n\t ' }], reply: HELLO },
    {
      name: 'the first message is the only user message, an assistant reply after it',
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'an answer' },
      ],
      reply: saying('first question'),
    },
    {
      name: 'inner whitespace runs collapsed to one space, the ends trimmed',
      messages: [{ role: 'user', content: '  What\n\n is \t 2+2?  ' }],
      reply: saying('What is 2+2?'),
    },
  ])('$name', async ({ messages, reply }) => {
    expect(await replyText({ messages })).toBe(reply);
  });
});

describe('simulated() names itself', () => {
  it.each([
    { name: undefined, shown: 'simulated' },
    { name: 'echo', shown: 'echo' },
  ])('name $name: the provider and its cancellation error say $shown', async ({ name, shown }) => {
    const clock = new SimulatedClock();
    const provider = simulated({ clock, text: 'one two', ...(name === undefined ? {} : { name }) });
    const controller = new AbortController();
    const reason = new Error('the caller left');
    const next = provider.stream({ messages: [] }, controller.signal)[Symbol.asyncIterator]().next();

    controller.abort(reason);

    const result = await outcome(next, clock);
    expect(provider.name).toBe(shown);
    expect(result.status).toBe('rejected');
    const error = (result as { reason: Error }).reason;
    expect(error).toMatchObject({ name: 'InterlockError', code: 'INTERLOCK_CANCELLED' });
    expect(error.message).toBe(`Stream from provider '${shown}' was cancelled by its caller's signal; its pending token timer was cleared.`);
    expect((error as unknown as { details: unknown }).details).toStrictEqual({ provider: shown });
    expect(error.cause).toBe(reason);
  });
});

describe('simulated() leaves no listener on the signal after an abort between reads', () => {
  it('the listener goes when the abort fires while the consumer holds a token', async () => {
    const clock = new SimulatedClock();
    const controller = new AbortController();
    const iterator = simulated({ clock, text: 'one two three' }).stream({ messages: [] }, controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    await clock.tick(20);
    expect(await outcome(first, clock)).toEqual({ status: 'fulfilled', value: { done: false, value: { type: 'delta', text: 'one' } } });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);

    controller.abort();

    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const next: Promise<IteratorResult<ProviderChunk>> = iterator.next();
    expect(await outcome(next, clock)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED' } });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });
});
