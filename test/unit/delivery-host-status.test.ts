/**
 * What delivery does as its actor's life changes under it: a crash on an envelope ends the
 * envelope and the open turns with coded records; an actor its own action stops publishes
 * nothing after it stopped; a stopped actor refuses mail; a task outcome that is not an
 * event crashes the actor with a coded error instead of escaping as an exception.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, runTask, SimulatedClock, tellSelf } from '../../src/index.js';
import { rejected, settled, track } from '../helpers/outcome.js';
import { gate, record } from './fixtures.js';

/** `go` (an ask) waits on work; `boom` throws in its action (a crash); `note` is taken quietly. */
const fragile = setup({ types: {} as { events: { type: 'go' } | { type: 'boom' } | { type: 'note' } | { type: '@done' } } }).createMachine({
  on: {
    go: { actions: runTask(() => new Promise<never>(() => {}), { done: () => ({ type: '@done' }), error: () => ({ type: '@done' }) }) },
    boom: {
      actions: () => {
        throw new Error('boom');
      },
    },
    note: { actions: () => undefined },
    '@done': { actions: () => undefined },
  },
});

describe('delivery as the actor changes under it', () => {
  it('ends the open turns of a crashed actor with one failed turn.replied each, naming the crash', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { k: { machine: fragile } } });
    const bus = record(rt.events$);
    const open = track(rt.ask('k/1', { type: 'go' }));
    await clock.tick(0);
    rt.tell('k/1', { type: 'boom' });
    await clock.tick(0);
    expect(await rejected(open, clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
    expect(bus.of('turn.replied').map((r) => r.data)).toEqual([{ id: expect.any(String), ok: false, code: 'INTERLOCK_ACTOR_CRASHED' }]);
    await rt.shutdown({ drain: false });
  });

  it('releases the deadline timer of a tell once it is delivered, and of one the machine crashed on', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { k: { machine: fragile, supervision: { backoff: { initialMs: 1_000, jitter: 0 } } } } });
    rt.tell('k/1', { type: 'note' }, { timeoutMs: 5_000 });
    await clock.tick(0);
    expect(clock.pending('guard')).toBe(0);
    rt.tell('k/1', { type: 'boom' }, { timeoutMs: 5_000 });
    await clock.tick(0);
    expect(rt.view('k/1')?.status).toBe('restarting');
    expect(clock.pending('guard')).toBe(0);
    await rt.shutdown({ drain: false });
  });

  it('publishes nothing more for an actor that one of its own actions passivated', async () => {
    const clock = new SimulatedClock();
    let rt!: { passivate(address: string): boolean };
    const machine = setup({ types: {} as { events: { type: 'sleep' } } }).createMachine({
      on: { sleep: { actions: () => void rt.passivate('k/1') } },
    });
    const runtime = createRuntime({ clock, kinds: { k: { machine } } });
    rt = runtime;
    const bus = record(runtime.events$);
    runtime.tell('k/1', { type: 'sleep' });
    await clock.tick(0);
    expect(runtime.size).toBe(0);
    expect(bus.types('k/1').at(-1)).toBe('lifecycle.passivated');
    // The machine ran its action for the tell, so the tell was delivered, and says so before the actor went.
    expect(bus.types('k/1').slice(-2)).toEqual(['mailbox.delivered', 'lifecycle.passivated']);
    expect(runtime.stats().kinds[0]).toMatchObject({ enqueued: 1, delivered: 1 });
    await runtime.shutdown();
  });

  it('counts as delivered an ask whose own action stops the runtime, which rejects it as stopped', async () => {
    const clock = new SimulatedClock();
    let rt!: { shutdown(o: { drain: false }): Promise<void> };
    let stopping: Promise<void> | undefined;
    const machine = setup({ types: {} as { events: { type: 'halt' } } }).createMachine({
      on: { halt: { actions: () => void (stopping = rt.shutdown({ drain: false })) } },
    });
    const runtime = createRuntime({ clock, kinds: { k: { machine } } });
    rt = runtime;
    const bus = record(runtime.events$);
    const asked = track(runtime.ask('k/1', { type: 'halt' }));
    await clock.tick(0);
    expect(await rejected(asked, clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED' });
    await stopping;
    expect(bus.types('k/1')).toEqual(['lifecycle.activated', 'snapshot', 'mailbox.enqueued', 'mailbox.delivered', 'turn.replied', 'lifecycle.stopped']);
  });

  it('refuses mail from work that outlived its stopped actor: tellSelf throws INTERLOCK_ACTOR_STOPPED', async () => {
    const clock = new SimulatedClock();
    const late = gate();
    const refused: unknown[] = [];
    // The work ignores its abort signal and mails its actor after the runtime stopped it.
    const machine = setup({ types: {} as { events: { type: 'go' } | { type: 'later' } | { type: '@done' } } }).createMachine({
      on: {
        go: {
          actions: runTask(
            async ({ self }) => {
              await late.promise;
              try {
                tellSelf(self, { type: 'later' });
              } catch (err) {
                refused.push(err);
              }
            },
            { done: () => ({ type: '@done' }), error: () => ({ type: '@done' }) },
          ),
        },
        later: { actions: () => undefined },
        '@done': { actions: () => undefined },
      },
    });
    const rt = createRuntime({ clock, kinds: { k: { machine } } });
    rt.tell('k/1', { type: 'go' });
    await clock.tick(0);
    await settled(rt.shutdown({ drain: false }), clock);
    late.open();
    await clock.tick(0);
    expect(refused).toEqual([expect.objectContaining({ code: 'INTERLOCK_ACTOR_STOPPED', details: { reason: 'stopped' } })]);
  });

  it('crashes an actor whose task outcome is no event at all, with INTERLOCK_INVALID_EVENT as the cause', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'go' } } }).createMachine({
      // A JavaScript caller (no types) whose `done` returns nothing.
      on: { go: { actions: runTask(() => 'ok', { done: () => undefined as never, error: () => undefined as never }) } },
    });
    const rt = createRuntime({ clock, kinds: { k: { machine, supervision: { maxRestarts: 0 } } } });
    const asked = track(rt.ask('k/1', { type: 'go' }));
    await clock.tick(0);
    expect(await rejected(asked, clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED', cause: { code: 'INTERLOCK_INVALID_EVENT' } });
    expect(rt.view('k/1')?.status).toBe('failed');
    await rt.shutdown({ drain: false });
  });
});
