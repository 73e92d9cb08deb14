/**
 * What a wire subscriber receives (src/transport/recordStreams.ts), read directly from its
 * observables on a simulated clock: the snapshot that opens a subscription, the
 * `recovered: false` snapshot of a resume point that is gone (never coalesced), one
 * encoding per broadcast shared by every subscriber, and completion with the runtime.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { addressStream, currentSnapshot, patternStream, type WireItem } from '../../src/transport/recordStreams.js';
import { counterMachine } from './fixtures.js';

const BASE = 5_000_000;

function counters() {
  const clock = new SimulatedClock();
  const rt = createRuntime({ clock, kinds: { c: { machine: counterMachine } } }) as unknown as Runtime;
  return { clock, rt };
}

const parsed = (it: WireItem) => JSON.parse(it.payload) as Record<string, unknown>;

describe('currentSnapshot', () => {
  it('is nothing for an actor that is not live, unless recovered: then an empty snapshot of epoch 0 that is never coalesced', () => {
    const { rt } = counters();
    expect(currentSnapshot(rt, 'c/none', BASE, 42, false)).toBeUndefined();
    const gone = currentSnapshot(rt, 'c/none', BASE, 42, true)!;
    expect({ ...gone, payload: parsed(gone) }).toEqual({
      address: 'c/none',
      epoch: 0,
      seq: 0,
      snapshot: false,
      payload: { address: 'c/none', epoch: 0, seq: 0, ts: 42, type: 'snapshot', data: null, recovered: false },
    });
  });

  it("of a live actor, carries its latest epoch and seq; coalescable unless it says 'recovered: false'", async () => {
    const { clock, rt } = counters();
    rt.tell('c/1', { type: 'inc' });
    await clock.runAll();
    const { seq } = rt.view('c/1')!;
    const fresh = currentSnapshot(rt, 'c/1', BASE, 7, false)!;
    const recovered = currentSnapshot(rt, 'c/1', BASE, 7, true)!;
    expect([fresh.epoch, fresh.seq, fresh.snapshot, recovered.snapshot]).toEqual([BASE + 1, seq, true, false]);
    expect(parsed(fresh)).toEqual({ address: 'c/1', epoch: BASE + 1, seq, ts: 7, type: 'snapshot', data: { value: {}, status: 'active', context: { n: 1, seen: [''] } } });
    expect(parsed(recovered)).toMatchObject({ seq, recovered: false });
  });
});

describe('addressStream and patternStream', () => {
  it('encode a broadcast record once: every subscriber gets the same item', async () => {
    const { clock, rt } = counters();
    const a: WireItem[] = [];
    const b: WireItem[] = [];
    const p: WireItem[] = [];
    const subs = [
      addressStream(rt, 'c/1', undefined, BASE, () => 0).subscribe((x) => a.push(x)),
      addressStream(rt, 'c/1', undefined, BASE, () => 0).subscribe((x) => b.push(x)),
      patternStream(rt, (address) => address.startsWith('c/'), undefined, BASE, () => 0).subscribe((x) => p.push(x)),
    ];
    rt.tell('c/1', { type: 'inc' });
    await clock.runAll();
    expect(a.length).toBeGreaterThan(0);
    expect(a.map((x, i) => x === b[i] && x === p[i])).toEqual(a.map(() => true));
    for (const s of subs) s.unsubscribe();
  });

  it('complete when the runtime shuts down', async () => {
    const { clock, rt } = counters();
    const ended: string[] = [];
    addressStream(rt, 'c/1', undefined, BASE, () => 0).subscribe({ complete: () => ended.push('address') });
    addressStream(rt, 'c/1', { epoch: BASE + 1, seq: 0 }, BASE, () => 0).subscribe({ complete: () => ended.push('resumed') });
    patternStream(rt, () => true, undefined, BASE, () => 0).subscribe({ complete: () => ended.push('pattern') });
    rt.tell('c/1', { type: 'inc' });
    await clock.runAll();
    const done = rt.shutdown({ drain: false });
    await clock.runAll();
    await done;
    expect(ended.sort()).toEqual(['address', 'pattern', 'resumed']);
  });

  it('refuse a malformed address when subscribed, as an error of the stream', () => {
    const { rt } = counters();
    const errors: unknown[] = [];
    const stream = addressStream(rt, 'no-slash', undefined, BASE, () => 0);
    stream.subscribe({ error: (e) => errors.push(e) });
    addressStream(rt, 'no-slash', { epoch: 1, seq: 0 }, BASE, () => 0).subscribe({ error: (e) => errors.push(e) });
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['INTERLOCK_INVALID_ADDRESS', 'INTERLOCK_INVALID_ADDRESS']);
  });
});
