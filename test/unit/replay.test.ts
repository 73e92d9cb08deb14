import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/bus/Bus.js';
import { Channel } from '../../src/bus/Channel.js';
import type { BusRecord } from '../../src/bus/records.js';
import { createRuntime, flushMicrotasks, SimulatedClock } from '../../src/index.js';
import { counterMachine, record } from './fixtures.js';

/** A channel whose sink says "received" for the records `seen(seq)` picks (records are always built: someone watches). */
function channel(capacity: number, seen: (seq: number) => boolean = () => true) {
  const clock = new SimulatedClock();
  return new Channel('a/1', 1, capacity, (r) => seen(r.seq), clock, () => true);
}

function publish(ch: Channel, n: number): void {
  for (let i = 0; i < n; i++) ch.publish('snapshot', { i });
}

const seqs = (records: readonly BusRecord[] | undefined) => records?.map((r) => r.seq);

describe('replay ring (Channel)', () => {
  it('reads a ring that wrapped several times in age order, not storage order', () => {
    const ch = channel(4);
    publish(ch, 11); // 11 records through 4 slots: wrapped twice, oldest slot is not slot 0
    expect(ch.oldestSeq).toBe(8);
    expect(seqs(ch.since(7))).toEqual([8, 9, 10, 11]);
    expect(seqs(ch.since(9))).toEqual([10, 11]);
    expect(seqs(ch.since(10))).toEqual([11]);
  });

  it('serves a resume at the oldest buffered seq - 1 and answers one further back as a gap', () => {
    const ch = channel(4);
    publish(ch, 10); // buffered: 7..10
    expect(ch.oldestSeq).toBe(7);
    expect(seqs(ch.since(6))).toEqual([7, 8, 9, 10]);
    expect(ch.since(5)).toBeUndefined();
    expect(ch.since(0)).toBeUndefined();
  });

  it('answers a resume at the newest seq (or later) with nothing to replay, not a gap', () => {
    const ch = channel(4);
    publish(ch, 6);
    expect(ch.since(6)).toEqual([]);
    expect(ch.since(9)).toEqual([]);
  });

  it('serves every record from seq 1 while the ring has not filled yet', () => {
    const ch = channel(4);
    publish(ch, 3);
    expect(seqs(ch.since(0))).toEqual([1, 2, 3]);
    expect(ch.oldestSeq).toBe(1);
  });

  it('starts the ring with the first received record, then buffers records nobody received', () => {
    // Records 1-2 went nowhere; 3 was received; 4-6 went nowhere again (the subscriber left).
    const ch = channel(8, (seq) => seq === 3);
    publish(ch, 6);
    expect(ch.oldestSeq).toBe(3);
    expect(seqs(ch.since(3))).toEqual([4, 5, 6]);
    expect(ch.since(1)).toBeUndefined();
  });

  it('keeps nothing when the kind asks for no replay', () => {
    const ch = channel(0);
    publish(ch, 3);
    expect(ch.since(2)).toBeUndefined();
    expect(ch.since(3)).toEqual([]);
  });
});

