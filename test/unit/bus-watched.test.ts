import { describe, expect, it, vi } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import { counterMachine as counter, record } from './fixtures.js';

describe('a subscriber to one address (Bus)', () => {
  it("builds records for that address only: another actor's snapshots do not run its kind's view", async () => {
    const clock = new SimulatedClock();
    const viewed: number[] = [];
    const view = vi.fn((c: Record<string, any>) => {
      viewed.push(c.n as number);
      return { n: c.n as number };
    });
    const rt = createRuntime({ clock, kinds: { c: { machine: counter, view } } });
    rt.tell('c/1', { type: 'inc' });
    rt.tell('c/2', { type: 'inc' });
    await clock.tick(0);
    const one = record(rt.events('c/1'));
    rt.tell('c/2', { type: 'inc' }); // c/2 at n = 2: nobody watches it
    rt.tell('c/1', { type: 'inc' }); // c/1 at n = 2
    rt.tell('c/1', { type: 'inc' }); // c/1 at n = 3
    await clock.tick(0);
    expect(viewed).toEqual([2, 3]);
    expect(one.of('snapshot').map((r) => [r.address, r.data])).toEqual([
      ['c/1', { value: {}, status: 'active', context: { n: 2 } }],
      ['c/1', { value: {}, status: 'active', context: { n: 3 } }],
    ]);
    one.stop();
    await rt.shutdown();
  });
});
