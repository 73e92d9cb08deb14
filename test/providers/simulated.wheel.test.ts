import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock, type Clock } from '../../src/clock.js';
import { InterlockError } from '../../src/errors.js';
import { simulated } from '../../src/providers/simulated.js';
import type { ChatRequest, Provider, ProviderChunk } from '../../src/providers/types.js';
import { fcParams } from '../model/props.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'hi' }] };
const cancelled = { name: 'InterlockError', code: 'INTERLOCK_CANCELLED' };

/**
 * The oracle: simulated() as it was before its streams shared timers (one clock timer per
 * token per stream, the reply split up front), kept here to compare the two.
 */
function perStreamTimers(clock: Clock, intervalMs: number, text: string): Provider {
  return {
    name: 'oracle',
    async *stream(req, signal): AsyncGenerator<ProviderChunk> {
      const tokens = text.trim().match(/\s*\S+/g) ?? [];
      let pending: { handle: unknown; reject: (e: unknown) => void } | undefined;
      const onAbort = () => {
        if (!pending) return;
        clock.clearTimeout(pending.handle);
        pending.reject(new InterlockError('INTERLOCK_CANCELLED', 'cancelled'));
        pending = undefined;
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        for (const token of tokens) {
          if (signal.aborted) throw new InterlockError('INTERLOCK_CANCELLED', 'cancelled');
          await new Promise<void>((resolve, reject) => {
            pending = { handle: clock.setTimeout(() => ((pending = undefined), resolve()), intervalMs), reject };
          });
          yield { type: 'delta', text: token };
        }
        if (signal.aborted) throw new InterlockError('INTERLOCK_CANCELLED', 'cancelled');
        yield { type: 'done', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: tokens.length } };
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
  };
}

interface StreamPlan {
  startAt: number;
  rate: 10 | 20 | 40 | 50;
  words: number;
  /** Abort at this time (a half millisecond: never the instant of a token). */
  abortAt?: number;
  /** Stop reading (break) after this many tokens. */
  breakAfter?: number;
}

const planArb: fc.Arbitrary<StreamPlan> = fc.record(
  {
    startAt: fc.integer({ min: 0, max: 60 }),
    rate: fc.constantFrom(10 as const, 20 as const, 40 as const, 50 as const),
    words: fc.integer({ min: 0, max: 6 }),
    abortAt: fc.integer({ min: 0, max: 300 }).map((t) => t + 0.5),
    breakAfter: fc.integer({ min: 1, max: 6 }),
  },
  { requiredKeys: ['startAt', 'rate', 'words'] },
);

/** Runs every plan's stream on one simulated clock; logs `time stream chunk` as the consumers see them. */
async function runPlans(plans: StreamPlan[], provider: (clock: Clock, plan: StreamPlan, text: string) => Provider): Promise<string[]> {
  const clock = new SimulatedClock();
  const log: string[] = [];
  const done: Promise<void>[] = [];
  plans.forEach((plan, i) => {
    const text = Array.from({ length: plan.words }, (_, w) => `s${i}w${w}`).join(' ');
    const ac = new AbortController();
    if (plan.abortAt !== undefined) clock.setTimeout(() => ac.abort(), plan.abortAt);
    clock.setTimeout(() => {
      done.push(
        (async () => {
          let seen = 0;
          try {
            for await (const chunk of provider(clock, plan, text).stream(request, ac.signal)) {
              log.push(`${clock.now()} ${i} ${chunk.type === 'delta' ? chunk.text : `done:${chunk.finishReason}`}`);
              if (chunk.type === 'delta' && ++seen === plan.breakAfter) break;
            }
          } catch (err) {
            log.push(`${clock.now()} ${i} error:${(err as InterlockError).code}`);
          }
        })(),
      );
    }, plan.startAt);
  });
  await clock.runAll();
  await Promise.all(done);
  log.push(`timers left ${clock.pending()}`);
  return log;
}

describe('simulated(): streams due at the same instant share one clock timer', () => {
  it('holds one timer for five streams waiting for the same instant, where each stream used to hold its own', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ clock, text: 'a b c' });
    const its = Array.from({ length: 5 }, () => provider.stream(request, new AbortController().signal)[Symbol.asyncIterator]());
    const reads = its.map((it) => it.next());
    expect(clock.pending()).toBe(1);
    await clock.tick(20);
    expect(await Promise.all(reads)).toEqual(Array.from({ length: 5 }, () => ({ done: false, value: { type: 'delta', text: 'a' } })));
    const next = its.map((it) => it.next());
    expect(clock.pending()).toBe(1);
    await clock.tick(20);
    expect((await Promise.all(next)).map((r) => (r.value as { text: string }).text)).toEqual([' b', ' b', ' b', ' b', ' b']);
  });

  it('keeps a separate timer for a stream due at another instant', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ clock, text: 'a b' });
    void provider.stream(request, new AbortController().signal)[Symbol.asyncIterator]().next();
    await clock.tick(5);
    void provider.stream(request, new AbortController().signal)[Symbol.asyncIterator]().next();
    expect(clock.pending()).toBe(2);
  });

  it('keeps the shared timer while any stream waits on it, and clears it when the last one aborts', async () => {
    const clock = new SimulatedClock();
    const provider = simulated({ clock, text: 'a b' });
    const a = new AbortController();
    const b = new AbortController();
    const readA = provider.stream(request, a.signal)[Symbol.asyncIterator]().next();
    const readB = provider.stream(request, b.signal)[Symbol.asyncIterator]().next();
    expect(clock.pending()).toBe(1);
    a.abort();
    await expect(readA).rejects.toMatchObject(cancelled);
    expect(clock.pending()).toBe(1);
    b.abort();
    await expect(readB).rejects.toMatchObject(cancelled);
    expect(clock.pending()).toBe(0);
  });

  // Streams woken by one timer run their consumers' microtasks interleaved (the oracle ran
  // each stream's to the end before the next timer), so only the tokens' global order is
  // compared; each stream's own log, done and errors included, must be identical.
  it('emits every stream its chunks at the same times as one timer per stream did, and the tokens due at one instant in the same order (aborts and early stops included)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(planArb, { minLength: 1, maxLength: 6 }), async (plans) => {
        const shared = await runPlans(plans, (clock, plan, text) => simulated({ clock, tokensPerSecond: plan.rate, text }));
        const oracle = await runPlans(plans, (clock, plan, text) => perStreamTimers(clock, 1000 / plan.rate, text));
        const tokens = (log: string[]) => log.filter((l) => / s\d+w\d+$/.test(l));
        const ofStream = (log: string[], i: number) => log.filter((l) => l.split(' ')[1] === String(i));
        expect(tokens(shared)).toEqual(tokens(oracle));
        for (let i = 0; i < plans.length; i++) expect(ofStream(shared, i)).toEqual(ofStream(oracle, i));
        expect(shared.at(-1)).toBe('timers left 0');
      }),
      { ...fcParams(), numRuns: Number(process.env.FC_RUNS ?? 300) },
    );
  }, 60_000);
});

