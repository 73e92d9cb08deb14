/**
 * The running turn in the mailbox view: when it started and for how long it has run, on the
 * runtime's clock, for a turn that started after time 0.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import { gate, newLog, workMachine } from '../unit/fixtures.js';

describe('runtime.mailbox running turn', () => {
  it('reports startedAt as the delivery time and runningMs as the time since', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(newLog()) } } });
    clock.advance(40);
    const g = gate();
    const answer = rt.ask('w/1', { type: 'work', id: 'one', gate: g.promise });
    await clock.tick(0);
    clock.advance(60);
    expect(rt.mailbox('w/1')!.running.map((e) => [e.enqueuedAt, e.startedAt, e.runningMs, e.ageMs])).toEqual([[40, 40, 60, 60]]);
    g.open();
    await clock.runAll();
    await expect(answer).resolves.toBe('done:one');
    await rt.shutdown();
  });
});
