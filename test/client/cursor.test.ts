/**
 * The client's Cursor for a pattern subscription: which `since` each subscribe carries
 * (none the first time unless the caller gave one), the bound on how many addresses it
 * keeps (the most recently advanced MAX_RESUME_ADDRESSES) and on the bytes it sends, and
 * that an address whose actor is gone is forgotten. (That resumes are gapless end to end is
 * test/client/resume.property.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { Cursor, RESUME_BYTES } from '../../src/client/Cursor.js';
import { MAX_RESUME_ADDRESSES, type ResumeMap } from '../../src/transport/protocol.js';

const at = (address: string, seq: number, epoch = 7) => ({ address, epoch, seq });

describe('a pattern cursor', () => {
  it('starts live, then resumes from the last record of each address; duplicates are dropped per address', () => {
    const c = new Cursor(undefined);
    expect(c.nextSince()).toBeUndefined();
    expect(c.nextSince()).toEqual({});
    expect([c.admit(at('s/a', 4)), c.admit(at('s/b', 9)), c.admit(at('s/a', 5)), c.admit(at('s/a', 5)), c.admit(at('s/b', 3))]).toEqual([true, true, true, false, false]);
    expect(c.nextSince()).toEqual({ 's/a': { epoch: 7, seq: 5 }, 's/b': { epoch: 7, seq: 9 } });
    // Another epoch starts the address afresh; a recovered:false snapshot is always taken.
    expect(c.admit(at('s/a', 1, 8))).toBe(true);
    expect(c.admit({ ...at('s/b', 2), recovered: false })).toBe(true);
    expect(c.nextSince()).toEqual({ 's/a': { epoch: 8, seq: 1 }, 's/b': { epoch: 7, seq: 2 } });
  });

  it("resumes from the caller's own map first", () => {
    const start: ResumeMap = { 's/a': { epoch: 3, seq: 2 } };
    const c = new Cursor(undefined, start);
    expect(c.nextSince()).toEqual(start);
    expect(c.admit(at('s/a', 2, 3))).toBe(false);
    expect(c.admit(at('s/a', 3, 3))).toBe(true);
  });

  it('forgets an address whose actor is gone (a recovered:false snapshot of epoch 0)', () => {
    const c = new Cursor(undefined, {});
    c.admit(at('s/a', 4));
    c.admit(at('s/b', 4));
    expect(c.admit({ address: 's/a', epoch: 0, seq: 0, recovered: false })).toBe(true);
    expect(c.nextSince()).toEqual({ 's/b': { epoch: 7, seq: 4 } });
  });

  it(`keeps the ${MAX_RESUME_ADDRESSES} most recently advanced addresses`, () => {
    const c = new Cursor(undefined, {});
    for (let i = 0; i <= MAX_RESUME_ADDRESSES; i++) c.admit(at(`s/${i}`, 1));
    c.admit(at('s/1', 2)); // advanced again: now the most recent, so s/0 and s/2 go first
    c.admit(at('s/extra', 1));
    const since = c.nextSince() as ResumeMap;
    expect(Object.keys(since)).toHaveLength(MAX_RESUME_ADDRESSES);
    expect(since['s/0']).toBeUndefined();
    expect(since['s/2']).toBeUndefined();
    expect(since['s/1']).toEqual({ epoch: 7, seq: 2 });
    expect(Object.keys(since).slice(-2)).toEqual(['s/1', 's/extra']);
  });

  it(`sends the most recent points that fit ${RESUME_BYTES} bytes, so the subscribe fits the server's 64 KiB frames`, () => {
    const c = new Cursor(undefined, {});
    // Long keys, some not ASCII (up to 3 bytes a character in UTF-8).
    const key = (i: number) => `session/${String(i).padStart(4, '0')}-${'é'.repeat(60)}`;
    for (let i = 0; i < MAX_RESUME_ADDRESSES; i++) c.admit({ address: key(i), epoch: 1_795_986_723_423_001, seq: 123_456 });
    const since = c.nextSince() as ResumeMap;
    const bytes = Buffer.byteLength(JSON.stringify(since));
    expect(bytes).toBeLessThanOrEqual(RESUME_BYTES);
    const n = Object.keys(since).length;
    expect(n).toBeLessThan(MAX_RESUME_ADDRESSES);
    // The most recent ones, and as many as fit: one more would not.
    expect(Object.keys(since)).toEqual(Array.from({ length: n }, (_, i) => key(MAX_RESUME_ADDRESSES - n + i)));
    const next = Buffer.byteLength(JSON.stringify({ [key(MAX_RESUME_ADDRESSES - n - 1)]: { epoch: 1_795_986_723_423_001, seq: 123_456 } })) - 1; // less the braces, plus a comma
    expect(bytes + next).toBeGreaterThan(RESUME_BYTES);
  });
});

describe('an address cursor', () => {
  it('resumes from its one point (or the caller’s), never a map', () => {
    const c = new Cursor('s/a');
    expect(c.nextSince()).toBeUndefined();
    c.admit(at('s/a', 3));
    expect(c.nextSince()).toEqual({ epoch: 7, seq: 3 });
    expect(new Cursor('s/a', { epoch: 2, seq: 9 }).nextSince()).toEqual({ epoch: 2, seq: 9 });
  });
});
