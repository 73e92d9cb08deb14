import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmallMap } from '../../src/mailbox/SmallMap.js';
import { fcParams } from '../model/props.js';

type Op = { op: 'set'; k: number; v: number } | { op: 'delete'; k: number } | { op: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), k: fc.integer({ min: 0, max: 3 }), v: fc.integer() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('delete' as const), k: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

describe('SmallMap (open turns, running tasks)', () => {
  it('behaves as a Map after any sequence of set, delete and clear: get, has, size and values in insertion order', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const small = new SmallMap<number, number>();
        const map = new Map<number, number>();
        for (const o of ops) {
          if (o.op === 'set') {
            small.set(o.k, o.v);
            map.set(o.k, o.v);
          } else if (o.op === 'delete') expect(small.delete(o.k)).toBe(map.delete(o.k));
          else {
            small.clear();
            map.clear();
          }
          expect(small.size).toBe(map.size);
          expect(small.values()).toEqual([...map.values()]);
          for (let k = 0; k <= 3; k++) {
            expect(small.get(k)).toBe(map.get(k));
            expect(small.has(k)).toBe(map.has(k));
          }
        }
      }),
      fcParams(),
    );
  });

  it('holds a Map only while two or more entries are present, whatever the sequence (its reason to exist: no hash table for the usual one entry)', () => {
    // The representation is the contract here, so the test reads the private field.
    const holdsMap = (m: SmallMap<number, number>) => (m as unknown as { map: Map<number, number> | undefined }).map !== undefined;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const small = new SmallMap<number, number>();
        for (const o of ops) {
          if (o.op === 'set') small.set(o.k, o.v);
          else if (o.op === 'delete') small.delete(o.k);
          else small.clear();
          expect(holdsMap(small)).toBe(small.size >= 2);
        }
      }),
      fcParams(),
    );
  });

  it('hands out values as a copy, so entries can be deleted while iterating them', () => {
    const small = new SmallMap<string, number>();
    small.set('a', 1);
    small.set('b', 2);
    small.set('c', 3);
    const seen: number[] = [];
    for (const v of small.values()) {
      seen.push(v);
      small.delete(v === 1 ? 'a' : v === 2 ? 'b' : 'c');
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(small.size).toBe(0);
  });
});
