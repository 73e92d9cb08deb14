/**
 * A machine that reaches a final state is started afresh at the same address (a
 * `lifecycle.restarted` record with reason 'done'); a caller still waiting is told why; a
 * runtime that stops the actor first wins over the restart.
 */
import { assign, createActor, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, SimulatedClock } from '../../src/index.js';
import { record } from './fixtures.js';
import { rejected, track } from '../helpers/outcome.js';

const finMachine = setup({
  types: {} as { context: { n: number }; events: { type: 'inc' } | { type: 'hold' } | { type: 'finish' } },
}).createMachine({
  context: { n: 0 },
  initial: 'idle',
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
  states: {
    idle: { on: { hold: 'holding', finish: 'done' } },
    holding: { on: { finish: 'done' } },
    done: { type: 'final' },
  },
});

function runtime() {
  const clock = new SimulatedClock();
  const rt = createRuntime({ clock, kinds: { fin: { machine: finMachine } } });
  return { rt, clock, bus: record(rt.events$) };
}

describe('a machine that reaches a final state', () => {
  it('is started afresh at its address, with a lifecycle.restarted record saying done', async () => {
    const { rt, bus } = runtime();
    rt.tell('fin/1', { type: 'inc' });
    rt.tell('fin/1', { type: 'finish' });
    await flushMicrotasks();
    expect(rt.view('fin/1')).toMatchObject({ status: 'running', state: 'idle', context: { n: 0 }, restarts: 0 });
    expect(bus.records.filter((r) => r.type.startsWith('lifecycle')).map((r) => [r.type, r.data])).toEqual([
      ['lifecycle.activated', { restored: false }],
      ['lifecycle.restarted', { attempt: 0, delayMs: 0, reason: 'done' }],
    ]);
    // The fresh actor takes work again.
    rt.tell('fin/1', { type: 'inc' });
    await flushMicrotasks();
    expect(rt.view('fin/1')).toMatchObject({ state: 'idle', context: { n: 1 } });
    await rt.shutdown();
  });

  it('rejects a caller whose turn is still open with INTERLOCK_ACTOR_STOPPED naming the final state', async () => {
    const { rt, clock } = runtime();
    const held = track(rt.ask('fin/1', { type: 'hold' }));
    await flushMicrotasks();
    rt.tell('fin/1', { type: 'finish' });
    const err = (await rejected(held, clock)) as Error & { code: string };
    expect(err.code).toBe('INTERLOCK_ACTOR_STOPPED');
    expect(err.message).toBe("Actor 'fin/1' stopped (machine reached a final state) before answering.");
    expect(rt.view('fin/1')).toMatchObject({ status: 'running', state: 'idle' });
    await rt.shutdown();
  });

  it('is not restarted when the runtime stops it between the final snapshot and the restart', async () => {
    const { rt, bus } = runtime();
    rt.tell('fin/1', { type: 'inc' });
    await flushMicrotasks();
    rt.tell('fin/1', { type: 'finish' });
    // Queued before the delivery's own microtasks run: stops the actor after its final
    // snapshot and before the restart that snapshot scheduled.
    let stopped: Promise<void> | undefined;
    queueMicrotask(() => void (stopped = rt.shutdown({ drain: false })));
    await flushMicrotasks();
    await stopped;
    expect(bus.records.filter((r) => r.type.startsWith('lifecycle')).map((r) => r.type)).toEqual(['lifecycle.activated', 'lifecycle.stopped']);
    expect(bus.of('snapshot').map((r) => (r.data as { status: string }).status)).toEqual(['active', 'active', 'done']);
  });
});

describe('a machine that reaches its final state without taking an envelope', () => {
  // Restarting it would only finish again: an endless loop of restarts. It is a crash instead,
  // so the supervisor's backoff and budget decide, and the actor fails once the budget is spent.
  const born = setup({ types: {} as { events: { type: 'ping' } } }).createMachine({ initial: 'over', states: { over: { type: 'final' } } });

  it('crashes through the supervisor (backoff, then failed), and a waiting caller is told it failed', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { k: { machine: born, supervision: { maxRestarts: 2, backoff: { initialMs: 100, jitter: 0 } } } } });
    const bus = record(rt.events$);
    // Without the rule this loops in microtasks and never yields; stop it after a bound so the
    // test fails with the records instead of hanging.
    let restarts = 0;
    const guard = rt.events$.subscribe((r) => {
      if (r.type === 'lifecycle.restarted' && ++restarts > 20) void rt.shutdown({ drain: false });
    });
    const asked = track(rt.ask('k/1', { type: 'ping' }));
    await clock.tick(0);
    await clock.tick(100);
    await clock.tick(200);
    expect(bus.types('k/1').filter((t) => t.startsWith('lifecycle'))).toEqual([
      'lifecycle.activated',
      'lifecycle.crashed',
      'lifecycle.restarted',
      'lifecycle.crashed',
      'lifecycle.restarted',
      'lifecycle.crashed',
      'lifecycle.failed',
    ]);
    expect(bus.of('lifecycle.crashed')[0]!.data).toEqual({
      error: "Actor 'k/1' crashed while handling this request: its machine reached a final state before taking any envelope, and restarting it would do the same again. It is being restarted per its kind's supervision policy.",
    });
    expect(await rejected(asked, clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_FAILED' });
    expect(rt.view('k/1')).toMatchObject({ status: 'failed' });
    guard.unsubscribe();
    await rt.shutdown({ drain: false });
  });

  it('restarts as usual after a restored final snapshot, which took no envelope either', async () => {
    const clock = new SimulatedClock();
    const done = createActor(finMachine).start();
    done.send({ type: 'finish' });
    const saved = new Map<string, unknown>([['fin/1', done.getPersistedSnapshot()]]);
    done.stop();
    const store = { load: async (a: string) => saved.get(a), save: async (a: string, s: unknown) => void saved.set(a, s), delete: async (a: string) => void saved.delete(a) };
    const rt = createRuntime({ clock, store, kinds: { fin: { machine: finMachine } } });
    const bus = record(rt.events$);
    rt.tell('fin/1', { type: 'inc' });
    await clock.tick(0);
    expect(bus.of('lifecycle.activated').map((r) => r.data)).toEqual([{ restored: true }]);
    expect(bus.types('fin/1').filter((t) => t.startsWith('lifecycle'))).toEqual(['lifecycle.activated', 'lifecycle.restarted']);
    expect(rt.view('fin/1')).toMatchObject({ status: 'running', state: 'idle', context: { n: 1 } });
    await rt.shutdown();
  });
});
