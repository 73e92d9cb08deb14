/**
 * A caller's own ending of its request (its signal, its deadline, a stream subscriber
 * leaving): a waiting envelope is withdrawn before the machine sees it; a running turn is
 * answered and sent the kind's cancel event; a tell or an ended turn has nothing to cancel.
 */
import { setup } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRuntime, errors, reply, runTask, SimulatedClock, type TellOptions } from '../../src/index.js';
import { fulfilled, outcome, rejected, track } from '../helpers/outcome.js';
import { gate, newLog, record, workMachine } from './fixtures.js';

/** Takes a `job` only when its size fits the capacity, answering with its tag. */
const fitMachine = (log: string[]) =>
  setup({ types: {} as { context: { capacity: number }; events: { type: 'job'; tag: string; size: number } } }).createMachine({
    context: { capacity: 1 },
    on: {
      job: { guard: ({ context, event }) => event.size <= context.capacity, actions: [({ event }) => log.push(`job:${event.tag}`), reply(({ event }) => event.tag)] },
    },
  });

describe('a caller aborting a waiting envelope', () => {
  it('withdraws an ask aborted in the tick it was sent: the machine never sees it', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const caller = new AbortController();
    const asked = track(rt.ask('w/1', { type: 'work', id: 'A' }, { signal: caller.signal }));
    caller.abort();
    expect(await rejected(asked, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } });
    expect(log.events).toEqual([]);
    await rt.shutdown();
  });

  it('offers the next postponed envelope of a type as soon as the one ahead of it is withdrawn', async () => {
    const clock = new SimulatedClock();
    const log: string[] = [];
    const rt = createRuntime({ clock, kinds: { f: { machine: fitMachine(log) } } });
    const caller = new AbortController();
    const big = track(rt.ask('f/1', { type: 'job', tag: 'big', size: 5 }, { signal: caller.signal })); // does not fit: postponed
    const small = track(rt.ask('f/1', { type: 'job', tag: 'small', size: 1 })); // fits, but waits behind 'big'
    await clock.tick(0);
    expect(log).toEqual([]);
    caller.abort();
    expect(await rejected(big, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } });
    expect(await fulfilled(small, clock)).toBe('small');
    expect(log).toEqual(['job:small']);
    await rt.shutdown();
  });
});

