/**
 * Nothing is left behind: every timer and abort listener the runtime arms is released when
 * the thing it guards ends (an answered ask, a passivation, a shutdown during a restart
 * backoff). A leak here is invisible to behaviour in a short test and fatal in a server
 * that runs for weeks, so each test counts what is pending on the clock or on the signal.
 */
import { getEventListeners } from 'node:events';
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, memoryStore, SimulatedClock } from '../../src/index.js';
import { counterMachine, newLog, record, workMachine } from './fixtures.js';
import { rejected, settled } from '../helpers/outcome.js';

const seeded = () => 0.5;

describe('released resources', () => {
  it("clears an answered ask's deadline timer and removes its listener from the caller's signal", async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { c: { machine: counterMachine } } });
    const ac = new AbortController();
    const answer = rt.ask('c/1', { type: 'get' }, { timeoutMs: 5_000, signal: ac.signal });
    expect(await settled(answer)).toBe(0);
    expect(clock.pending()).toBe(0);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await rt.shutdown();
  });

  it('clears the deadline and signal listener of an ask rejected at shutdown', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const ac = new AbortController();
    const never = new Promise<void>(() => {});
    const running = rt.ask('w/1', { type: 'work', id: 'A', gate: never }).catch((e: unknown) => e);
    const queued = rt.ask('w/1', { type: 'work', id: 'B' }, { timeoutMs: 60_000, signal: ac.signal }).catch((e: unknown) => e);
    await clock.tick(0);
    await rt.shutdown({ drain: false });
    expect(await settled(queued)).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED' });
    expect(await settled(running)).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED' });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it('leaves no timer once an actor with idle and stall watch is passivated', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'go' } | { type: 'stop' } } }).createMachine({
      initial: 'idle',
      states: { idle: { on: { go: 'watched' } }, watched: { meta: { stallAfterMs: 10_000 }, on: { stop: 'idle' } } },
    });
    const store = memoryStore();
    const rt = createRuntime({ clock, store, kinds: { m: { machine, idleAfterMs: 1_000 } } });
    rt.tell('m/1', { type: 'go' });
    rt.tell('m/1', { type: 'stop' });
    await clock.tick(0);
    expect(clock.pending()).toBeGreaterThan(0);
    await clock.tick(1_000);
    expect(rt.size).toBe(0);
    expect(clock.pending()).toBe(0);
    await rt.shutdown();
  });

  it('clears the stall and idle timers of a running actor at shutdown', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'go' } } }).createMachine({
      initial: 'idle',
      states: { idle: { on: { go: 'watched' } }, watched: { meta: { stallAfterMs: 10_000 } } },
    });
    const rt = createRuntime({ clock, kinds: { m: { machine, idleAfterMs: 60_000 } } });
    rt.tell('m/1', { type: 'go' });
    await clock.tick(0);
    expect(clock.pending('guard')).toBe(2);
    await rt.shutdown();
    expect(clock.pending()).toBe(0);
  });

  it('cancels a pending restart when the runtime shuts down during the backoff, and never restarts', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, random: seeded, kinds: { w: { machine: workMachine(log), supervision: { backoff: { initialMs: 500 } } } } });
    const bus = record(rt.events$);
    expect(await rejected(rt.ask('w/1', { type: 'work', id: 'A', throwInAction: true }), clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
    expect(clock.pending()).toBe(1); // the restart timer
    await rt.shutdown();
    expect(clock.pending()).toBe(0);
    await clock.tick(1_000);
    expect(bus.types('w/1').filter((t) => t.startsWith('lifecycle'))).toEqual(['lifecycle.activated', 'lifecycle.crashed', 'lifecycle.stopped']);
  });

  it('counts a message that changes nothing (an ask answered from context) as activity: passivation waits idleAfterMs after it', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, store: memoryStore(), kinds: { c: { machine: counterMachine, idleAfterMs: 1_000 } } });
    const bus = record(rt.events$);
    rt.tell('c/1', { type: 'inc' });
    await clock.tick(600);
    const snapshots = bus.of('snapshot').length;
    const answer = rt.ask('c/1', { type: 'get' });
    await clock.tick(0);
    expect(await settled(answer)).toBe(1);
    expect(bus.of('snapshot')).toHaveLength(snapshots); // no new state: only the mailbox saw it
    await clock.tick(400);
    expect(rt.size).toBe(1);
    await clock.tick(600);
    expect(bus.of('lifecycle.passivated').map((r) => r.ts)).toEqual([1_600]);
    await rt.shutdown();
  });

  it('re-arms the idle timer for the remainder after activity, so passivation comes exactly idleAfterMs after the last message', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, store: memoryStore(), kinds: { c: { machine: counterMachine, idleAfterMs: 1_000 } } });
    const bus = record(rt.events$);
    rt.tell('c/1', { type: 'inc' });
    await clock.tick(600);
    rt.tell('c/1', { type: 'inc' }); // activity at 600: idle until 1,600
    await clock.tick(399);
    expect(rt.size).toBe(1);
    await clock.tick(1); // the first timer fires at 1,000 and re-arms for 600, not 1,000 (nor 1,400)
    expect(rt.size).toBe(1);
    // The re-armed timer is a guard as the first was: it must not hold a finished process open.
    expect({ work: clock.pending('work'), guard: clock.pending('guard') }).toEqual({ work: 0, guard: 1 });
    await clock.tick(599);
    expect(rt.size).toBe(1);
    await clock.tick(1);
    expect(rt.size).toBe(0);
    expect(bus.of('lifecycle.passivated').map((r) => r.ts)).toEqual([1_600]);
    await rt.shutdown();
  });
});
