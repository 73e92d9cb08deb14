/**
 * The TickWheel simulated() sleeps on, driven directly with sleepers of the test's own:
 * one clock timer per instant, fired slots leave the wheel, and a sleeper that acts on the
 * wheel while it is woken (the contract allows it) cannot take another instant's slot off.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { simulated } from '../../src/providers/simulated.js';
import { TickWheel, tickWheel, type Sleeper, type Slot } from '../../src/providers/TickWheel.js';

class Probe implements Sleeper {
  slot: Slot | undefined = undefined;
  slotIndex = 0;
  constructor(
    private readonly log: string[],
    private readonly name: string,
    private readonly onWake: () => void = () => undefined,
  ) {}
  wake(): void {
    this.log.push(this.name);
    this.onWake();
  }
}

describe('TickWheel', () => {
  it('holds one timer per instant, and none once every slot has fired', async () => {
    const clock = new SimulatedClock();
    const wheel = new TickWheel(clock);
    const log: string[] = [];

    wheel.sleep(new Probe(log, 'a'), 10);
    wheel.sleep(new Probe(log, 'b'), 10);
    wheel.sleep(new Probe(log, 'c'), 20);
    expect([wheel.size, clock.pending()]).toEqual([2, 2]);

    await clock.tick(10);
    expect(log).toEqual(['a', 'b']);
    expect([wheel.size, clock.pending()]).toEqual([1, 1]);
    await clock.tick(10);
    expect(log).toEqual(['a', 'b', 'c']);
    expect([wheel.size, clock.pending()]).toEqual([0, 0]);
  });

  it('a sleeper woken at an instant that puts another to sleep for 0 ms, then cancels the last sleeper of its own fired slot, leaves the new slot on the wheel', async () => {
    const clock = new SimulatedClock();
    const wheel = new TickWheel(clock);
    const log: string[] = [];
    const late = new Probe(log, 'late');
    const cancelled = new Probe(log, 'cancelled');
    const slotsAfterCancel: number[] = [];
    const first = new Probe(log, 'first', () => {
      wheel.sleep(late, 0); // due at this same instant: a new slot, since this one has fired
      wheel.cancel(cancelled); // the last sleeper left in the fired slot
      slotsAfterCancel.push(wheel.size);
    });
    wheel.sleep(first, 10);
    wheel.sleep(cancelled, 10);

    await clock.tick(10);

    expect(slotsAfterCancel).toEqual([1]);
    expect(log).toEqual(['first', 'late']);
    expect([wheel.size, clock.pending()]).toEqual([0, 0]);
  });

  it('is shared by every simulated() provider on one clock: their streams due at one instant hold one timer', async () => {
    const clock = new SimulatedClock();
    expect(tickWheel(clock)).toBe(tickWheel(clock));
    expect(tickWheel(clock)).not.toBe(tickWheel(new SimulatedClock()));
    const a = simulated({ clock, text: 'one two' }).stream({ messages: [] }, new AbortController().signal)[Symbol.asyncIterator]();
    const b = simulated({ clock, text: 'three four' }).stream({ messages: [] }, new AbortController().signal)[Symbol.asyncIterator]();

    const reads = [a.next(), b.next()];

    expect(clock.pending()).toBe(1);
    await clock.tick(20);
    expect((await Promise.all(reads)).map((r) => r.value)).toEqual([
      { type: 'delta', text: 'one' },
      { type: 'delta', text: 'three' },
    ]);
    await a.return?.();
    await b.return?.();
    expect(clock.pending()).toBe(0);
  });
});
