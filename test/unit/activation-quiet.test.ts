/**
 * When an actor counts as quiet (and so may be passivated), and what passivating or stopping
 * it leaves behind: each reason not to passivate is tried alone, the counters and lifecycle
 * records are asserted exactly, and a stale `self` shows that a stopped actor stays stopped.
 */
import { assign, fromCallback, setup, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, memoryStore, runTask, SimulatedClock, tellSelf } from '../../src/index.js';
import { gate, record } from './fixtures.js';
import { outcome, rejected, track } from '../helpers/outcome.js';

type QEvent =
  | { type: 'hold' }
  | { type: 'later' }
  | { type: 'bg' }
  | { type: 'spawn' }
  | { type: 'delay' }
  | { type: 'keep' }
  | { type: '@bg'; output?: unknown };

/** A machine with one way to be busy per event; `later` is taken only in `holding` (postponed elsewhere). */
function quietMachine(work: Promise<void>, saved: { self?: AnyActorRef }) {
  return setup({ types: {} as { context: { n: number }; events: QEvent }, actors: { child: fromCallback(() => () => {}) } }).createMachine({
    context: { n: 0 },
    initial: 'idle',
    on: { keep: { actions: [({ self }) => void (saved.self = self), assign({ n: ({ context }) => context.n + 1 })] } },
    states: {
      idle: {
        on: {
          hold: 'holding',
          bg: { actions: runTask(() => work, { done: () => ({ type: '@bg' }), error: () => ({ type: '@bg' }) }) },
          spawn: 'withChild',
          delay: 'delayed',
          '@bg': {},
        },
      },
      holding: { on: { later: 'idle' } },
      withChild: { invoke: { src: 'child' } },
      delayed: { after: { 60_000: 'idle' } },
    },
  });
}

function runtime(clock = new SimulatedClock(), store = memoryStore()) {
  const work = gate();
  const saved: { self?: AnyActorRef } = {};
  const rt = createRuntime({ clock, store, kinds: { q: { machine: quietMachine(work.promise, saved) } } });
  return { rt, clock, store, work, saved };
}

describe('an actor is quiet only when nothing waits, runs, is scheduled or spawned', () => {
  const busy: Array<[string, (rt: ReturnType<typeof runtime>['rt']) => void]> = [
    ['a postponed envelope and nothing else', (rt) => rt.tell('q/1', { type: 'later' })],
    ['an open turn and nothing else', (rt) => void track(rt.ask('q/1', { type: 'hold' }))],
    ['a task started by a tell (no turn) and nothing else', (rt) => rt.tell('q/1', { type: 'bg' })],
    ['a running child actor and nothing else', (rt) => rt.tell('q/1', { type: 'spawn' })],
    ['a scheduled delayed event and nothing else', (rt) => rt.tell('q/1', { type: 'delay' })],
  ];
  for (const [what, make] of busy) {
    it(`does not passivate an actor with ${what}`, async () => {
      const { rt } = runtime();
      rt.tell('q/1', { type: 'keep' });
      make(rt);
      await flushMicrotasks();
      expect(rt.view('q/1')?.status).toBe('running');
      expect(rt.passivate('q/1')).toBe(false);
      expect(rt.size).toBe(1);
      expect(rt.stats().kinds[0]).toMatchObject({ activations: 1, passivations: 0 });
      await rt.shutdown({ drain: false });
    });
  }

  it('passivates a quiet actor, counts it, and restores it from the store on the next message', async () => {
    const { rt, store } = runtime();
    const bus = record(rt.events$);
    rt.tell('q/1', { type: 'keep' });
    await flushMicrotasks();
    expect(rt.passivate('q/1')).toBe(true);
    expect(rt.size).toBe(0);
    expect(store.size).toBe(1);
    expect(rt.stats().kinds[0]).toMatchObject({ activations: 1, passivations: 1 });
    rt.tell('q/1', { type: 'keep' });
    await flushMicrotasks();
    expect(rt.snapshot('q/1')?.context).toEqual({ n: 2 });
    expect(rt.stats().kinds[0]).toMatchObject({ activations: 2, passivations: 1 });
    expect(bus.records.filter((r) => r.type.startsWith('lifecycle')).map((r) => [r.type, r.data])).toEqual([
      ['lifecycle.activated', { restored: false }],
      ['lifecycle.passivated', {}],
      ['lifecycle.activated', { restored: true }],
    ]);
    await rt.shutdown();
  });
});