describe('resume (Bus.events)', () => {
  it('answers a gap with the current epoch, seq and oldest buffered seq', () => {
    const clock = new SimulatedClock(500);
    const bus = new Bus(clock);
    const ch = bus.channel('a/1', 3, 2);
    const all = bus.all$.subscribe();
    publish(ch, 5); // buffered: 4, 5
    const got: BusRecord[] = [];
    bus.events('a/1', () => ch, { epoch: 3, seq: 2 }).subscribe((r) => got.push(r)).unsubscribe();
    expect(got).toEqual([
      { address: 'a/1', epoch: 3, seq: 5, ts: 500, type: 'replay.gap', data: { requested: { epoch: 3, seq: 2 }, oldestSeq: 4 } },
    ]);
    all.unsubscribe();
  });

  it('answers a resume point of another epoch with a gap even when its seq is buffered in this epoch', () => {
    const bus = new Bus(new SimulatedClock());
    const ch = bus.channel('a/1', 2, 8);
    const all = bus.all$.subscribe();
    publish(ch, 5);
    const got: BusRecord[] = [];
    bus.events('a/1', () => ch, { epoch: 1, seq: 3 }).subscribe((r) => got.push(r)).unsubscribe();
    expect(got.map((r) => [r.type, r.epoch, r.seq])).toEqual([['replay.gap', 2, 5]]);
    all.unsubscribe();
  });

  it('answers a gap for an address whose ring never started (nobody watched it) with the next seq as the oldest', () => {
    const bus = new Bus(new SimulatedClock());
    const ch = bus.channel('a/1', 1, 8);
    publish(ch, 3); // nobody watches: only counted, no ring
    const got: BusRecord[] = [];
    bus.events('a/1', () => ch, { epoch: 1, seq: 1 }).subscribe((r) => got.push(r)).unsubscribe();
    expect(got.map((r) => [r.type, r.epoch, r.seq, r.data])).toEqual([['replay.gap', 1, 3, { requested: { epoch: 1, seq: 1 }, oldestSeq: 4 }]]);
  });

  it('answers a resume of an address with no activation with a gap at epoch 0', () => {
    const bus = new Bus(new SimulatedClock());
    const got: BusRecord[] = [];
    bus.events('a/1', () => undefined, { epoch: 1, seq: 3 }).subscribe((r) => got.push(r)).unsubscribe();
    expect(got.map((r) => [r.type, r.epoch, r.seq, r.data])).toEqual([
      ['replay.gap', 0, 0, { requested: { epoch: 1, seq: 3 }, oldestSeq: 0 }],
    ]);
  });
});

describe('resume through the runtime', () => {
  it('replays what happened while a subscriber was away, after a small ring wrapped several times', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { counter: { machine: counterMachine, replay: 6 } } });
    const ref = rt.ref('counter/a');
    const first: BusRecord[] = [];
    const sub = ref.events().subscribe((r) => first.push(r));
    // Each tell makes mailbox.enqueued, mailbox.delivered and snapshot: 30+ records through 6 slots.
    for (let i = 0; i < 10; i++) ref.tell({ type: 'inc' });
    await flushMicrotasks();
    sub.unsubscribe();
    const last = first.at(-1)!;
    expect(last.seq).toBeGreaterThan(30);

    // Nobody listens now, but the ring already started: these records must be buffered.
    ref.tell({ type: 'inc', tag: 'away' });
    await flushMicrotasks();

    const resumed: BusRecord[] = [];
    const again = ref.events({ since: { epoch: last.epoch, seq: last.seq } }).subscribe((r) => resumed.push(r));
    expect(resumed.map((r) => [r.seq, r.type])).toEqual([
      [last.seq + 1, 'mailbox.enqueued'],
      [last.seq + 2, 'mailbox.delivered'],
      [last.seq + 3, 'snapshot'],
    ]);
    // Then live records follow, gapless.
    ref.tell({ type: 'inc' });
    await flushMicrotasks();
    expect(resumed.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6].map((i) => last.seq + i));
    again.unsubscribe();
    await rt.shutdown();
  });

  it('resumes deep inside a wrapped ring: exactly the records after the resume point, oldest first', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine, replay: 5 } } });
    const bus = record(rt.events$);
    for (let i = 0; i < 12; i++) rt.tell('counter/a', { type: 'inc' });
    await flushMicrotasks();
    const all = bus.records.filter((r) => r.address === 'counter/a');
    const newest = all.at(-1)!.seq;
    const { epoch } = all[0]!;
    const at = (since: number) => {
      const got: BusRecord[] = [];
      rt.events('counter/a', { since: { epoch, seq: since } }).subscribe((r) => got.push(r)).unsubscribe();
      return got;
    };
    expect(at(newest - 3)).toEqual(all.slice(-3));
    // The oldest buffered seq is newest - 4: resuming one before it is served in full ...
    expect(at(newest - 5)).toEqual(all.slice(-5));
    // ... and one further back is a gap.
    expect(at(newest - 6).map((r) => r.type)).toEqual(['replay.gap']);
    await rt.shutdown();
  });
});
