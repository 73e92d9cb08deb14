import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/mailbox/envelope.js';
import { Mailbox } from '../../src/mailbox/Mailbox.js';

let seq = 0;
const env = (type: string, lane = 2, id = String(++seq)): Envelope => ({
  id,
  seq: ++seq,
  event: { type },
  lane,
  enqueuedAt: 0,
  deadline: Infinity,
  reply: undefined,
  state: 'queued',
  settled: false,
  deliveredAt: 0,
  timer: undefined,
  cancels: undefined,
  unlisten: undefined,
  prev: undefined,
  next: undefined,
  list: undefined,
});

describe('Mailbox', () => {
  it('dequeues by lane, then FIFO, and removes any envelope in place', () => {
    const m = new Mailbox(10);
    const [a, b, c, d, e] = [env('x', 2, 'a'), env('x', 3, 'b'), env('x', 1, 'c'), env('x', 2, 'd'), env('x', 0, 'e')];
    for (const x of [a, b, c, d, e]) m.enqueue(x);
    expect(m.remove(d)).toBe(true);
    expect(m.remove(d)).toBe(false);
    const out: string[] = [];
    for (let x = m.dequeue(); x; x = m.dequeue()) out.push(x.id);
    expect(out).toEqual(['e', 'c', 'a', 'b']);
    expect(m.depth).toBe(0);
  });

  it('keeps postponed envelopes per type and offers the oldest head of each type first', () => {
    const m = new Mailbox(10);
    const [p1, q1, p2] = [env('p'), env('q'), env('p')];
    m.postpone(p1);
    m.postpone(q1);
    m.postpone(p2);
    expect(m.hasPostponed('p')).toBe(true);
    expect(m.postponedHeads()).toEqual([p1, q1]);
    m.remove(p1);
    expect(m.postponedHeads()).toEqual([q1, p2]);
    m.remove(q1);
    expect(m.hasPostponed('q')).toBe(false);
    expect(m.postponed).toBe(1);
  });

  it('counts queued plus postponed against capacity, and takeAll empties both in age order', () => {
    const m = new Mailbox(3);
    const [a, b, c] = [env('a'), env('b'), env('c')];
    m.enqueue(a);
    m.postpone(b);
    expect(m.isFull).toBe(false);
    m.enqueue(c);
    expect(m.isFull).toBe(true);
    expect(m.takeAll()).toEqual([b, a, c]);
    expect(m.depth).toBe(0);
  });

  it('stays correct with 100,000 envelopes queued and removed from the middle', () => {
    const m = new Mailbox(200_000);
    const all = Array.from({ length: 100_000 }, (_, i) => env('x', 2, String(i)));
    for (const x of all) m.enqueue(x);
    for (let i = 1; i < all.length; i += 2) m.remove(all[i]!);
    let n = 0;
    for (let x = m.dequeue(); x; x = m.dequeue()) {
      expect(x.id).toBe(String(n));
      n += 2;
    }
    expect(n).toBe(100_000);
  });
  it('forgets a postponed type once its last envelope leaves, so cycling through event types cannot grow the mailbox', () => {
    const m = new Mailbox(10);
    const types = () => (m as unknown as { postponedByType?: Map<string, unknown> }).postponedByType?.size ?? 0;
    for (let i = 0; i < 1_000; i++) {
      const e = env(`t${i}`);
      m.enqueue(e);
      m.remove(e);
      const p = env(`t${i}`);
      m.postpone(p);
      expect(m.remove(p)).toBe(true);
    }
    expect(types()).toBe(0);
    expect(m.depth).toBe(0);
  });
});
