/**
 * Edges of the client's resume points (src/client/Cursor.ts) the broader cursor tests
 * (cursor.test.ts) do not reach: the exact byte bound of a pattern's `since`, an address
 * subscription after a gone-actor snapshot, and which `since` values count as one point.
 */
import { describe, expect, it } from 'vitest';
import { Cursor, RESUME_BYTES, sinceMismatch } from '../../src/client/Cursor.js';
import type { ResumeFrom, ResumeMap } from '../../src/transport/protocol.js';

/** An ASCII address whose resume entry (`"address":{"epoch":1,"seq":1},`, comma counted) is `bytes` long. */
const addressFor = (bytes: number) => `s/${'x'.repeat(bytes - '"":{"epoch":1,"seq":1},'.length - 2)}`;

describe('resume points', () => {
  it(`sends a point that brings the counted bytes of since to exactly ${RESUME_BYTES}, and not one that would make since itself larger`, () => {
    // The count starts at 2 (the braces) and adds each entry with its comma (so it is one
    // byte above the JSON, which has no comma after its last entry).
    for (const [bytes, sent] of [
      [RESUME_BYTES - 2, true], // counted: RESUME_BYTES
      [RESUME_BYTES, false], // the JSON alone: RESUME_BYTES + 1
    ] as const) {
      const c = new Cursor(undefined, {});
      const address = addressFor(bytes);
      c.admit({ address, epoch: 1, seq: 1 });
      const since = c.nextSince() as ResumeMap;
      expect(Object.keys(since), `an entry of ${bytes} bytes`).toEqual(sent ? [address] : []);
      if (sent) expect(Buffer.byteLength(JSON.stringify(since))).toBeLessThanOrEqual(RESUME_BYTES);
    }
  });

  it('keeps an address subscription at its last point even after a gone-actor snapshot; a pattern forgets the address, and only on that snapshot', () => {
    const c = new Cursor('s/a');
    expect(c.admit({ address: 's/a', epoch: 4, seq: 3 })).toBe(true);
    expect(c.admit({ address: 's/a', epoch: 0, seq: 0, recovered: false })).toBe(true);
    expect(c.nextSince()).toEqual({ epoch: 0, seq: 0 });
    const pattern = new Cursor(undefined, {});
    pattern.admit({ address: 's/a', epoch: 4, seq: 3 });
    pattern.admit({ address: 's/b', epoch: 4, seq: 1 });
    pattern.admit({ address: 's/a', epoch: 0, seq: 0, recovered: false });
    // Only that snapshot forgets: a record of epoch 0 that is not one is a point like any other.
    pattern.admit({ address: 's/c', epoch: 0, seq: 1 });
    expect(pattern.nextSince()).toEqual({ 's/b': { epoch: 4, seq: 1 }, 's/c': { epoch: 0, seq: 1 } });
  });

  it("takes a since with an epoch or a seq as one address's point, and refuses it for a pattern with the form it needs", () => {
    const halfPoints = [{ epoch: 1 }, { seq: 1 }] as unknown as ResumeFrom[];
    for (const since of halfPoints) {
      expect(sinceMismatch({ address: 's/a' }, since), JSON.stringify(since)).toBeUndefined();
      expect(sinceMismatch({ pattern: 's/*' }, since), JSON.stringify(since)).toBe(
        "'since' of pattern 's/*' is a map of points by address ({ 'kind/key': { epoch, seq } }); { epoch, seq } resumes one address.",
      );
    }
    const map: ResumeMap = { 's/a': { epoch: 1, seq: 1 } };
    expect(sinceMismatch({ pattern: 's/*' }, map)).toBeUndefined();
    expect(sinceMismatch({ address: 's/a' }, map)).toBe("'since' of address 's/a' is { epoch, seq }; a map of points by address is for a pattern.");
  });
});
