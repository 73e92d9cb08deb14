/**
 * What the Stately bridge sends, call by call, to an inspector it is given (`inspector:`,
 * the option for one built with `@statelyai/inspect` or a custom adapter): a transition as
 * the event and the snapshot after it, a public event's payload as Stately's event fields,
 * an actor's end as a snapshot with Stately's status, the actors live when it starts with
 * their state now, one definition per kind, and nothing after stop().
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { createRuntime, SimulatedClock, type SnapshotStore } from '../../src/index.js';
import { statelyBridge, type StatelyInspectorLike } from '../../src/inspect/stately.js';
import type { Runtime } from '../../src/runtime/Runtime.js';

type Call = readonly unknown[];

/** An inspector that logs every call, in order, with its arguments as given. */
function recorder() {
  const calls: Call[] = [];
  const inspector: StatelyInspectorLike = {
    actor: (actor, snapshot) => calls.push(['actor', actor.sessionId, snapshot]),
    event: (actor, event) => calls.push(['event', actor, event]),
    snapshot: (actor, snapshot, info) => calls.push(['snapshot', actor, snapshot, info]),
    stop: () => calls.push(['stop']),
  };
  return { calls, inspector };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A counter that can crash on `boom` and move on `go`; its view shows the count only. */
const counter = setup({
  types: {} as { context: { n: number; secret: string }; events: { type: 'go' } | { type: 'boom' } | { type: 'say'; payload?: unknown } },
}).createMachine({
  id: 'counter',
  context: { n: 0, secret: 'hidden' },
  initial: 'a',
  states: {
    a: {
      on: {
        go: { target: 'b', actions: assign({ n: ({ context }) => context.n + 1 }) },
        say: { actions: assign({ n: ({ context }) => context.n + 1 }) },
        boom: {
          actions: () => {
            throw new Error('boom');
          },
        },
      },
    },
    b: { on: { boom: { actions: () => { throw new Error('boom'); } } } },
  },
});

function runtime(options: { store?: SnapshotStore; maxRestarts?: number } = {}) {
  const clock = new SimulatedClock();
  const rt = createRuntime({
    clock,
    random: () => 0,
    ...(options.store ? { store: options.store } : {}),
    kinds: {
      counter: {
        machine: counter,
        view: (c) => ({ n: c.n }),
        publicEvents: ['go', 'say', 'boom'],
        eventView: (e) => (e as { payload?: unknown }).payload,
        supervision: { maxRestarts: options.maxRestarts ?? 0, backoff: { initialMs: 10 } },
      },
      other: { machine: setup({}).createMachine({ id: 'other', initial: 'x', states: { x: {} } }) },
    },
  });
  cleanups.push(() => rt.shutdown({ drain: false }));
  return { clock, rt };
}

// Any kinds, as statelyBridge takes.
async function bridged(rt: Runtime<any>) {
  const { calls, inspector } = recorder();
  const bridge = await statelyBridge(rt, { inspector, warn: () => undefined });
  cleanups.push(() => bridge.stop());
  return { calls, bridge };
}

describe('Stately bridge, call by call', () => {
  it('sends each transition as the event and then the snapshot it led to, naming that event', async () => {
    const { clock, rt } = runtime();
    const { calls } = await bridged(rt);
    rt.tell('counter/1', { type: 'go' });
    await clock.runAll();
    expect(calls).toStrictEqual([
      ['actor', 'counter/1', { status: 'active', value: 'a', context: { n: 0 } }],
      ['event', 'counter/1', { type: 'go' }],
      ['snapshot', 'counter/1', { status: 'active', value: 'b', context: { n: 1 } }, { event: { type: 'go' } }],
    ]);
  });

  it('sends a public event’s payload as Stately’s event fields: an object’s own fields (never its type), anything else as `payload`, nothing when there is none', async () => {
    const { clock, rt } = runtime();
    const { calls } = await bridged(rt);
    const payloads = [{ text: 'hi', type: 'spoofed' }, ['x', 1], null, 'plain', 0, undefined];
    for (const payload of payloads) rt.tell('counter/1', { type: 'say', payload });
    await clock.runAll();
    const events = calls.filter((c) => c[0] === 'event').map((c) => c[2]);
    expect(events).toStrictEqual([
      { text: 'hi', type: 'say' },
      { type: 'say', payload: ['x', 1] },
      { type: 'say', payload: null },
      { type: 'say', payload: 'plain' },
      { type: 'say', payload: 0 },
      // No `payload` key at all, not one holding undefined.
      { type: 'say' },
    ]);
    // The snapshot after each names the same event.
    expect(calls.filter((c) => c[0] === 'snapshot').map((c) => (c[3] as { event: unknown }).event)).toStrictEqual(events);
  });

  it('shows a crash and then the failure it ends in as status error, with the last public state', async () => {
    const { clock, rt } = runtime({ maxRestarts: 0 });
    const { calls } = await bridged(rt);
    rt.tell('counter/1', { type: 'go' });
    rt.tell('counter/1', { type: 'boom' });
    await clock.runAll();
    expect(rt.view('counter/1')!.status).toBe('failed');
    expect(calls.slice(3)).toStrictEqual([
      ['snapshot', 'counter/1', { status: 'error', value: 'b', context: { n: 1 } }, undefined],
      ['snapshot', 'counter/1', { status: 'error', value: 'b', context: { n: 1 } }, undefined],
    ]);
  });

  it('shows a passivated actor and one stopped at shutdown as status stopped, with the last public state', async () => {
    const { clock, rt } = runtime();
    const { calls } = await bridged(rt);
    rt.tell('counter/1', { type: 'go' });
    rt.tell('counter/2', { type: 'say' });
    await clock.runAll();
    calls.length = 0;
    expect(rt.passivate('counter/1')).toBe(true);
    await rt.shutdown({ drain: false });
    expect(calls).toStrictEqual([
      ['snapshot', 'counter/1', { status: 'stopped', value: 'b', context: { n: 1 } }, undefined],
      ['snapshot', 'counter/2', { status: 'stopped', value: 'a', context: { n: 1 } }, undefined],
    ]);
  });

  it('forgets a stopped actor’s state: the next activation of its address that crashes at start shows no state of the one before', async () => {
    // A store that keeps nothing, so the next activation starts fresh and runs its entry action.
    const store: SnapshotStore = { load: () => undefined, save: () => undefined, delete: () => undefined };
    let failStart = false;
    const clock = new SimulatedClock();
    const rt = createRuntime({
      clock,
      store,
      kinds: {
        s: {
          machine: setup({ types: {} as { context: { n: number }; events: { type: 'go' } } }).createMachine({
            id: 's',
            context: { n: 0 },
            entry: () => {
              if (failStart) throw new Error('start');
            },
            initial: 'a',
            states: { a: { on: { go: { target: 'b', actions: assign({ n: 1 }) } } }, b: {} },
          }),
          supervision: { maxRestarts: 0 },
        },
      },
    });
    cleanups.push(() => rt.shutdown({ drain: false }));
    const { calls } = await bridged(rt);
    rt.tell('s/1', { type: 'go' });
    await clock.runAll();
    expect(rt.passivate('s/1')).toBe(true);
    failStart = true;
    expect(() => rt.tell('s/1', { type: 'go' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_ACTOR_FAILED' }));
    expect(calls.slice(3)).toStrictEqual([
      ['snapshot', 's/1', { status: 'stopped', value: 'b', context: { n: 1 } }, undefined],
      // The new activation crashed before its first snapshot: no value, no context.
      ['snapshot', 's/1', { status: 'error', value: undefined, context: undefined }, undefined],
      ['snapshot', 's/1', { status: 'error', value: undefined, context: undefined }, undefined],
    ]);
  });

  it('registers the actors live when it starts with their state now, and one still loading only once it has started', async () => {
    let release!: (persisted: unknown) => void;
    const slow: SnapshotStore = {
      load: (address) => (address === 'counter/slow' ? new Promise((resolve) => (release = resolve)) : undefined),
      save: () => undefined,
      delete: () => undefined,
    };
    const { clock, rt } = runtime({ store: slow });
    rt.tell('counter/ok', { type: 'go' });
    rt.tell('counter/slow', { type: 'go' });
    await clock.tick(0);
    expect(rt.view('counter/slow')!.status).toBe('loading');

    const { calls } = await bridged(rt);
    expect(calls).toStrictEqual([['actor', 'counter/ok', { status: 'active', value: 'b', context: { n: 1 } }]]);
    release(undefined);
    await clock.runAll();
    expect(calls.slice(1)).toStrictEqual([
      ['actor', 'counter/slow', { status: 'active', value: 'a', context: { n: 0 } }],
      ['event', 'counter/slow', { type: 'go' }],
      ['snapshot', 'counter/slow', { status: 'active', value: 'b', context: { n: 1 } }, { event: { type: 'go' } }],
    ]);
  });

  it('registers an actor that is restarting or failed when it starts with Stately’s status error, as a crash or failure after it shows', async () => {
    const { clock, rt } = runtime({ maxRestarts: 1 });
    rt.tell('counter/restarting', { type: 'go' });
    rt.tell('counter/failed', { type: 'boom' });
    await clock.tick(10);
    // Out of restarts (one allowed).
    rt.tell('counter/failed', { type: 'boom' });
    // Crashed, waiting out its 10 ms backoff.
    rt.tell('counter/restarting', { type: 'boom' });
    await clock.tick(0);
    expect(['restarting', 'failed'].map((k) => rt.view(`counter/${k}`)!.status)).toEqual(['restarting', 'failed']);

    const { calls } = await bridged(rt);
    expect(calls).toStrictEqual([
      ['actor', 'counter/restarting', { status: 'error', value: 'b', context: { n: 1 } }],
      ['actor', 'counter/failed', { status: 'error', value: 'a', context: { n: 0 } }],
    ]);
  });

  it('shows a stall as status error, like the crash it is, with the last public state', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({
      clock,
      random: () => 0,
      kinds: {
        w: {
          machine: setup({ types: {} as { events: { type: 'go' } } }).createMachine({
            id: 'w',
            initial: 'idle',
            states: { idle: { on: { go: 'working' } }, working: { meta: { stallAfterMs: 100 } } },
          }),
          supervision: { backoff: { initialMs: 10 } },
        },
      },
    });
    cleanups.push(() => rt.shutdown({ drain: false }));
    const { calls } = await bridged(rt);
    rt.tell('w/1', { type: 'go' });
    await clock.tick(0);
    calls.length = 0;
    await clock.tick(100);
    expect(rt.view('w/1')!.status).toBe('restarting');
    expect(calls).toStrictEqual([['snapshot', 'w/1', { status: 'error', value: 'working', context: {} }, undefined]]);
    // Restarted: registered again, from its initial state.
    await clock.tick(10);
    expect(calls.slice(1)).toStrictEqual([['actor', 'w/1', { status: 'active', value: 'idle', context: {} }]]);
  });

  it('builds each kind’s definition once and registers every actor of that kind with it', async () => {
    const { clock, rt } = runtime();
    const configs: unknown[] = [];
    const { inspector } = recorder();
    const bridge = await statelyBridge(rt, { inspector: { ...inspector, actor: (a) => configs.push(a.logic.config) }, warn: () => undefined });
    cleanups.push(() => bridge.stop());
    for (const address of ['counter/1', 'counter/2', 'other/1']) rt.tell(address, { type: 'go' });
    await clock.runAll();
    expect(configs).toHaveLength(3);
    expect(configs[1]).toBe(configs[0]);
    expect(configs[2]).not.toBe(configs[0]);
    expect(configs.map((c) => (c as { id: string }).id)).toEqual(['counter', 'counter', 'other']);
  });

  it('stop() stops the inspector once, however often it is called, and nothing is sent after', async () => {
    const { clock, rt } = runtime();
    const { calls, bridge } = await bridged(rt);
    rt.tell('counter/1', { type: 'say' });
    await clock.runAll();
    bridge.stop();
    bridge.stop();
    rt.tell('counter/1', { type: 'go' });
    await clock.runAll();
    expect(calls.map((c) => c[0])).toEqual(['actor', 'event', 'snapshot', 'stop']);
  });
});
