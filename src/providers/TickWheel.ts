/**
 * One clock timer per instant for everything that sleeps on a clock until the same
 * instant: simulated() streams ask it for their next token's slot instead of scheduling a
 * timer each. At 1,000 sessions of 50 tokens/s on the system clock that is one timer per
 * millisecond (each waking every stream due then) instead of 50,000 timers a second, each
 * with its own Timeout object, closure and microtask drain.
 *
 * Order is the clock's: slots fire in time order (the clock orders their timers), and the
 * sleepers of one slot wake in the order they went to sleep, which is the order their own
 * timers would have fired in on a {@link SimulatedClock} (same instant: creation order).
 * Cancelling the last sleeper of a slot clears its timer, so an idle wheel holds nothing.
 * @internal
 */
import type { Clock } from '../clock.js';

/** What sleeps on the wheel. `slot` and `slotIndex` belong to the wheel (it finds the sleeper by them in O(1)). */
export interface Sleeper {
  /** Called once when the instant comes (must not throw: it shares its timer with other sleepers). */
  wake(): void;
  slot: Slot | undefined;
  slotIndex: number;
}

/** The sleepers due at one instant, behind one clock timer. */
export class Slot {
  handle: unknown = undefined;
  readonly sleepers: (Sleeper | undefined)[] = [];
  live = 0;
  constructor(readonly at: number) {}
}

export class TickWheel {
  private readonly slots = new Map<number, Slot>();

  constructor(private readonly clock: Clock) {}

  /** Wakes `sleeper` `ms` from now on the clock. It must not be asleep already. */
  sleep(sleeper: Sleeper, ms: number): void {
    const at = this.clock.now() + ms;
    let slot = this.slots.get(at);
    if (slot === undefined) {
      const s = new Slot(at);
      s.handle = this.clock.setTimeout(() => this.fire(s), ms);
      this.slots.set(at, s);
      slot = s;
    }
    sleeper.slot = slot;
    sleeper.slotIndex = slot.sleepers.length;
    slot.sleepers.push(sleeper);
    slot.live++;
  }

  /** Takes `sleeper` off the wheel (no-op if it is not asleep); the last one out clears the slot's timer. */
  cancel(sleeper: Sleeper): void {
    const slot = sleeper.slot;
    if (slot === undefined) return;
    sleeper.slot = undefined;
    slot.sleepers[sleeper.slotIndex] = undefined;
    if (--slot.live === 0 && this.slots.get(slot.at) === slot) {
      this.slots.delete(slot.at);
      this.clock.clearTimeout(slot.handle);
    }
  }

  /** Timers this wheel holds (one per instant something sleeps until). */
  get size(): number {
    return this.slots.size;
  }

  private fire(slot: Slot): void {
    // The map holds this very slot: a slot leaves it only here or in cancel(), which clears
    // its timer, and sleep() adds a slot only where none is.
    this.slots.delete(slot.at);
    const sleepers = slot.sleepers;
    // Sleepers that go back to sleep while this runs land in a later slot (ms > 0).
    // Stryker disable next-line EqualityOperator: sleepers[length] is undefined, which the loop skips
    for (let i = 0; i < sleepers.length; i++) {
      const s = sleepers[i];
      if (s === undefined) continue;
      sleepers[i] = undefined;
      s.slot = undefined;
      // Stryker disable next-line UpdateOperator: once fire() took the slot out of the map, `live` is read only by cancel(), whose `slots.get(at) === slot` is then false
      slot.live--;
      s.wake();
    }
  }
}

const wheels = new WeakMap<Clock, TickWheel>();

/** The wheel shared by everything that sleeps on `clock`. */
export function tickWheel(clock: Clock): TickWheel {
  let wheel = wheels.get(clock);
  if (wheel === undefined) {
    wheel = new TickWheel(clock);
    wheels.set(clock, wheel);
  }
  return wheel;
}