describe('a caller aborting a running request', () => {
  afterEach(() => vi.restoreAllMocks());

  it('cancels nothing when the aborted envelope is a tell the machine is handling', async () => {
    const clock = new SimulatedClock();
    const caller = new AbortController();
    const taken: string[] = [];
    const machine = setup({ types: {} as { events: { type: 'x' } | { type: 'cancel'; requestId?: string } } }).createMachine({
      on: {
        x: { actions: () => caller.abort() }, // the tell's own signal fires while it is delivered
        cancel: { actions: () => taken.push('cancel') },
      },
    });
    const rt = createRuntime({ clock, kinds: { k: { machine, cancelEvent: 'cancel' } } });
    const bus = record(rt.events$);
    const cancelled = vi.spyOn(errors, 'cancelled');
    // A tell's signal is honoured at run time, though TellOptions does not declare it.
    rt.tell('k/1', { type: 'x' }, { signal: caller.signal } as TellOptions);
    await clock.tick(0);
    expect(bus.types('k/1')).toEqual(['lifecycle.activated', 'snapshot', 'mailbox.enqueued', 'mailbox.delivered']);
    expect(taken).toEqual([]);
    expect(cancelled).not.toHaveBeenCalled();
    await rt.shutdown();
  });

  it('sends no cancel for a stream whose subscriber leaves while its answered turn is being closed', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'go' } | { type: 'cancel'; requestId?: string } } }).createMachine({
      on: { go: { actions: reply('done') }, cancel: { actions: () => undefined } },
    });
    const rt = createRuntime({ clock, kinds: { k: { machine, cancelEvent: 'cancel' } } });
    const bus = record(rt.events$);
    let sub: { unsubscribe(): void } | undefined;
    // The subscriber leaves on hearing that its turn was answered, before the stream completes.
    rt.events$.subscribe((r) => r.type === 'turn.replied' && sub?.unsubscribe());
    sub = rt.stream('k/1', { type: 'go' }).subscribe({ error: () => undefined });
    await clock.tick(0);
    expect(bus.types('k/1')).toEqual(['lifecycle.activated', 'snapshot', 'mailbox.enqueued', 'mailbox.delivered', 'turn.replied']);
    await rt.shutdown();
  });

  it('builds no error for a stream subscriber that leaves a running turn', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log), cancelEvent: 'cancel' } } });
    const sub = rt.stream('w/1', { type: 'work', id: 'A', gate: new Promise<void>(() => {}) }).subscribe({ error: () => undefined });
    await clock.tick(0);
    const cancelled = vi.spyOn(errors, 'cancelled');
    const deadline = vi.spyOn(errors, 'deadlineExceeded');
    sub.unsubscribe();
    await clock.tick(0);
    expect(log.events).toEqual(['start:A', expect.stringMatching(/^cancelled:/)]);
    expect(cancelled).not.toHaveBeenCalled();
    expect(deadline).not.toHaveBeenCalled();
    await rt.shutdown();
  });

  it('builds no second error when the runtime cancels a turn whose caller already cancelled', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    // No cancel event: the turn stays open after its caller left, so runtime.cancel() finds it.
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const caller = new AbortController();
    const asked = track(rt.ask('w/1', { type: 'work', id: 'A', gate: new Promise<void>(() => {}) }, { signal: caller.signal }));
    await clock.tick(0);
    const cancelled = vi.spyOn(errors, 'cancelled');
    caller.abort();
    expect(await rejected(asked, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running' } });
    expect(rt.cancel('w/1')).toHaveLength(1);
    expect(cancelled).toHaveBeenCalledTimes(1);
    await rt.shutdown({ drain: false });
  });

  it('builds no INTERLOCK_TURN_FAILED for a turn that fails after its caller cancelled', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    // No cancel event: the turn runs on after its caller left, and its work fails.
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const caller = new AbortController();
    const work = gate();
    const asked = track(rt.ask('w/1', { type: 'work', id: 'A', gate: work.promise, fail: true }, { signal: caller.signal }));
    await clock.tick(0);
    caller.abort();
    expect(await rejected(asked, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running' } });
    const turnFailed = vi.spyOn(errors, 'turnFailed');
    work.open();
    await clock.tick(0);
    expect(rt.view('w/1')).toMatchObject({ state: 'idle', inFlight: 0 });
    expect(turnFailed).not.toHaveBeenCalled();
    await rt.shutdown();
  });

  it("answers a caller who aborts while its actor is being stopped, and sends the stopped actor no cancel event", async () => {
    const clock = new SimulatedClock();
    const caller = new AbortController();
    const machine = setup({ types: {} as { events: { type: 'go' } | { type: 'cancel'; requestId?: string } | { type: '@never' } } }).createMachine({
      on: {
        // The work aborts its caller's request when it is itself aborted (the actor stopping fences it).
        go: {
          actions: runTask(
            ({ signal }) => {
              signal.addEventListener('abort', () => caller.abort());
              return new Promise<never>(() => {});
            },
            { done: () => ({ type: '@never' }), error: () => ({ type: '@never' }) },
          ),
        },
        cancel: { actions: () => undefined },
        '@never': { actions: () => undefined },
      },
    });
    const rt = createRuntime({ clock, kinds: { k: { machine, cancelEvent: 'cancel' } } });
    const bus = record(rt.events$);
    const asked = track(rt.ask('k/1', { type: 'go' }, { signal: caller.signal }));
    await clock.tick(0);
    const stopped = vi.spyOn(errors, 'stopped');
    expect(await outcome(rt.shutdown({ drain: false }), clock)).toEqual({ status: 'fulfilled', value: undefined });
    expect(await rejected(asked, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running' } });
    expect(bus.types('k/1').slice(-3)).toEqual(['task.started', 'turn.replied', 'lifecycle.stopped']);
    // The only INTERLOCK_ACTOR_STOPPED errors are the shutdown's (for the fenced work and the ended turn): a cancel
    // enqueued into the stopped actor would be refused with one of its own, thrown out of the caller's abort().
    expect(stopped.mock.calls.map(([, reason]) => reason)).toEqual(['shutdown', 'shutdown']);
  });
});
