import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { simulated } from '../../src/providers/simulated.js';

describe('simulated provider: one abort listener per stream', () => {
  it('holds exactly one abort listener while streaming, whatever the token count, and none once the stream ends', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ clock, tokensPerSecond: 10, text: 'one two three four five' });
    const ac = new AbortController();
    const counts: number[] = [];
    const done = (async () => {
      for await (const chunk of provider.stream({ messages: [] }, ac.signal)) {
        if (chunk.type === 'delta') counts.push(getEventListeners(ac.signal, 'abort').length);
      }
    })();
    await clock.runAll();
    await done;
    expect(counts).toEqual([1, 1, 1, 1, 1]);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it('removes its listener when the consumer stops early', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ clock, tokensPerSecond: 10, text: 'one two three' });
    const ac = new AbortController();
    const done = (async () => {
      for await (const chunk of provider.stream({ messages: [] }, ac.signal)) if (chunk.type === 'delta') break;
    })();
    await clock.runAll();
    await done;
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });
});

describe('simulated provider: abort is learnt from its listener', () => {
  it("reads the signal's `aborted` getter once per stream, not once per token, and still rejects the read after an abort", async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ clock, tokensPerSecond: 10, text: 'one two three four five' });
    const ac = new AbortController();
    let reads = 0;
    const proto = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!;
    Object.defineProperty(ac.signal, 'aborted', {
      get() {
        reads++;
        return proto.get!.call(this);
      },
    });
    const it = provider.stream({ messages: [] }, ac.signal)[Symbol.asyncIterator]();
    for (let i = 0; i < 4; i++) {
      const next = it.next();
      await clock.tick(100);
      expect((await next).value).toMatchObject({ type: 'delta' });
    }
    expect(reads).toBe(1);
    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(clock.pending()).toBe(0);
  });
});
