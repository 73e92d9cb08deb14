/**
 * The cancel event the runtime sends to a running turn when its caller aborts (the kind's
 * `cancelEvent`, in the control lane): it reaches its turn even behind postponed envelopes
 * of its type, is dropped unseen once its turn ended, and waits, unseen, while the state
 * cannot take it.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, reply, SimulatedClock } from '../../src/index.js';
import { rejected, settled, track } from '../helpers/outcome.js';
import { newLog, record, workMachine } from './fixtures.js';

type Ev = { type: 'start' } | { type: 'pause' } | { type: 'resume' } | { type: 'cancel'; requestId?: string };

describe('a runtime cancel', () => {
  it("reaches its turn even when a caller's event of the same type waits postponed", async () => {
    const clock = new SimulatedClock();
    const log: string[] = [];
    // While busy, only a cancel naming a request (the runtime's) is taken; a caller's bare `cancel` waits.
    const machine = setup({ types: {} as { events: Ev } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { start: { target: 'busy', actions: () => log.push('start') } } },
        busy: {
          on: { cancel: { guard: ({ event }) => event.requestId !== undefined, target: 'idle', actions: [() => log.push('cancel'), reply('cancelled')] } },
        },
      },
    });
    const rt = createRuntime({ clock, kinds: { k: { machine, cancelEvent: 'cancel' } } });
    const caller = new AbortController();
    const started = track(rt.ask('k/1', { type: 'start' }, { signal: caller.signal }));
    await clock.tick(0);
    rt.tell('k/1', { type: 'cancel' });
    await clock.tick(0);
    expect(rt.view('k/1')?.postponed).toBe(1);
    caller.abort();
    expect(await rejected(started, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running' } });
    expect(log).toEqual(['start', 'cancel']);
    expect(rt.view('k/1')).toMatchObject({ state: 'idle', inFlight: 0, postponed: 1 });
    await rt.shutdown({ drain: false });
  });

  it('is dropped without reaching the machine once its turn ended', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log), cancelEvent: 'cancel', mailbox: { control: ['finish'] } } } });
    const bus = record(rt.events$);
    const caller = new AbortController();
    const a = track(rt.ask('w/1', { type: 'work', id: 'A', gate: new Promise<void>(() => {}) }, { signal: caller.signal }));
    await clock.tick(0);
    // The turn's end ('finish', control lane) is queued ahead of the cancel the abort sends.
    rt.tell('w/1', { type: 'finish', output: 'early' });
    caller.abort();
    expect(await rejected(a, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    // The idle machine would take a cancel ('cancel-ignored'): it never sees this one.
    expect(log.events).toEqual(['start:A', 'end:early']);
    expect(bus.of('mailbox.dropped').map((r) => (r.data as { type: string; reason: string }))).toEqual([
      { id: expect.any(String), type: 'cancel', reason: 'turn-ended' },
    ]);
    expect(bus.of('mailbox.delivered').map((r) => (r.data as { type: string }).type)).toEqual(['work', 'finish']);
    await rt.shutdown();
  });

  it('waits, unseen by the machine, while the state cannot take it, and ends the turn once a state does', async () => {
    const clock = new SimulatedClock();
    const log: string[] = [];
    const machine = setup({ types: {} as { events: Ev } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { start: 'busy' } },
        busy: { on: { pause: 'paused', cancel: { target: 'idle', actions: [() => log.push('cancel taken'), reply('cancelled')] } } },
        // No `cancel` transition here; an eventless one would react to any cancel the machine were shown.
        paused: { on: { resume: 'busy' }, always: { guard: ({ event }) => event.type === 'cancel', target: 'idle', actions: () => log.push('shown while paused') } },
      },
    });
    const rt = createRuntime({ clock, kinds: { k: { machine, cancelEvent: 'cancel' } } });
    const caller = new AbortController();
    const started = track(rt.ask('k/1', { type: 'start' }, { signal: caller.signal }));
    rt.tell('k/1', { type: 'pause' });
    await clock.tick(0);
    caller.abort();
    expect(await rejected(started, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running' } });
    expect(rt.view('k/1')).toMatchObject({ state: 'paused', inFlight: 1, postponed: 1 });
    rt.tell('k/1', { type: 'resume' });
    await clock.tick(0);
    expect(log).toEqual(['cancel taken']);
    expect(rt.view('k/1')).toMatchObject({ state: 'idle', inFlight: 0, postponed: 0 });
    await settled(rt.shutdown(), clock);
  });
});
