import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/bus/Bus.js';
import type { BusRecord } from '../../src/bus/records.js';
import { SimulatedClock } from '../../src/index.js';

const seqs = (records: readonly BusRecord[]) => records.map((r) => `${r.address}#${r.seq}`);

function setup() {
  const bus = new Bus(new SimulatedClock());
  const a = bus.channel('k/a', 1, 8);
  const b = bus.channel('k/b', 1, 8);
  const channels: Record<string, typeof a> = { 'k/a': a, 'k/b': b };
  const events = (address: string, since?: { epoch: number; seq: number }) => {
    const got: BusRecord[] = [];
    const sub = bus.events(address, () => channels[address], since).subscribe({ next: (r) => got.push(r), complete: () => got.push({ type: 'complete' } as never) });
    return { got, sub };
  };
  return { bus, a, b, events };
}

describe('bus', () => {
  it('keeps no ring for an address while nobody receives its records', () => {
    const { bus, a } = setup();
    for (let i = 0; i < 3; i++) a.publish('snapshot', i);
    const all: BusRecord[] = [];
    const sub = bus.all$.subscribe((r) => all.push(r));
    a.publish('snapshot', 3);
    sub.unsubscribe();
    expect(seqs(all)).toEqual(['k/a#4']);
    expect(a.oldestSeq).toBe(4);
    expect(a.since(0)).toBeUndefined();
    expect(a.since(3)!.map((r) => r.seq)).toEqual([4]);
  });

  it('starts no ring when a subscriber to the address left before any record', () => {
    const { a, events } = setup();
    events('k/a').sub.unsubscribe();
    for (let i = 0; i < 3; i++) a.publish('snapshot', i);
    expect(a.since(0)).toBeUndefined();
  });

  it('delivers an address only to its own subscribers, and to all$', () => {
    const { bus, a, b, events } = setup();
    const all: BusRecord[] = [];
    bus.all$.subscribe((r) => all.push(r));
    const onB = events('k/b');
    a.publish('snapshot', 'a1');
    b.publish('snapshot', 'b1');
    a.publish('snapshot', 'a2');
    expect(seqs(onB.got)).toEqual(['k/b#1']);
    expect(seqs(all)).toEqual(['k/a#1', 'k/b#1', 'k/a#2']);
  });

  it('keeps delivering to the other subscribers of an address when one of them leaves', () => {
    const { a, events } = setup();
    const first = events('k/a');
    const second = events('k/a');
    a.publish('snapshot', 1);
    first.sub.unsubscribe();
    a.publish('snapshot', 2);
    const third = events('k/a');
    a.publish('snapshot', 3);
    expect(seqs(first.got)).toEqual(['k/a#1']);
    expect(seqs(second.got)).toEqual(['k/a#1', 'k/a#2', 'k/a#3']);
    expect(seqs(third.got)).toEqual(['k/a#3']);
  });

  it('serves a resume and then the live records, with nothing twice and nothing missed', () => {
    const { a, events } = setup();
    const watcher = events('k/a');
    for (let i = 0; i < 3; i++) a.publish('snapshot', i);
    const resumed = events('k/a', { epoch: 1, seq: 1 });
    a.publish('snapshot', 3);
    expect(seqs(resumed.got)).toEqual(['k/a#2', 'k/a#3', 'k/a#4']);
    watcher.sub.unsubscribe();
  });

  it('completes every subscriber, of one address or of all, when the bus completes', () => {
    const { bus, events } = setup();
    let allDone = false;
    bus.all$.subscribe({ complete: () => (allDone = true) });
    const onA = events('k/a');
    bus.complete();
    expect(allDone).toBe(true);
    expect(onA.got.map((r) => r.type)).toEqual(['complete']);
  });
});
