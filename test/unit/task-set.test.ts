import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup, type EventObject } from 'xstate';
import { abortTask, createRuntime, errors, fenceTask, reply, runTask, SimulatedClock, type TaskContext } from '../../src/index.js';
import { outcome, rejected, track } from '../helpers/outcome.js';
import { gate, record } from './fixtures.js';

type Ev = EventObject & { v?: unknown; message?: string };

/** Task outcomes come back as '@ok' / '@err' and answer the current turn. */
const events = {
  done: (v: unknown) => ({ type: '@ok' as const, v }),
  error: (e: unknown) => ({ type: '@err' as const, message: (e as Error).message }),
};

function tasksMachine(held: { ctx?: TaskContext; gate: Promise<void> }) {
  return setup({ types: {} as { events: Ev } }).createMachine({
    on: {
      sync: { actions: runTask(() => 42, events) },
      throws: {
        actions: runTask(() => {
          throw new Error('boom');
        }, events),
      },
      quick: { actions: [runTask(() => 1, events), reply('quick')] },
      dup: { actions: [runTask(() => held.gate, { ...events, id: () => 'same' }), runTask(() => held.gate, { ...events, id: () => 'same' })] },
      /** A tell: a named task that holds until the gate opens, then emits twice. */
      hold: {
        actions: runTask(
          async (args) => {
            held.ctx = args;
            await held.gate;
            args.emit({ type: 'chunk' });
            args.emit({ type: 'chunk' });
            return 'held';
          },
          { ...events, id: () => 'h' },
        ),
      },
      abortH: { actions: abortTask(() => 'h') },
      fenceH: { actions: fenceTask(() => 'h') },
      ghost: { actions: [abortTask(() => 'ghost'), fenceTask(() => 'ghost'), reply('ghost')] },
      '@ok': { actions: reply(({ event }) => `ok:${String(event.v)}`) },
      '@err': { actions: reply(({ event }) => `err:${event.message}`) },
    },
  });
}

function runtime() {
  const clock = new SimulatedClock();
  const g = gate();
  const held: { ctx?: TaskContext; gate: Promise<void> } = { gate: g.promise };
  const rt = createRuntime({ clock, kinds: { t: { machine: tasksMachine(held) } } });
  const log = record(rt.events$);
  const settledRecords = () => log.of('task.settled').map((r) => r.data);
  return { clock, rt, held, open: g.open, log, settledRecords };
}

describe('tasks (TaskSet)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('delivers a synchronous result as done, and a synchronous throw as error', async () => {
    const { clock, rt, settledRecords } = runtime();
    expect(await outcome(rt.ask('t/1', { type: 'sync' }), clock)).toEqual({ status: 'fulfilled', value: 'ok:42' });
    expect(await outcome(rt.ask('t/1', { type: 'throws' }), clock)).toEqual({ status: 'fulfilled', value: 'err:boom' });
    expect(settledRecords()).toEqual([
      { task: 'task-1', requestId: '1', ok: true },
      { task: 'task-2', requestId: '2', ok: false },
    ]);
    await rt.shutdown();
  });

  it('settles a task fenced before it ran as not ok, fenced, nothing dropped', async () => {
    const { clock, rt, settledRecords } = runtime();
    expect(await outcome(rt.ask('t/1', { type: 'quick' }), clock)).toEqual({ status: 'fulfilled', value: 'quick' });
    expect(settledRecords()).toEqual([{ task: 'task-1', requestId: '1', ok: false, fenced: true, dropped: 0 }]);
    await rt.shutdown();
  });

  it('refuses a second task under an id still running, naming the id and the fix', async () => {
    const { clock, rt } = runtime();
    const err = await rejected(rt.ask('t/1', { type: 'dup' }), clock);
    expect(err).toMatchObject({
      code: 'INTERLOCK_ACTOR_CRASHED',
      message: expect.stringContaining("Invalid runTask call: task 'same' is already running; give each task a unique id."),
    });
    await rt.shutdown({ drain: false });
  });

  it('aborts and fences an unknown task id without harm', async () => {
    const { clock, rt, open } = runtime();
    rt.tell('t/1', { type: 'hold' }); // a task set exists
    expect(await outcome(rt.ask('t/1', { type: 'ghost' }), clock)).toEqual({ status: 'fulfilled', value: 'ghost' });
    open();
    await rt.shutdown();
  });

  it('gives a task one signal, which keeps the first abort reason, built once, when the task is fenced after', async () => {
    const { clock, rt, held } = runtime();
    const cancelled = vi.spyOn(errors, 'cancelled');
    rt.tell('t/1', { type: 'hold' });
    await clock.tick(0);
    const signal = held.ctx!.signal;
    expect(held.ctx!.signal).toBe(signal);
    rt.tell('t/1', { type: 'abortH' });
    rt.tell('t/1', { type: 'fenceH' });
    await clock.tick(0);
    expect(held.ctx!.signal).toBe(signal);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running', reason: 'machine' } });
    expect(cancelled).toHaveBeenCalledTimes(1);
    await rt.shutdown({ drain: false });
  });

  it('builds the abort reason once when a task that never looked at its signal is aborted, then fenced', async () => {
    const { clock, rt, held } = runtime();
    const cancelled = vi.spyOn(errors, 'cancelled');
    rt.tell('t/1', { type: 'hold' });
    await clock.tick(0);
    rt.tell('t/1', { type: 'abortH' });
    rt.tell('t/1', { type: 'fenceH' });
    await clock.tick(0);
    expect(cancelled).toHaveBeenCalledTimes(1);
    expect(held.ctx!.signal.reason).toBe(cancelled.mock.results[0]!.value);
    await rt.shutdown({ drain: false });
  });

  it('counts what a fenced task emits as dropped', async () => {
    const { clock, rt, open, settledRecords } = runtime();
    rt.tell('t/1', { type: 'hold' });
    await clock.tick(0);
    rt.tell('t/1', { type: 'fenceH' });
    await clock.tick(0);
    open();
    await clock.tick(0);
    expect(settledRecords()).toEqual([{ task: 'h', requestId: undefined, ok: true, fenced: true, dropped: 2 }]);
    await rt.shutdown();
  });

  it('does not passivate an actor while one of its tasks runs', async () => {
    const { clock, rt, open } = runtime();
    rt.tell('t/1', { type: 'hold' });
    await clock.tick(0);
    expect(rt.passivate('t/1')).toBe(false);
    open();
    await clock.tick(0);
    expect(rt.passivate('t/1')).toBe(true);
    await rt.shutdown();
  });
});

