/**
 * The current turn is the last request delivered that is still open. An answer or emit
 * without a request id goes to it, and work started by a task's outcome belongs to it;
 * ending an older turn leaves a newer one current, and once no turn is open nothing is.
 */
import { assign, emit, setup, type EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, reply, requestId, runTask, SimulatedClock } from '../../src/index.js';
import { settled } from '../helpers/outcome.js';
import { record } from './fixtures.js';

describe('the current turn', () => {
  it('stays with the newer request when the machine answers an older one first', async () => {
    const clock = new SimulatedClock();
    // `open` opens a turn left open; `endFirst` answers the first by id; `say` emits for the current turn.
    const machine = setup({ types: {} as { context: { first?: string }; events: { type: 'open' } | { type: 'endFirst' } | { type: 'say' } } }).createMachine({
      context: {},
      on: {
        open: { actions: assign({ first: ({ context, self }) => context.first ?? requestId({ self }) }) },
        endFirst: { actions: reply('first done', { to: ({ context }) => context.first }) },
        say: { actions: emit({ type: 'said' }) },
      },
    });
    const rt = createRuntime({ clock, kinds: { t: { machine } } });
    const seen: string[] = [];
    const watch = (name: string) => ({
      next: (e: EventObject) => seen.push(`${name}:${e.type}`),
      complete: () => seen.push(`${name}:complete`),
      error: () => seen.push(`${name}:error`),
    });
    rt.stream('t/1', { type: 'open' }).subscribe(watch('A'));
    rt.stream('t/1', { type: 'open' }).subscribe(watch('B'));
    await clock.tick(0);
    rt.tell('t/1', { type: 'endFirst' });
    rt.tell('t/1', { type: 'say' });
    await clock.tick(0);
    expect(seen).toEqual(['A:complete', 'B:said']);
    await rt.shutdown({ drain: false });
  });

  it('is none once the last turn ended: work a later task outcome starts belongs to no request', async () => {
    const clock = new SimulatedClock();
    type Ev = { type: 'ping' } | { type: 'kick' } | { type: '@kicked' } | { type: '@later' };
    const machine = setup({ types: {} as { events: Ev } }).createMachine({
      on: {
        // An ask answered at once: its turn opens and ends in one delivery.
        ping: { actions: reply('pong') },
        // A tell: its task belongs to no request.
        kick: { actions: runTask(() => 'k', { id: () => 'kick', done: () => ({ type: '@kicked' }), error: () => ({ type: '@kicked' }) }) },
        // Started by an internal event, so it belongs to the current turn, if any.
        '@kicked': { actions: runTask<unknown, Ev>(() => 'l', { id: () => 'later', done: () => ({ type: '@later' }), error: () => ({ type: '@later' }) }) },
        '@later': { actions: () => undefined },
      },
    });
    const rt = createRuntime({ clock, kinds: { t: { machine } } });
    const bus = record(rt.events$);
    expect(await settled(rt.ask('t/1', { type: 'ping' }), clock)).toBe('pong');
    rt.tell('t/1', { type: 'kick' });
    await clock.tick(0);
    expect(bus.of('task.started').map((r) => r.data)).toEqual([
      { task: 'kick', requestId: undefined },
      { task: 'later', requestId: undefined },
    ]);
    await rt.shutdown();
  });

  it('cancels nothing at an actor that never opened a turn', async () => {
    const clock = new SimulatedClock();
    const notes: string[] = [];
    const machine = setup({ types: {} as { events: { type: 'note' } } }).createMachine({ on: { note: { actions: () => notes.push('note') } } });
    const rt = createRuntime({ clock, kinds: { t: { machine } } });
    rt.tell('t/1', { type: 'note' });
    await clock.tick(0);
    expect(notes).toEqual(['note']);
    expect(rt.cancel('t/1')).toEqual([]);
    await rt.shutdown();
  });
});
