import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup } from 'xstate';
import { createRuntime, errors, reply, SimulatedClock, type BusRecord, type SnapshotStore } from '../../src/index.js';
import { outcome, rejected, track } from '../helpers/outcome.js';
import { gate, newLog, record, workMachine } from './fixtures.js';

/** Answers `ping`. */
const echo = setup({}).createMachine({ on: { ping: { actions: reply('pong') } } });

function runtime() {
  const clock = new SimulatedClock();
  const rt = createRuntime({ clock, kinds: { e: { machine: echo }, w: { machine: workMachine(newLog()) } } });
  return { clock, rt };
}

/** A store whose load and save the test settles. */
function heldStore() {
  const loads: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  const store: SnapshotStore = {
    load: () => new Promise((resolve, reject) => loads.push({ resolve, reject })),
    save: () => undefined,
    delete: () => undefined,
  };
  return { store, loads };
}

describe('the runtime directory (Runtime)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names the address, the kind and every known kind in INTERLOCK_UNKNOWN_KIND, from ref, machine, tell and stream', async () => {
    const { rt } = runtime();
    const cases: [() => unknown, string][] = [
      [() => rt.ref('nope/1'), "Address 'nope/1' names kind 'nope', which this runtime does not have. Known kinds: e, w."],
      [() => rt.ref('nope' as 'e', '2'), "Address 'nope/2' names kind 'nope', which this runtime does not have. Known kinds: e, w."],
      [() => rt.machine('nope'), "Address 'nope/*' names kind 'nope', which this runtime does not have. Known kinds: e, w."],
      [() => rt.tell('nope/3', { type: 'ping' }), "Address 'nope/3' names kind 'nope', which this runtime does not have. Known kinds: e, w."],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(expect.objectContaining({ code: 'INTERLOCK_UNKNOWN_KIND', message }));
    }
    // A stream reports it to its subscriber rather than throwing from subscribe().
    const seen: unknown[] = [];
    rt.stream('nope/4', { type: 'ping' }).subscribe({ error: (e: unknown) => seen.push(e) });
    expect(seen).toEqual([expect.objectContaining({ code: 'INTERLOCK_UNKNOWN_KIND', message: expect.stringContaining('Known kinds: e, w.') })]);
    await rt.shutdown();
  });

  it('refuses an ask and a stream whose signal is already aborted as cancelled while queued, activating nothing', async () => {
    const { clock, rt } = runtime();
    const signal = AbortSignal.abort();
    const why = "Request to 'e/1' was cancelled by its caller's signal while queued.";
    expect(await rejected(rt.ask('e/1', { type: 'ping' }, { signal }), clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED', message: why });
    const seen: unknown[] = [];
    rt.stream('e/1', { type: 'ping' }, { signal }).subscribe({ next: (e) => seen.push(e), error: (e: unknown) => seen.push(e) });
    expect(seen).toEqual([expect.objectContaining({ code: 'INTERLOCK_CANCELLED', message: why })]);
    expect(rt.size).toBe(0);
    await rt.shutdown();
  });

  it('builds no error for a stream subscriber that leaves while its turn runs', async () => {
    const { clock, rt } = runtime();
    const built = [vi.spyOn(errors, 'cancelled'), vi.spyOn(errors, 'deadlineExceeded')];
    const sub = rt.stream('w/1', { type: 'work', id: 'A', gate: gate().promise }, { timeoutMs: 1_000 }).subscribe({ error: () => {} });
    await clock.tick(0);
    expect(rt.view('w/1')?.inFlight).toBe(1);
    sub.unsubscribe();
    expect(built.map((s) => s.mock.calls.length)).toEqual([0, 0]);
    await rt.shutdown({ drain: false });
  });

  it('answers questions about an address that is not active without activating or throwing', async () => {
    const { clock, rt } = runtime();
    expect(rt.ref('e/1').snapshot()).toBeUndefined();
    expect(rt.snapshot('e/1')).toBeUndefined();
    expect(rt.view('e/1')).toBeUndefined();
    expect(rt.revive('e/1')).toBe(false);
    expect(rt.passivate('e/1')).toBe(false);
    expect(rt.cancel('e/1')).toEqual([]);
    expect(rt.replay('e/1', { epoch: 1, seq: 0 })).toBeUndefined();
    const gap: BusRecord[] = [];
    rt.events('e/1', { since: { epoch: 1, seq: 3 } }).subscribe((r) => gap.push(r)).unsubscribe();
    expect(gap).toEqual([
      { address: 'e/1', epoch: 0, seq: 0, ts: 0, type: 'replay.gap', data: { requested: { epoch: 1, seq: 3 }, oldestSeq: 0 } },
    ]);
    expect(rt.size).toBe(0);
    // Once active and quiet, passivate says it did; revive of a running actor says it did not.
    const seen = record(rt.events('e/1'));
    rt.tell('e/1', { type: 'ping' });
    await clock.tick(0);
    seen.stop();
    const [first, ...rest] = seen.records;
    expect(rest.length).toBeGreaterThan(0);
    expect(rt.replay('e/1', { epoch: first!.epoch, seq: first!.seq })).toEqual(rest);
    expect(rt.revive('e/1')).toBe(false);
    expect(rt.passivate('e/1')).toBe(true);
    expect(rt.size).toBe(0);
    await rt.shutdown();
  });

  it('inspects an address before it is active, and shows its transitions once it is', async () => {
    const { clock, rt } = runtime();
    const inspected = record(rt.inspect({ address: 'e/1' }));
    rt.tell('e/1', { type: 'ping' });
    await clock.tick(0);
    expect(inspected.of('transition').length).toBeGreaterThan(0);
    inspected.stop();
    await rt.shutdown();
  });

  it('lists live addresses of one kind, or all, in activation order', async () => {
    const { rt } = runtime();
    rt.tell('e/1', { type: 'ping' });
    rt.tell('w/1', { type: 'note', text: 'x' });
    rt.tell('e/2', { type: 'ping' });
    expect(rt.addresses('e')).toEqual(['e/1', 'e/2']);
    expect(rt.addresses('w')).toEqual(['w/1']);
    expect(rt.addresses()).toEqual(['e/1', 'w/1', 'e/2']);
    await rt.shutdown();
  });

  it('numbers requests from 1 up, in base 36', async () => {
    const { clock, rt } = runtime();
    const held = [1, 2].map((n) => track(rt.ask(`w/${n}`, { type: 'work', id: `${n}`, gate: gate().promise })));
    await clock.tick(0);
    expect([...rt.cancel('w/1'), ...rt.cancel('w/2')]).toEqual(['1', '2']);
    for (const p of held) expect(await rejected(p, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    await rt.shutdown({ drain: false });
  });

  it('frees a maxActive slot when an actor passivates, and only one', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { e: { machine: echo, maxActive: 2 } } });
    rt.tell('e/1', { type: 'ping' });
    rt.tell('e/2', { type: 'ping' });
    await clock.tick(0);
    expect(rt.passivate('e/1')).toBe(true);
    rt.tell('e/3', { type: 'ping' });
    expect(() => rt.tell('e/4', { type: 'ping' })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_ACTOR_LIMIT', message: expect.stringContaining("kind 'e' already has its maximum of 2 live actors") }),
    );
    expect(rt.addresses()).toEqual(['e/2', 'e/3']);
    await rt.shutdown();
  });

  it('shows an actor whose snapshot is still loading with no state and no context', async () => {
    const clock = new SimulatedClock();
    const { store, loads } = heldStore();
    const rt = createRuntime({ clock, store, kinds: { e: { machine: echo } } });
    rt.tell('e/1', { type: 'ping' });
    expect(rt.view('e/1')).toMatchObject({ address: 'e/1', status: 'loading', state: undefined, context: undefined, depth: 1 });
    loads[0]!.resolve(undefined);
    await clock.tick(0);
    expect(rt.view('e/1')).toMatchObject({ status: 'running', depth: 0 });
    await rt.shutdown();
  });

  it('stops an actor whose snapshot cannot be loaded, naming the store failure to whoever waits', async () => {
    const clock = new SimulatedClock();
    const { store, loads } = heldStore();
    const rt = createRuntime({ clock, store, kinds: { e: { machine: echo } } });
    const log = record(rt.events$);
    const answer = track(rt.ask('e/1', { type: 'ping' }));
    loads[0]!.reject(new Error('disk gone'));
    const why = "Snapshot store failed to load 'e/1': disk gone. Check the store's connectivity.";
    expect(await rejected(answer, clock)).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED', message: `Actor 'e/1' stopped (${why}) before answering.` });
    expect(log.of('lifecycle.stopped').map((r) => r.data)).toEqual([{ reason: why }]);
    expect(rt.size).toBe(0);
    log.stop();
    await rt.shutdown();
  });

  it('reports a failed save of a passivated snapshot on the bus as lifecycle.failed', async () => {
    const clock = new SimulatedClock();
    const store: SnapshotStore = { load: () => undefined, save: () => Promise.reject(new Error('disk full')), delete: () => undefined };
    const rt = createRuntime({ clock, store, kinds: { e: { machine: echo } } });
    const log = record(rt.events$);
    rt.tell('e/1', { type: 'ping' });
    await clock.tick(0);
    expect(rt.passivate('e/1')).toBe(true);
    await clock.tick(0);
    expect(log.of('lifecycle.failed').map((r) => r.data)).toEqual([
      { error: "Snapshot store failed to save 'e/1': disk full. Check the store's connectivity." },
    ]);
    log.stop();
    await rt.shutdown();
  });
});

describe('shutdown (Runtime)', () => {
  it('drains by default: running work finishes and its caller gets the answer', async () => {
    const { clock, rt } = runtime();
    const g = gate();
    const answer = track(rt.ask('w/1', { type: 'work', id: 'A', gate: g.promise }));
    await clock.tick(0);
    const done = track(rt.shutdown());
    // The drain limit is a guard timer: it must not hold a process open by itself.
    expect({ work: clock.pending('work'), guard: clock.pending('guard') }).toEqual({ work: 0, guard: 1 });
    g.open();
    expect(await outcome(answer, clock)).toEqual({ status: 'fulfilled', value: 'done:A' });
    expect((await outcome(done, clock)).status).toBe('fulfilled');
    expect(clock.pending()).toBe(0);
  });

  it('resolves without waiting for its drain limit once nothing is queued or running', async () => {
    const { clock, rt } = runtime();
    expect(await outcome(rt.ask('e/1', { type: 'ping' }), clock)).toEqual({ status: 'fulfilled', value: 'pong' });
    expect((await outcome(rt.shutdown(), clock)).status).toBe('fulfilled');
  });
});