describe('task ids and results (TaskSet)', () => {
  /** Each `start` runs task 'h' on its own gate; `fence`/`abort` name 'h'. */
  function idMachine(runs: { open: (v: unknown) => void; signal: AbortSignal }[]) {
    return setup({ types: {} as { events: Ev } }).createMachine({
      on: {
        start: {
          actions: runTask(({ signal }) => new Promise((open) => runs.push({ open, signal })), { ...events, id: () => 'h' }),
        },
        fence: { actions: fenceTask(() => 'h') },
        abort: { actions: abortTask(() => 'h') },
        '@ok': {},
        '@err': {},
      },
    });
  }

  it('keeps a new task under a reused id when the fenced one before it settles late', async () => {
    const clock = new SimulatedClock();
    const runs: { open: (v: unknown) => void; signal: AbortSignal }[] = [];
    const rt = createRuntime({ clock, kinds: { t: { machine: idMachine(runs) } } });
    const log = record(rt.events$);
    rt.tell('t/1', { type: 'start' });
    await clock.tick(0);
    rt.tell('t/1', { type: 'fence' });
    rt.tell('t/1', { type: 'start' });
    await clock.tick(0);
    expect(runs).toHaveLength(2);
    expect(runs[0]!.signal.aborted).toBe(true);
    runs[0]!.open('late'); // the fenced first 'h' settles now
    await clock.tick(0);
    rt.tell('t/1', { type: 'abort' }); // must still find the second 'h'
    await clock.tick(0);
    expect(runs[1]!.signal.aborted).toBe(true);
    expect(log.of('task.settled').map((r) => r.data)).toEqual([
      { task: 'h', requestId: undefined, ok: true, fenced: true, dropped: 0 },
    ]);
    runs[1]!.open('done');
    await rt.shutdown();
  });

  it('takes a task that returns nothing (undefined or null) as done with that value', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: Ev } }).createMachine({
      on: {
        none: { actions: runTask(() => undefined, events) },
        nil: { actions: runTask(() => null, events) },
        '@ok': { actions: reply(({ event }) => `ok:${String(event.v)}`) },
        '@err': { actions: reply(({ event }) => `err:${event.message}`) },
      },
    });
    const rt = createRuntime({ clock, kinds: { t: { machine } } });
    expect(await outcome(rt.ask('t/1', { type: 'none' }), clock)).toEqual({ status: 'fulfilled', value: 'ok:undefined' });
    expect(await outcome(rt.ask('t/1', { type: 'nil' }), clock)).toEqual({ status: 'fulfilled', value: 'ok:null' });
    await rt.shutdown();
  });
});

describe('a fenced task and stall detection (TaskSet)', () => {
  it("does not count a fenced task's heartbeat as progress", async () => {
    const clock = new SimulatedClock();
    let ctx: TaskContext | undefined;
    const machine = setup({}).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { job: 'working' } },
        working: {
          meta: { stallAfterMs: 1_000 },
          entry: runTask(
            (args) => {
              ctx = args;
              return new Promise(() => {});
            },
            { id: () => 'w', done: () => ({ type: '@d' }), error: () => ({ type: '@e' }) },
          ),
          on: { fence: { actions: fenceTask(() => 'w') } },
        },
      },
    });
    const rt = createRuntime({ clock, kinds: { s: { machine } } });
    const log = record(rt.events$);
    const job = track(rt.ask('s/1', { type: 'job' }));
    await clock.tick(0);
    rt.tell('s/1', { type: 'fence' });
    await clock.tick(500);
    ctx!.heartbeat();
    await clock.tick(500);
    expect(log.of('lifecycle.stalled').map((r) => r.ts)).toEqual([1_000]);
    expect(await rejected(job, clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_STALLED' });
    log.stop();
    await rt.shutdown({ drain: false });
  });
});
