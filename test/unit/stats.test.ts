import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, LATENCY_BUCKETS_MS, SimulatedClock } from '../../src/index.js';
import { Histogram } from '../../src/runtime/stats.js';
import { peek, settled, track } from '../helpers/outcome.js';
import { counterMachine, gate, newLog, workMachine } from './fixtures.js';

describe('latency histogram', () => {
  it('counts a value equal to a bucket bound in that bucket, and one just above in the next', () => {
    const h = new Histogram();
    for (const ms of [0, 1, 1.5, 2, 100, 100.5, 60_000, 60_001]) h.observe(ms);
    const counts = h.toJSON().counts;
    const at = (bound: number) => counts[LATENCY_BUCKETS_MS.indexOf(bound as (typeof LATENCY_BUCKETS_MS)[number])];
    expect(at(1)).toBe(2); // 0 and 1
    expect(at(2)).toBe(2); // 1.5 and 2
    expect(at(100)).toBe(1);
    expect(at(250)).toBe(1); // 100.5
    expect(at(60_000)).toBe(1);
    expect(counts.at(-1)).toBe(1); // +Inf: 60,001
    expect(counts.reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('reports bounds, one more count than bounds, sum, count and max', () => {
    const h = new Histogram();
    h.observe(3);
    h.observe(40);
    h.observe(7);
    expect(h.toJSON()).toEqual({
      buckets: [...LATENCY_BUCKETS_MS],
      counts: [0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      sum: 50,
      count: 3,
      max: 40,
    });
  });

  it('fixes the bucket bounds (a dashboard depends on them)', () => {
    expect([...LATENCY_BUCKETS_MS]).toEqual([1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000]);
  });
});

describe('runtime stats', () => {
  it('sums postponed, depth, in-flight and refused per kind over its addresses, apart from other kinds', async () => {
    const log = newLog();
    const rt = createRuntime({
      kinds: { w: { machine: workMachine(log), mailbox: { capacity: 2 } }, counter: { machine: counterMachine } },
    });
    const never = new Promise<void>(() => {});
    for (const address of ['w/1', 'w/2']) {
      track(rt.ask(address, { type: 'work', id: `${address}:A`, gate: never }));
      await flushMicrotasks(); // A runs, so it is not in the mailbox
      track(rt.ask(address, { type: 'work', id: `${address}:B` }));
    }
    track(rt.ask('w/1', { type: 'work', id: 'w/1:C' }));
    expect(() => rt.tell('w/1', { type: 'work', id: 'w/1:D' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_MAILBOX_FULL' }));
    rt.tell('counter/x', { type: 'inc' });
    await flushMicrotasks();
    const s = rt.stats();
    expect(s.kinds.map(({ kind, active, depth, postponed, inFlight, refused, enqueued, delivered }) => ({ kind, active, depth, postponed, inFlight, refused, enqueued, delivered }))).toEqual([
      { kind: 'w', active: 2, depth: 3, postponed: 3, inFlight: 2, refused: 1, enqueued: 5, delivered: 2 },
      { kind: 'counter', active: 1, depth: 0, postponed: 0, inFlight: 0, refused: 0, enqueued: 1, delivered: 1 },
    ]);
    expect(s.addresses.map(({ address, postponed, refused }) => ({ address, postponed, refused }))).toEqual([
      { address: 'w/1', postponed: 2, refused: 1 },
      { address: 'w/2', postponed: 1, refused: 0 },
      { address: 'counter/x', postponed: 0, refused: 0 },
    ]);
    expect(rt.stats({ addresses: false }).addresses).toEqual([]);
    expect(rt.stats({ address: 'w/2' }).addresses.map((a) => a.address)).toEqual(['w/2']);
    await rt.shutdown({ drain: false });
  });

  it('averages the wait over delivered envelopes only while others still wait', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const ga = gate();
    const gb = gate();
    const a = track(rt.ask('w/1', { type: 'work', id: 'A', gate: ga.promise }));
    const b = track(rt.ask('w/1', { type: 'work', id: 'B', gate: gb.promise }));
    track(rt.ask('w/1', { type: 'work', id: 'C', gate: new Promise<void>(() => {}) }));
    await clock.tick(100);
    ga.open();
    expect(await settled(a)).toBe('done:A'); // A waited 0 ms; B starts now, after 100 ms
    await clock.tick(30);
    expect(peek(b)).toEqual({ status: 'pending' });
    const [addr] = rt.stats().addresses;
    expect(addr).toMatchObject({ enqueued: 3, delivered: 2, replied: 1, depth: 1, postponed: 1, inFlight: 1 });
    expect(addr!.waitMs).toEqual({ sum: 100, max: 100, mean: 50 });
    expect(addr!.processingMs).toEqual({ sum: 100, max: 100, mean: 100 });
    gb.open();
    expect(await settled(b)).toBe('done:B');
    expect(rt.stats().addresses[0]!.processingMs).toEqual({ sum: 130, max: 100, mean: 65 });
    expect(rt.stats().kinds[0]!.waitMs).toMatchObject({ count: 3, sum: 230, max: 130 });
    await rt.shutdown({ drain: false });
  });
});
