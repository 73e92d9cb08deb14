/**
 * `shutdown({ drain: true })` waits until no actor has anything waiting or a turn open, and
 * ends as soon as that holds, not at its timeout: the mailbox side tells the runtime each
 * time an actor may have become drained (a drain pass ends, a turn ends, an envelope is
 * withdrawn, a crash ends the open turns, everything waiting is rejected). On the simulated
 * clock no time passes here, so a missing notification shows as a shutdown still pending.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, runTask, SimulatedClock, type SnapshotStore } from '../../src/index.js';
import { outcome, rejected, track } from '../helpers/outcome.js';
import { counterMachine, gate, record } from './fixtures.js';

const DRAIN_LIMIT_MS = 60_000;

/** `go` starts work that waits for the event's gate; its outcome makes an action throw (a crash). */
const crashing = setup({ types: {} as { events: { type: 'go'; gate: Promise<void> } | { type: '@boom' } } }).createMachine({
  initial: 'idle',
  states: {
    idle: {
      on: {
        go: { target: 'busy', actions: runTask(({ event }) => event.gate, { done: () => ({ type: '@boom' }), error: () => ({ type: '@boom' }) }) },
      },
    },
    busy: {
      on: {
        '@boom': {
          actions: () => {
            throw new Error('boom');
          },
        },
      },
    },
  },
});

describe("shutdown's drain ends when the last actor is drained", () => {
  it('ends as soon as the tells waiting at its start are delivered', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { c: { machine: counterMachine } } });
    const bus = record(rt.events$);
    rt.tell('c/1', { type: 'inc' });
    rt.tell('c/1', { type: 'inc' });
    const down = rt.shutdown({ timeoutMs: DRAIN_LIMIT_MS });
    expect(await outcome(down, clock)).toEqual({ status: 'fulfilled', value: undefined });
    expect(clock.now()).toBe(0);
    expect(bus.types('c/1').filter((t) => t === 'mailbox.delivered' || t === 'lifecycle.stopped')).toEqual([
      'mailbox.delivered',
      'mailbox.delivered',
      'lifecycle.stopped',
    ]);
  });

  it('ends when a crash ends the last open turn, without waiting out the restart backoff', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { k: { machine: crashing, supervision: { backoff: { initialMs: 5_000, jitter: 0 } } } } });
    const bus = record(rt.events$);
    const work = gate();
    const asked = track(rt.ask('k/1', { type: 'go', gate: work.promise }));
    await clock.tick(0);
    const down = rt.shutdown({ timeoutMs: DRAIN_LIMIT_MS });
    expect(await outcome(down, clock)).toEqual({ status: 'pending' });
    work.open();
    expect(await outcome(down, clock)).toEqual({ status: 'fulfilled', value: undefined });
    expect(clock.now()).toBe(0);
    expect(await rejected(asked)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
    expect(bus.types('k/1').filter((t) => t.startsWith('lifecycle.'))).toEqual(['lifecycle.activated', 'lifecycle.crashed', 'lifecycle.stopped']);
  });

  it('ends when the last envelope waiting for a restarting actor is withdrawn', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { k: { machine: crashing, supervision: { backoff: { initialMs: 5_000, jitter: 0 } } } } });
    const work = gate();
    const crashed = track(rt.ask('k/1', { type: 'go', gate: work.promise }));
    await clock.tick(0);
    work.open();
    expect(await rejected(crashed)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
    expect(rt.view('k/1')?.status).toBe('restarting');
    const caller = new AbortController();
    const waiting = track(rt.ask('k/1', { type: 'go', gate: work.promise }, { signal: caller.signal }));
    const down = rt.shutdown({ timeoutMs: DRAIN_LIMIT_MS });
    expect(await outcome(down, clock)).toEqual({ status: 'pending' });
    caller.abort();
    expect(await outcome(down, clock)).toEqual({ status: 'fulfilled', value: undefined });
    expect(clock.now()).toBe(0);
    expect(await rejected(waiting)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } });
  });

  it("ends when an actor's snapshot fails to load, once what waited for it is rejected", async () => {
    const clock = new SimulatedClock();
    let failLoad!: (err: Error) => void;
    const store: SnapshotStore = {
      load: () => new Promise((_, reject) => (failLoad = reject)),
      save: () => undefined,
      delete: () => undefined,
    };
    const rt = createRuntime({ clock, store, kinds: { c: { machine: counterMachine } } });
    const asked = track(rt.ask('c/1', { type: 'get' }));
    const down = rt.shutdown({ timeoutMs: DRAIN_LIMIT_MS });
    expect(await outcome(down, clock)).toEqual({ status: 'pending' });
    failLoad(new Error('disk unreadable'));
    expect(await outcome(down, clock)).toEqual({ status: 'fulfilled', value: undefined });
    expect(clock.now()).toBe(0);
    expect(await rejected(asked)).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED' });
  });
});
