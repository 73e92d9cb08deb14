/**
 * The page's history reconstruction (inspector/src/history.ts): the actor as it was right
 * after any buffered record, from published records only, and a record buffer that keeps
 * order and drops duplicates whatever order replay and live records arrive in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorHistory } from '../../inspector/src/history.js';
import type { Rec } from '../../inspector/src/records.js';

const A = 'session/a';
let ts = 1_000;
const rec = (seq: number, type: string, data: unknown, epoch = 1): Rec => ({ address: A, epoch, seq, type, data, ts: (ts += 10) });

function twoPrompts(): Rec[] {
  ts = 1_000;
  return [
    rec(1, 'lifecycle.activated', { restored: false }),
    rec(2, 'snapshot', { value: 'idle', status: 'active', context: { gen: 0 } }),
    rec(3, 'mailbox.enqueued', { id: '1', type: 'prompt', lane: 2, depth: 1 }),
    rec(4, 'mailbox.delivered', { id: '1', type: 'prompt', waitMs: 1 }),
    rec(5, 'snapshot', { value: 'streaming', status: 'active', context: { gen: 1 } }),
    rec(6, 'mailbox.enqueued', { id: '2', type: 'prompt', lane: 2, depth: 1 }),
    rec(7, 'mailbox.delivered', { id: '2', type: 'prompt', waitMs: 0 }),
    rec(8, 'snapshot', { value: 'cancelling', status: 'active', context: { gen: 1, pending: '2' } }),
    rec(9, 'emitted', { event: { type: 'stream.end', gen: 1, reason: 'interrupted' }, requestId: '1' }),
    rec(10, 'snapshot', { value: 'streaming', status: 'active', context: { gen: 2 } }),
  ];
}

describe('ActorHistory', () => {
  it('shows the state, status and context view of the last snapshot at or before each record', () => {
    const h = new ActorHistory(A);
    for (const r of twoPrompts()) h.add(r);
    const states = h.records.map((_, i) => h.at(i).state ?? null);
    expect(states).toEqual([null, 'idle', 'idle', 'idle', 'streaming', 'streaming', 'streaming', 'cancelling', 'cancelling', 'streaming']);
    expect(h.at(7).context).toEqual({ gen: 1, pending: '2' });
    expect(h.at(7).snapshotSeq).toBe(8);
    expect(h.at().state).toBe('streaming');
  });

  it('shows an envelope in the mailbox from its enqueue until its delivery, with lane and age base', () => {
    const h = new ActorHistory(A);
    for (const r of twoPrompts()) h.add(r);
    expect(h.at(1).mailbox).toEqual([]);
    expect(h.at(2).mailbox).toEqual([{ id: '1', type: 'prompt', lane: 'normal', enqueuedAt: h.records[2]!.ts, deadline: undefined, postponed: false }]);
    expect(h.at(3).mailbox).toEqual([]);
    expect(h.at(5).mailbox.map((e) => e.id)).toEqual(['2']);
    expect(h.at(6).mailbox).toEqual([]);
  });

  it('marks a postponed envelope, and removes rejected and dropped ones', () => {
    const h = new ActorHistory(A);
    h.add(rec(1, 'mailbox.enqueued', { id: 'a', type: 'work', lane: 2 }));
    h.add(rec(2, 'mailbox.enqueued', { id: 'b', type: 'cancel', lane: 0 }));
    h.add(rec(3, 'mailbox.postponed', { id: 'a', type: 'work', postponed: 1 }));
    h.add(rec(4, 'mailbox.rejected', { id: 'a', type: 'work', code: 'INTERLOCK_DEADLINE_EXCEEDED' }));
    h.add(rec(5, 'mailbox.dropped', { id: 'b', type: 'cancel', reason: 'turn-ended' }));
    expect(h.at(2).mailbox.map((e) => [e.id, e.lane, e.postponed])).toEqual([
      ['a', 'normal', true],
      ['b', 'control', false],
    ]);
    expect(h.at(3).mailbox.map((e) => e.id)).toEqual(['b']);
    expect(h.at(4).mailbox).toEqual([]);
  });

  it('knows envelopes enqueued before the buffer began: from their removal record, and from the server baseline', () => {
    const h = new ActorHistory(A);
    // Buffer starts at seq 20: 'old' was queued before and is delivered at 21; 'older' is still queued.
    h.add(rec(20, 'snapshot', { value: 'busy', status: 'active' }));
    h.add(rec(21, 'mailbox.delivered', { id: 'old', type: 'work' }));
    h.setMailboxBaseline({ epoch: 1, seq: 21, entries: [{ id: 'older', type: 'work', lane: 'low', enqueuedAt: 5, deadline: 900, postponed: true }] });
    expect(h.at(0).mailbox.map((e) => e.id).sort()).toEqual(['old', 'older']);
    expect(h.at(1).mailbox).toEqual([{ id: 'older', type: 'work', lane: 'low', enqueuedAt: 5, deadline: 900, postponed: true }]);
  });

  it('takes the deadline of an envelope from the server baseline when its records do not carry one', () => {
    const h = new ActorHistory(A);
    h.add(rec(1, 'mailbox.enqueued', { id: 'x', type: 'work', lane: 1 }));
    h.setMailboxBaseline({ epoch: 1, seq: 1, entries: [{ id: 'x', type: 'work', lane: 'high', enqueuedAt: 3, deadline: 99, postponed: false }] });
    expect(h.at(0).mailbox[0]).toMatchObject({ id: 'x', lane: 'high', deadline: 99 });
  });

  it('starts the mailbox afresh with a new activation epoch', () => {
    const h = new ActorHistory(A);
    h.add(rec(5, 'mailbox.enqueued', { id: 'a', type: 'work', lane: 2 }, 1));
    h.add(rec(1, 'lifecycle.activated', {}, 2));
    expect(h.at(0).mailbox.map((e) => e.id)).toEqual(['a']);
    expect(h.at(1).mailbox).toEqual([]);
  });

  it('keeps records in (epoch, seq) order without duplicates, whatever order replay and live records arrive in', () => {
    const seed = Date.now();
    console.log(`history order property: fast-check seed ${seed}`);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 40 })), { maxLength: 120 }), (pairs) => {
        const h = new ActorHistory(A, 30);
        for (const [epoch, seq] of pairs) h.add({ address: A, epoch, seq, type: 'emitted', data: {} });
        const keys = h.records.map((r) => r.epoch * 1_000 + r.seq);
        const expected = [...new Set(pairs.map(([e, s]) => e * 1_000 + s))].sort((a, b) => a - b);
        // Bounded: the newest 30 of those it kept (an old record arriving late may be dropped at once).
        expect(keys).toEqual([...keys].sort((a, b) => a - b));
        expect(new Set(keys).size).toBe(keys.length);
        expect(keys.length).toBeLessThanOrEqual(30);
        expect(keys.every((k) => expected.includes(k))).toBe(true);
        if (expected.length <= 30) expect(keys).toEqual(expected);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('ignores records of other addresses', () => {
    const h = new ActorHistory(A);
    expect(h.add({ address: 'session/b', epoch: 1, seq: 1, type: 'snapshot', data: { value: 'x' } })).toBe(false);
    expect(h.size).toBe(0);
  });
});

describe('ActorHistory with a server stand-in snapshot', () => {
  it("lets the replayed record with the stand-in's seq take its place, keeping the replayed states before it", () => {
    const h = new ActorHistory(A);
    // On subscribe: the current state, stamped with the latest record's seq (9).
    h.add(rec(9, 'snapshot', { value: 'cancelling', status: 'active' }));
    const replay = twoPrompts().slice(0, 9); // seqs 1–9, the 9th an emitted record
    for (const r of replay) h.add(r);
    expect(h.records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.records[8]!.type).toBe('emitted');
    expect(h.at(8).state).toBe('cancelling');
    // A snapshot at the same seq is the same record: the first one stays.
    expect(h.add(rec(9, 'snapshot', { value: 'other' }))).toBe(false);
  });
});
