/**
 * Pins the XState internals Interlock reads, so an XState upgrade that changes them fails
 * here by name instead of silently changing the runtime's behaviour.
 *
 * `Activation.isQuiet()` reads `actor.system.getSnapshot()._scheduledEvents` (not public
 * API) to tell whether an actor still has delayed events pending (`after`, delayed
 * `raise`/`sendTo`) before passivating it. A missing or reshaped record would read as
 * "nothing scheduled": the actor would be passivated and its pending timers lost. The
 * behaviour through the runtime is covered in lifecycle.test.ts ('passivation and delayed
 * transitions'); this file checks the internal itself, on plain XState actors.
 */
import { cancel, createActor, raise, setup, type AnyActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/index.js';

/** Exactly what Activation.isQuiet() reads, without its fallbacks. */
function scheduledEvents(actor: AnyActor): Record<string, { event: { type: string }; delay: number }> {
  const system = actor.system as unknown as { getSnapshot?: () => Record<string, unknown> };
  expect(typeof system.getSnapshot, 'actor.system.getSnapshot is gone').toBe('function');
  const snapshot = system.getSnapshot!();
  expect(snapshot, 'actor.system.getSnapshot() no longer has _scheduledEvents').toHaveProperty('_scheduledEvents');
  const scheduled = snapshot._scheduledEvents;
  expect(scheduled, '_scheduledEvents is no longer a plain object keyed by schedule id').toBeTypeOf('object');
  expect(Array.isArray(scheduled) || scheduled instanceof Map || scheduled === null).toBe(false);
  return scheduled as Record<string, { event: { type: string }; delay: number }>;
}

const machine = setup({
  types: {} as { events: { type: 'arm' } | { type: 'ping' } | { type: 'unping' } | { type: 'pong' } },
}).createMachine({
  id: 'm',
  initial: 'idle',
  states: {
    idle: {
      on: {
        arm: 'armed',
        ping: { actions: raise({ type: 'pong' }, { delay: 500, id: 'pong' }) },
        unping: { actions: cancel('pong') },
      },
    },
    armed: { after: { 1_000: 'fired' } },
    fired: {},
  },
});

describe('XState internals Interlock depends on', () => {
  it('system.getSnapshot()._scheduledEvents holds one entry per pending delayed transition, and none once it fired', async () => {
    const clock = new SimulatedClock();
    const actor = createActor(machine, { clock }).start();
    expect(Object.keys(scheduledEvents(actor))).toEqual([]);

    actor.send({ type: 'arm' });
    const pending = Object.values(scheduledEvents(actor));
    expect(pending.map((e) => [e.event.type, e.delay])).toEqual([['xstate.after.1000.m.armed', 1_000]]);

    await clock.tick(1_000);
    expect(actor.getSnapshot().value).toBe('fired');
    expect(Object.keys(scheduledEvents(actor))).toEqual([]);
    actor.stop();
  });

  it('system.getSnapshot()._scheduledEvents holds a delayed raise until it is cancelled', () => {
    const actor = createActor(machine, { clock: new SimulatedClock() }).start();
    actor.send({ type: 'ping' });
    expect(Object.values(scheduledEvents(actor)).map((e) => [e.event.type, e.delay])).toEqual([['pong', 500]]);
    actor.send({ type: 'unping' });
    expect(Object.keys(scheduledEvents(actor))).toEqual([]);
    actor.stop();
  });
});

describe('@xstate.microstep carries the transitions taken (read by src/inspect/tap.ts)', () => {
  it('lists each transition with its source node, target nodes and event type, eventless ones included', () => {
    const m = setup({}).createMachine({
      id: 'm',
      initial: 'a',
      states: { a: { on: { go: 'b' } }, b: { always: 'c' }, c: {} },
    });
    const actor = createActor(m);
    const seen: { source: string; targets: string[]; event: string }[][] = [];
    actor.system.inspect((ev) => {
      if (ev.type !== '@xstate.microstep') return;
      const taken = (ev as unknown as { _transitions?: { source: { id: string }; target?: { id: string }[]; eventType: string }[] })._transitions;
      expect(Array.isArray(taken), '@xstate.microstep no longer has a _transitions array').toBe(true);
      seen.push(taken!.map((t) => ({ source: t.source.id, targets: (t.target ?? []).map((n) => n.id), event: t.eventType })));
    });
    actor.start();
    actor.send({ type: 'go' });
    expect(seen).toEqual([[{ source: 'm.a', targets: ['m.b'], event: 'go' }], [{ source: 'm.b', targets: ['m.c'], event: '' }]]);
    actor.stop();
  });
});
