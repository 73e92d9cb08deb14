import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/index.js';
import { rejected } from '../helpers/outcome.js';

/** A timer that fires every `everyMs` and sets itself again until it has fired `times` times. */
function repeating(clock: SimulatedClock, everyMs: number, times: number) {
  const fired: number[] = [];
  const fire = () => {
    fired.push(clock.now());
    if (fired.length < times) clock.setTimeout(fire, everyMs);
  };
  clock.setTimeout(fire, everyMs);
  return fired;
}

describe('SimulatedClock.runAll', () => {
  it('fires at most maxTimers timers, then rejects naming how many are still pending', async () => {
    const clock = new SimulatedClock();
    const fired = repeating(clock, 10, 10);
    const error = await rejected(clock.runAll(3));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('SimulatedClock.runAll: still 1 timers after firing 3');
    expect({ fired, now: clock.now(), pending: clock.pending() }).toEqual({ fired: [10, 20, 30], now: 30, pending: 1 });
  });

  it('resolves when exactly maxTimers timers were due and none is left', async () => {
    const clock = new SimulatedClock();
    const fired = repeating(clock, 10, 3);
    await clock.runAll(3);
    expect({ fired, now: clock.now(), pending: clock.pending() }).toEqual({ fired: [10, 20, 30], now: 30, pending: 0 });
  });

  it('resolves at once with no timer, and skips cancelled ones', async () => {
    const clock = new SimulatedClock(5);
    await clock.runAll(0);
    const fired: string[] = [];
    const cancelled = clock.setTimeout(() => fired.push('cancelled'), 10);
    clock.setTimeout(() => fired.push('kept'), 20);
    clock.clearTimeout(cancelled);
    await clock.runAll(1);
    expect({ fired, now: clock.now(), pending: clock.pending() }).toEqual({ fired: ['kept'], now: 25, pending: 0 });
  });
});

describe('SimulatedClock timer order', () => {
  it('fires timers due at the same instant in the order they were set, interleaved with earlier and later ones', () => {
    const clock = new SimulatedClock();
    const fired: string[] = [];
    // Ten at 100 ms, set around timers at 50 and 150 ms, so the heap holds them in no particular order.
    for (let i = 0; i < 10; i++) {
      clock.setTimeout(() => fired.push(`same${i}`), 100);
      if (i % 3 === 0) clock.setTimeout(() => fired.push(`late${i}`), 150);
      if (i % 4 === 0) clock.setTimeout(() => fired.push(`early${i}`), 50);
    }
    clock.advance(150);
    expect(fired).toEqual([
      'early0', 'early4', 'early8',
      ...Array.from({ length: 10 }, (_, i) => `same${i}`),
      'late0', 'late3', 'late6', 'late9',
    ]);
  });

  it('fires a timer set for the current instant by a timer firing now after the others already due', () => {
    const clock = new SimulatedClock();
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push('a');
      clock.setTimeout(() => fired.push('c (set by a)'), 0);
    }, 10);
    clock.setTimeout(() => fired.push('b'), 10);
    clock.advance(10);
    expect(fired).toEqual(['a', 'b', 'c (set by a)']);
  });
});
