/**
 * Bus subscribers run synchronously inside the runtime. One that stops the runtime on the
 * lifecycle record announcing a start (activated, restarted after a crash or a final state,
 * revived) must leave the actor stopped: the start that record announced does not happen.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock, type BusRecord } from '../../src/index.js';
import { record } from './fixtures.js';

const machine = setup({ types: {} as { events: { type: 'boom' } | { type: 'finish' } | { type: 'note' } } }).createMachine({
  initial: 'idle',
  states: {
    idle: {
      on: {
        note: {},
        finish: 'over',
        boom: {
          actions: () => {
            throw new Error('boom');
          },
        },
      },
    },
    over: { type: 'final' },
  },
});

function setupRuntime(stopOn: (r: BusRecord) => boolean) {
  const clock = new SimulatedClock();
  const rt = createRuntime({ clock, kinds: { k: { machine, supervision: { maxRestarts: 0, backoff: { initialMs: 10, jitter: 0 } } } } });
  const bus = record(rt.events$);
  let stopping: Promise<void> | undefined;
  rt.events$.subscribe((r) => {
    if (!stopping && stopOn(r)) stopping = rt.shutdown({ drain: false });
  });
  return { rt, clock, bus, stopped: () => stopping };
}

/** Nothing of the actor after its lifecycle.stopped, and the runtime holds no actor. */
function expectStoppedForGood(bus: ReturnType<typeof record>, rt: { size: number }) {
  const types = bus.types('k/1');
  expect(types.slice(types.indexOf('lifecycle.stopped'))).toEqual(['lifecycle.stopped']);
  expect(rt.size).toBe(0);
}

describe('a subscriber that stops the runtime on a start record', () => {
  it('on lifecycle.activated: the actor never starts', async () => {
    const { rt, clock, bus, stopped } = setupRuntime((r) => r.type === 'lifecycle.activated');
    // The memory store loads synchronously, so the activation (and the stop) happen inside the tell.
    expect(() => rt.tell('k/1', { type: 'note' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_ACTOR_STOPPED' }));
    await clock.tick(0);
    await stopped();
    expect(bus.types('k/1')).toEqual(['lifecycle.activated', 'lifecycle.stopped']);
    expectStoppedForGood(bus, rt);
  });

  it('on lifecycle.restarted after a final state: the fresh actor never starts', async () => {
    const { rt, clock, bus, stopped } = setupRuntime((r) => r.type === 'lifecycle.restarted');
    rt.tell('k/1', { type: 'finish' });
    rt.tell('k/1', { type: 'note' });
    await clock.tick(0);
    await stopped();
    expect(bus.types('k/1').filter((t) => t.startsWith('lifecycle'))).toEqual(['lifecycle.activated', 'lifecycle.restarted', 'lifecycle.stopped']);
    expectStoppedForGood(bus, rt);
  });

  it('on lifecycle.restarted after a crash: the restart never starts', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { k: { machine, supervision: { maxRestarts: 1, backoff: { initialMs: 10, jitter: 0 } } } } });
    const bus = record(rt.events$);
    let stopping: Promise<void> | undefined;
    rt.events$.subscribe((r) => {
      if (!stopping && r.type === 'lifecycle.restarted') stopping = rt.shutdown({ drain: false });
    });
    rt.tell('k/1', { type: 'boom' });
    await clock.tick(10);
    await stopping;
    expect(bus.types('k/1').filter((t) => t.startsWith('lifecycle'))).toEqual(['lifecycle.activated', 'lifecycle.crashed', 'lifecycle.restarted', 'lifecycle.stopped']);
    expectStoppedForGood(bus, rt);
  });

  it('on lifecycle.revived: the revived actor never starts', async () => {
    const { rt, clock, bus, stopped } = setupRuntime((r) => r.type === 'lifecycle.revived');
    rt.tell('k/1', { type: 'boom' });
    await clock.tick(0);
    expect(rt.view('k/1')?.status).toBe('failed');
    expect(rt.revive('k/1')).toBe(true);
    await stopped();
    expect(bus.types('k/1').filter((t) => t.startsWith('lifecycle'))).toEqual(['lifecycle.activated', 'lifecycle.crashed', 'lifecycle.failed', 'lifecycle.revived', 'lifecycle.stopped']);
    expectStoppedForGood(bus, rt);
  });
});