describe('simulated(): its stream is an async iterator written out by hand', () => {
  it('serves reads made before the previous one settled in order, one interval apart', async () => {
    const clock = new SimulatedClock();
    const it = simulated({ clock, text: 'a b' }).stream(request, new AbortController().signal)[Symbol.asyncIterator]();
    const reads = [it.next(), it.next(), it.next(), it.next()];
    const log: string[] = [];
    reads.forEach((r, i) => void r.then((v) => log.push(`${clock.now()}:${i}:${v.done ? 'end' : v.value.type === 'delta' ? v.value.text : 'done'}`)));
    await clock.runAll();
    await Promise.all(reads);
    expect(log).toEqual(['20:0:a', '40:1: b', '40:2:done', '40:3:end']);
  });

  it('ends a read still waiting as done when the consumer returns, and leaves no timer behind', async () => {
    const clock = new SimulatedClock();
    const it = simulated({ clock, text: 'a b' }).stream(request, new AbortController().signal)[Symbol.asyncIterator]();
    const waiting = it.next();
    expect(clock.pending()).toBe(1);
    expect(await it.return!()).toEqual({ done: true, value: undefined });
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(clock.pending()).toBe(0);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('rethrows what throw() is given and ends the stream', async () => {
    const clock = new SimulatedClock();
    const it = simulated({ clock, text: 'a b' }).stream(request, new AbortController().signal)[Symbol.asyncIterator]();
    void it.next();
    const boom = new Error('boom');
    await expect(it.throw!(boom)).rejects.toBe(boom);
    expect(clock.pending()).toBe(0);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});
