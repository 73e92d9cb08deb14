/**
 * A machine that reaches a final state is started afresh at the same address (a
 * `lifecycle.restarted` record with reason 'done'); a caller still waiting is told why; a
 * runtime that stops the actor first wins over the restart.
 */
import { assign, setup } from 'xstate';
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
