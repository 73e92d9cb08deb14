import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import { rejected, settled, track } from '../helpers/outcome.js';
import { gate, newLog, workMachine } from './fixtures.js';

describe('per-address counters in stats()', () => {
  it('keeps the largest wait as the max when a shorter wait comes after it', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(newLog()) } } });
    const ga = gate();
    const a = track(rt.ask('w/1', { type: 'work', id: 'A', gate: ga.promise }));
    const b = track(rt.ask('w/1', { type: 'work', id: 'B' }));
    await clock.tick(100);
    ga.open();
    expect(await settled(a, clock)).toBe('done:A'); // waited 0 ms
    expect(await settled(b, clock)).toBe('done:B'); // waited 100 ms
    expect(await settled(rt.ask('w/1', { type: 'work', id: 'C' }), clock)).toBe('done:C'); // waited 0 ms
    const [addr] = rt.stats().addresses;
    expect(addr!.waitMs).toEqual({ sum: 100, max: 100, mean: 100 / 3 });
    await rt.shutdown({ drain: false });
  });

  it('counts an envelope rejected at its deadline for its address and its kind', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(newLog()) } } });
    track(rt.ask('w/1', { type: 'work', id: 'A', gate: new Promise<void>(() => {}) }));
    const late = track(rt.ask('w/1', { type: 'work', id: 'B' }, { timeoutMs: 50 }));
    await clock.tick(50);
    expect(await rejected(late, clock)).toMatchObject({ code: 'INTERLOCK_DEADLINE_EXCEEDED' });
    const s = rt.stats();
    expect(s.addresses.map(({ address, enqueued, delivered, rejected }) => ({ address, enqueued, delivered, rejected }))).toEqual([
      { address: 'w/1', enqueued: 2, delivered: 1, rejected: 1 },
    ]);
    expect(s.kinds.map(({ kind, rejected }) => ({ kind, rejected }))).toEqual([{ kind: 'w', rejected: 1 }]);
    await rt.shutdown({ drain: false });
  });
});
