/**
 * What supervision tells the outside: per-kind counters (restarts, stalls, failures) that
 * /metrics exports, and the payloads of the lifecycle records a dashboard or the
 * inspector reads. Each number is asserted exactly after a scripted sequence.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import { newLog, record, workMachine } from './fixtures.js';
import { rejected, settled, track } from '../helpers/outcome.js';

const seeded = () => 0.5;

describe('supervision records and counters', () => {
  it('counts restarts and failures per kind and says why in lifecycle.restarted and lifecycle.failed', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({
      clock,
      random: seeded,
      kinds: {
        w: { machine: workMachine(log), supervision: { maxRestarts: 2, windowMs: 60_000, backoff: { initialMs: 100, factor: 3 } } },
        other: { machine: workMachine(newLog()) },
      },
    });
    const bus = record(rt.events$);
    for (const id of ['A', 'B', 'C']) {
      expect(await rejected(track(rt.ask('w/1', { type: 'work', id, throwInAction: true })), clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
      await clock.tick(1_000);
    }
    expect(await settled(rt.ask('other/1', { type: 'work', id: 'X' }))).toBe('done:X');
    const kinds = Object.fromEntries(rt.stats().kinds.map((k) => [k.kind, k]));
    expect(kinds.w).toMatchObject({ restarts: 2, stalls: 0, failures: 1 });
    expect(kinds.other).toMatchObject({ restarts: 0, stalls: 0, failures: 0 });
    expect(bus.of('lifecycle.restarted').map((r) => r.data)).toEqual([
      { attempt: 1, delayMs: 100 },
      { attempt: 2, delayMs: 300 },
    ]);
    const failed = bus.of('lifecycle.failed').map((r) => r.data as { error: string });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toMatch(/w\/1/);
    expect(failed[0]!.error).toMatch(/action threw on C/);
    await rt.shutdown();
  });

  it('counts a stall apart from a crash', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'go' } } }).createMachine({
      initial: 'idle',
      states: { idle: { on: { go: 'stuck' } }, stuck: { meta: { stallAfterMs: 1_000 } } },
    });
    const rt = createRuntime({ clock, random: seeded, kinds: { s: { machine, supervision: { backoff: { initialMs: 10 } } } } });
    const bus = record(rt.events$);
    rt.tell('s/1', { type: 'go' });
    await clock.tick(1_000);
    await clock.tick(10);
    expect(rt.stats().kinds[0]).toMatchObject({ restarts: 1, stalls: 1, failures: 0 });
    expect(bus.of('lifecycle.stalled').map((r) => r.data)).toEqual([{ error: expect.stringMatching(/stuck/), state: 'stuck', stallAfterMs: 1_000 }]);
    await rt.shutdown();
  });
});
