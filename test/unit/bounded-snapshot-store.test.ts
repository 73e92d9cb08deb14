/**
 * The bounded snapshot store `interlock serve` uses (src/gateway/boundedStore.ts): its bound
 * must be an integer ≥ 1, reading an absent address leaves it absent, delete removes.
 */
import { describe, expect, it } from 'vitest';
import { boundedMemoryStore } from '../../src/gateway/boundedStore.js';

describe('bounded memory store', () => {
  it('refuses a bound that is not an integer >= 1, naming the value', () => {
    const refused = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY].map((max) => {
      try {
        boundedMemoryStore(max);
        return `${max}: accepted`;
      } catch (err) {
        return `${max}: ${(err as Error).name}: ${(err as Error).message}`;
      }
    });
    expect(refused).toEqual([
      '0: RangeError: boundedMemoryStore: max must be an integer >= 1, got 0',
      '-1: RangeError: boundedMemoryStore: max must be an integer >= 1, got -1',
      '1.5: RangeError: boundedMemoryStore: max must be an integer >= 1, got 1.5',
      'NaN: RangeError: boundedMemoryStore: max must be an integer >= 1, got NaN',
      'Infinity: RangeError: boundedMemoryStore: max must be an integer >= 1, got Infinity',
    ]);
  });

  it('holds one snapshot at a bound of 1, the newest', () => {
    const store = boundedMemoryStore(1);
    store.save('session/a', 1);
    store.save('session/b', 2);
    expect([store.load('session/a'), store.load('session/b'), store.size, store.evicted]).toEqual([undefined, 2, 1, 1]);
  });

  it('does not make room for an address it was asked for and does not hold', () => {
    const store = boundedMemoryStore(2);
    store.save('session/a', 'A');
    expect(store.load('session/missing')).toBeUndefined();
    expect(store.size).toBe(1);
    // Had the miss taken a place, saving b would evict a.
    store.save('session/b', 'B');
    expect([store.load('session/a'), store.load('session/b'), store.evicted]).toEqual(['A', 'B', 0]);
  });

  it('deletes a snapshot: it is gone and frees its place', () => {
    const store = boundedMemoryStore(2);
    store.save('session/a', 'A');
    store.save('session/b', 'B');
    store.delete('session/a');
    expect([store.load('session/a'), store.size]).toEqual([undefined, 1]);
    store.save('session/c', 'C');
    expect([store.load('session/b'), store.load('session/c'), store.evicted]).toEqual(['B', 'C', 0]);
  });
});