describe('a stopped or passivated actor stays stopped', () => {
  it('refuses a tellSelf from a stale self after passivation with INTERLOCK_ACTOR_STOPPED', async () => {
    const { rt, saved } = runtime();
    rt.tell('q/1', { type: 'keep' });
    await flushMicrotasks();
    expect(rt.passivate('q/1')).toBe(true);
    expect(() => tellSelf(saved.self!, { type: 'keep' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_ACTOR_STOPPED' }));
    await rt.shutdown();
  });

  it('refuses a tellSelf from a stale self after shutdown, and records why it stopped', async () => {
    const { rt, saved, store } = runtime();
    const bus = record(rt.events$);
    rt.tell('q/1', { type: 'keep' });
    await flushMicrotasks();
    await rt.shutdown();
    expect(() => tellSelf(saved.self!, { type: 'keep' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_ACTOR_STOPPED' }));
    expect(bus.of('lifecycle.stopped').map((r) => r.data)).toEqual([{ reason: 'shutdown' }]);
    // The running actor's snapshot is saved at shutdown.
    expect(store.size).toBe(1);
    expect(await outcome(Promise.resolve(store.load('q/1')))).toMatchObject({ status: 'fulfilled', value: { context: { n: 1 } } });
  });

  it('answers revive() with false for an actor that is not failed', async () => {
    const { rt } = runtime();
    rt.tell('q/1', { type: 'keep' });
    await flushMicrotasks();
    expect(rt.revive('q/1')).toBe(false);
    expect(rt.view('q/1')).toMatchObject({ status: 'running', restarts: 0 });
    await rt.shutdown();
  });
});

describe('an actor that is not running', () => {
  const brittle = setup({ types: {} as { events: { type: 'boom' } } }).createMachine({
    on: {
      boom: {
        actions: () => {
          throw new Error('boom');
        },
      },
    },
  });

  it('is not passivated while restarting or failed, and a shutdown saves no snapshot for it', async () => {
    const clock = new SimulatedClock();
    const saves: string[] = [];
    const inner = memoryStore();
    const store = { load: inner.load, delete: inner.delete, save: (a: string, s: unknown) => void (saves.push(a), inner.save(a, s)) };
    const rt = createRuntime({ clock, store, kinds: { b: { machine: brittle, supervision: { maxRestarts: 1, backoff: { initialMs: 100, jitter: 0 } } } } });
    rt.tell('b/1', { type: 'boom' });
    await clock.tick(0);
    expect(rt.view('b/1')?.status).toBe('restarting');
    expect(rt.passivate('b/1')).toBe(false);
    await clock.tick(100);
    rt.tell('b/1', { type: 'boom' });
    await clock.tick(0);
    expect(rt.view('b/1')?.status).toBe('failed');
    expect(rt.passivate('b/1')).toBe(false);
    expect(rt.view('b/1')?.status).toBe('failed');
    await rt.shutdown();
    expect(saves).toEqual([]);
  });
});

describe('a draining shutdown', () => {
  it('waits for an open turn even when the mailbox is empty, until its timeout', async () => {
    const { rt, clock } = runtime();
    const held = track(rt.ask('q/1', { type: 'hold' }));
    await flushMicrotasks();
    expect(rt.view('q/1')).toMatchObject({ depth: 0, inFlight: 1 });
    const down = track(rt.shutdown({ timeoutMs: 1_000 }));
    await clock.tick(999);
    expect(await outcome(down)).toEqual({ status: 'pending' });
    await clock.tick(1);
    expect(await outcome(down)).toEqual({ status: 'fulfilled', value: undefined });
    expect(await rejected(held, clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED', message: "Actor 'q/1' stopped (shutdown) before answering." });
  });
});
