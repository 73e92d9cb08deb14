import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { simulated } from '../../src/providers/simulated.js';
import type { ChatRequest, ProviderChunk } from '../../src/providers/types.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'What is 2+2?' }] };
const cancelled = { name: 'InterlockError', code: 'INTERLOCK_CANCELLED' };

/** Runs the stream to its end on simulated time, logging `time:chunk` for each chunk. */
async function run(clock: SimulatedClock, iterable: AsyncIterable<ProviderChunk>): Promise<string[]> {
  const log: string[] = [];
  const done = (async () => {
    for await (const chunk of iterable) log.push(`${clock.now()}:${label(chunk)}`);
  })();
  await clock.runAll();
  await done;
  return log;
}

function label(chunk: ProviderChunk): string {
  return chunk.type === 'delta' ? chunk.text : `done(${chunk.finishReason})`;
}

function texts(log: string[]): string {
  return log
    .map((entry) => entry.slice(entry.indexOf(':') + 1))
    .filter((entry) => !entry.startsWith('done('))
    .join('');
}

describe('simulated provider', () => {
  it('emits a token only when the clock reaches its slot, one per interval, then done', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ tokensPerSecond: 10, text: 'alpha beta gamma', clock });
    const log: string[] = [];
    const done = (async () => {
      for await (const chunk of provider.stream(request, new AbortController().signal)) {
        log.push(`${clock.now()}:${label(chunk)}`);
      }
    })();

    await clock.tick(99);
    expect(log).toEqual([]);
    await clock.tick(1);
    expect(log).toEqual(['100:alpha']);
    await clock.tick(99);
    expect(log).toEqual(['100:alpha']);
    await clock.tick(1);
    expect(log).toEqual(['100:alpha', '200: beta']);
    await clock.tick(100);
    await done;
    expect(log).toEqual(['100:alpha', '200: beta', '300: gamma', '300:done(stop)']);
    expect(clock.pending()).toBe(0);
  });

  it('paces tokens at the default 50 tokens per second', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ text: 'one two three four', clock });

    const log = await run(clock, provider.stream(request, new AbortController().signal));

    expect(log).toEqual(['20:one', '40: two', '60: three', '80: four', '80:done(stop)']);
  });

  it('reports usage: prompt words and emitted tokens', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ text: 'a b c', clock });
    const chunks: ProviderChunk[] = [];
    const done = (async () => {
      for await (const chunk of provider.stream(request, new AbortController().signal)) chunks.push(chunk);
    })();
    await clock.runAll();
    await done;

    expect(chunks.at(-1)).toEqual({ type: 'done', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 3 } });
  });

  it('clears its timer and rejects with INTERLOCK_CANCELLED on abort while waiting for a token', async () => {
    const clock = new SimulatedClock();
    clock.setTimeout(() => undefined, 60_000); // an unrelated timer that must survive
    const before = clock.pending();
    const controller = new AbortController();
    const iterator = simulated({ clock }).stream(request, controller.signal)[Symbol.asyncIterator]();

    const pending = iterator.next();
    expect(clock.pending()).toBe(before + 1);
    controller.abort();

    await expect(pending).rejects.toMatchObject(cancelled);
    expect(clock.pending()).toBe(before);
  });

  it('rejects the next read with INTERLOCK_CANCELLED when aborted while the consumer holds a token', async () => {
    const clock = new SimulatedClock();
    const controller = new AbortController();
    const iterator = simulated({ clock, text: 'a b c' }).stream(request, controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    await clock.tick(20);
    expect(await first).toEqual({ done: false, value: { type: 'delta', text: 'a' } });

    controller.abort();

    await expect(iterator.next()).rejects.toMatchObject(cancelled);
    expect(clock.pending()).toBe(0);
  });

  it('leaves nothing scheduled when the consumer breaks out early', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ clock, text: 'a b c d e' });
    const seen: string[] = [];
    const done = (async () => {
      for await (const chunk of provider.stream(request, new AbortController().signal)) {
        if (chunk.type === 'delta') seen.push(chunk.text);
        if (seen.length === 2) break;
      }
    })();

    await clock.tick(40);
    await done;

    expect(seen).toEqual(['a', ' b']);
    expect(clock.pending()).toBe(0);
  });

  it('rejects at once, scheduling nothing, when the signal is already aborted', async () => {
    const clock = new SimulatedClock();
    const iterator = simulated({ clock }).stream(request, AbortSignal.abort())[Symbol.asyncIterator]();

    await expect(iterator.next()).rejects.toMatchObject(cancelled);
    expect(clock.pending()).toBe(0);
  });

  it('answers the same request with the same tokens, derived from the last user message', async () => {
    const conversation: ChatRequest = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
        { role: 'user', content: 'What  is\n3+3?' },
      ],
    };
    const clockA = new SimulatedClock();
    const clockB = new SimulatedClock();

    const a = await run(clockA, simulated({ clock: clockA }).stream(conversation, new AbortController().signal));
    const b = await run(clockB, simulated({ clock: clockB }).stream(conversation, new AbortController().signal));
    const other = await run(clockB, simulated({ clock: clockB }).stream(request, new AbortController().signal));

    expect(a).toEqual(b);
    expect(texts(a)).toBe(`You said: "What is 3+3?". This is Interlock's simulated model answering without a network.`);
    expect(texts(other)).not.toBe(texts(a));
  });

  it('replies with `text` verbatim when given', async () => {
    const clock = new SimulatedClock();
    const text = 'The quick brown fox, again.';

    const log = await run(clock, simulated({ clock, text }).stream(request, new AbortController().signal));

    expect(texts(log)).toBe(text);
  });

  it('stops at maxTokens with finish reason length', async () => {
    const clock = new SimulatedClock();

    const log = await run(
      clock,
      simulated({ clock, text: 'a b c d' }).stream({ ...request, maxTokens: 2 }, new AbortController().signal),
    );

    expect(log).toEqual(['20:a', '40: b', '40:done(length)']);
  });

  it.each([
    [0, []],
    [-3, []],
    [Number.NaN, []],
    [2.9, ['20:a', '40: b']],
  ])('treats maxTokens %s as the whole-reply slice did: %j, then done(length)', async (maxTokens, deltas) => {
    const clock = new SimulatedClock();
    const log = await run(clock, simulated({ clock, text: 'a b c d' }).stream({ ...request, maxTokens }, new AbortController().signal));
    expect(log).toEqual([...deltas, `${deltas.length === 0 ? 0 : 40}:done(length)`]);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses tokensPerSecond %s with INTERLOCK_INVALID_CONFIG', (rate) => {
    expect(() => simulated({ tokensPerSecond: rate })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }));
  });
});
