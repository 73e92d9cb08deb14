import { describe, expect, it } from 'vitest';
import { createRuntime, memoryStore, SimulatedClock, type SnapshotStore } from '../../src/index.js';
import { Persistence } from '../../src/store/Persistence.js';
import { outcome, peek, rejected, track } from '../helpers/outcome.js';
import { counterMachine, record } from './fixtures.js';

/** A promise the test settles. */
function held<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A runtime of counters over `store`; `c/1` counts to `n` and is passivated (its save started). */
async function passivatedCounter(store: SnapshotStore, n = 1) {
  const clock = new SimulatedClock();
  const rt = createRuntime({ clock, store, kinds: { c: { machine: counterMachine } } });
  const log = record(rt.events$);
  for (let i = 0; i < n; i++) rt.tell('c/1', { type: 'inc' });
  await clock.tick(0);
  expect(rt.passivate('c/1')).toBe(true);
  return { clock, rt, log };
}

const CONNECTIVITY = "Check the store's connectivity.";

describe('the memory store (memoryStore)', () => {
  it('loads what was saved, and nothing once deleted', () => {
    const store = memoryStore();
    store.save('c/1', { n: 1 });
    store.save('c/2', { n: 2 });
    expect({ one: store.load('c/1'), two: store.load('c/2'), size: store.size }).toEqual({ one: { n: 1 }, two: { n: 2 }, size: 2 });
    store.delete('c/1');
    expect({ one: store.load('c/1'), two: store.load('c/2'), size: store.size }).toEqual({ one: undefined, two: { n: 2 }, size: 1 });
  });
});

describe('a snapshot store that throws instead of rejecting', () => {
  it('stops the actor when load throws as when it rejects: its caller gets INTERLOCK_ACTOR_STOPPED naming INTERLOCK_STORE_FAILED\'s message, a tell does not throw', async () => {
    const clock = new SimulatedClock();
    const store: SnapshotStore = {
      load: () => {
        throw new Error('no connection');
      },
      save: () => undefined,
      delete: () => undefined,
    };
    const rt = createRuntime({ clock, store, kinds: { c: { machine: counterMachine } } });
    const log = record(rt.events$);
    const why = `Snapshot store failed to load 'c/1': no connection. ${CONNECTIVITY}`;
    expect(await rejected(rt.ask('c/1', { type: 'get' }), clock)).toMatchObject({
      code: 'INTERLOCK_ACTOR_STOPPED',
      message: `Actor 'c/1' stopped (${why}) before answering.`,
    });
    // A tell queues as it would with a store that rejects, and the stop names the failure.
    rt.tell('c/2', { type: 'inc' });
    await clock.tick(0);
    expect(log.of('lifecycle.stopped').map((r) => [r.address, r.data])).toEqual([
      ['c/1', { reason: why }],
      ['c/2', { reason: why.replace('c/1', 'c/2') }],
    ]);
    expect(rt.size).toBe(0);
    log.stop();
    await rt.shutdown();
  });

  it('reports a save that throws on passivation as lifecycle.failed with INTERLOCK_STORE_FAILED\'s message, and shutdown still settles', async () => {
    const store: SnapshotStore = {
      load: () => undefined,
      save: () => {
        throw new Error('disk full');
      },
      delete: () => undefined,
    };
    const { clock, rt, log } = await passivatedCounter(store);
    await clock.tick(0);
    expect(log.of('lifecycle.failed').map((r) => r.data)).toEqual([{ error: `Snapshot store failed to save 'c/1': disk full. ${CONNECTIVITY}` }]);
    expect(rt.size).toBe(0);
    log.stop();
    expect((await outcome(track(rt.shutdown()), clock)).status).toBe('fulfilled');
  });

  it('rejects a save that throws with INTERLOCK_STORE_FAILED naming the address, the operation and the fix', async () => {
    const persistence = new Persistence({
      load: () => undefined,
      save: () => {
        throw new Error('disk full');
      },
      delete: () => undefined,
    });
    expect(await rejected(persistence.save('c/1', { n: 1 })!)).toMatchObject({
      code: 'INTERLOCK_STORE_FAILED',
      message: `Snapshot store failed to save 'c/1': disk full. ${CONNECTIVITY}`,
      address: 'c/1',
    });
  });
});

describe('saves in flight (Persistence)', () => {
  it('takes a save that answers null (a void method may return anything) as done at once', async () => {
    const saved: unknown[] = [];
    const store = { load: () => undefined, save: (_a: string, s: unknown) => (saved.push(s), null), delete: () => undefined } as unknown as SnapshotStore;
    const { clock, rt, log } = await passivatedCounter(store);
    await clock.tick(0);
    expect({ saves: saved.length, failed: log.of('lifecycle.failed').length, size: rt.size }).toEqual({ saves: 1, failed: 0, size: 0 });
    log.stop();
    expect((await outcome(track(rt.shutdown()), clock)).status).toBe('fulfilled');
  });

  it('activates synchronously again once the asynchronous save of the address has settled (a synchronous load costs no tick)', async () => {
    const saved = new Map<string, unknown>();
    const store: SnapshotStore = { load: (a) => saved.get(a), save: async (a, s) => void saved.set(a, s), delete: () => undefined };
    const { clock, rt, log } = await passivatedCounter(store, 2);
    await clock.tick(0);
    expect(saved.size).toBe(1);
    rt.tell('c/1', { type: 'inc' });
    // Restored within the tell (no save of c/1 is left to wait for); the inc is delivered by the next drain.
    expect(rt.snapshot('c/1')?.context).toEqual({ n: 2, seen: ['', ''] });
    log.stop();
    await rt.shutdown();
  });

  it('makes shutdown wait for the save of an actor passivated before it', async () => {
    const save = held();
    const store: SnapshotStore = { load: () => undefined, save: () => save.promise, delete: () => undefined };
    const { clock, rt, log } = await passivatedCounter(store);
    const done = track(rt.shutdown());
    expect((await outcome(done, clock)).status).toBe('pending');
    save.resolve();
    expect((await outcome(done, clock)).status).toBe('fulfilled');
    log.stop();
  });

  it('makes a load wait for the latest of two overlapping saves of an address, even after the earlier one settled', async () => {
    const saves = [held(), held()];
    const loads: string[] = [];
    let next = 0;
    const persistence = new Persistence({ load: (a) => void loads.push(a), save: () => saves[next++]!.promise, delete: () => undefined });
    const first = track(persistence.save('c/1', { n: 1 })!);
    const second = track(persistence.save('c/1', { n: 2 })!);
    saves[0]!.resolve();
    await outcome(first);
    expect(persistence.inFlight()).toEqual([second]);
    const loaded: unknown[] = [];
    persistence.load('c/1', (s) => loaded.push(s), (e) => loaded.push(e));
    await outcome(first);
    expect(loads).toEqual([]); // the second save has not landed
    saves[1]!.resolve();
    await outcome(second);
    expect({ loads, loaded, inFlight: persistence.inFlight() }).toEqual({ loads: ['c/1'], loaded: [undefined], inFlight: [] });
    expect(peek(second).status).toBe('fulfilled');
  });
});

describe('a discarded actor (runtime.passivate(address, { discard: true }))', () => {
  it('saves nothing and deletes the snapshot stored for it: its next envelope starts it fresh', async () => {
    const store = memoryStore();
    const { clock, rt, log } = await passivatedCounter(store, 2); // saved at n = 2
    rt.tell('c/1', { type: 'inc' });
    await clock.tick(0);
    expect(rt.snapshot('c/1')?.context).toMatchObject({ n: 3 });
    expect(rt.passivate('c/1', { discard: true })).toBe(true);
    expect({ stored: store.load('c/1'), size: store.size, live: rt.size }).toEqual({ stored: undefined, size: 0, live: 0 });
    rt.tell('c/1', { type: 'inc' });
    await clock.tick(0);
    expect(rt.snapshot('c/1')?.context).toMatchObject({ n: 1 });
    expect(log.of('lifecycle.passivated').length).toBe(2);
    log.stop();
    await rt.shutdown();
  });

  it('refuses, as a plain passivate does, an actor that is not quiet: it keeps its state', async () => {
    const store = memoryStore();
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, store, kinds: { c: { machine: counterMachine } } });
    rt.tell('c/1', { type: 'inc' }); // queued, not delivered yet
    expect(rt.passivate('c/1', { discard: true })).toBe(false);
    await clock.tick(0);
    expect(rt.snapshot('c/1')?.context).toMatchObject({ n: 1 });
    await rt.shutdown();
  });

  it('deletes only after a save of the address still in flight has settled (landed or failed), and a load waits for the delete', async () => {
    const calls: string[] = [];
    const saves = [held(), held()];
    const deletes = [held(), held()];
    let s = 0;
    let d = 0;
    const persistence = new Persistence({
      load: (a) => void calls.push(`load ${a}`),
      save: (a) => (calls.push(`save ${a}`), saves[s++]!.promise),
      delete: (a) => (calls.push(`delete ${a}`), deletes[d++]!.promise),
    });
    persistence.save('c/1', { n: 1 });
    const deleted = track(persistence.delete('c/1')!);
    await outcome(deleted);
    expect(calls).toEqual(['save c/1']); // a delete that overtook the save would leave the saved snapshot behind
    saves[0]!.resolve();
    await outcome(deleted);
    expect(calls).toEqual(['save c/1', 'delete c/1']);
    persistence.load('c/1', () => undefined, () => undefined);
    await outcome(deleted);
    expect(calls).toEqual(['save c/1', 'delete c/1']); // the load waits for the delete
    deletes[0]!.resolve();
    await outcome(deleted);
    expect(calls).toEqual(['save c/1', 'delete c/1', 'load c/1']);
    expect({ status: peek(deleted).status, inFlight: persistence.inFlight() }).toEqual({ status: 'fulfilled', inFlight: [] });

    // After a failed save: still deleted.
    persistence.save('c/2', { n: 2 })!.catch(() => undefined);
    const again = track(persistence.delete('c/2')!);
    saves[1]!.reject(new Error('disk full'));
    await outcome(again);
    expect(calls.at(-1)).toBe('delete c/2');
    deletes[1]!.reject(new Error('read-only'));
    expect(await rejected(again)).toMatchObject({ code: 'INTERLOCK_STORE_FAILED', message: `Snapshot store failed to delete 'c/2': read-only. ${CONNECTIVITY}` });
  });

  it('reports a delete that fails (throws or rejects) as lifecycle.failed with INTERLOCK_STORE_FAILED naming the delete', async () => {
    for (const failing of [
      () => {
        throw new Error('read-only');
      },
      () => Promise.reject(new Error('read-only')),
    ]) {
      const store: SnapshotStore = { load: () => undefined, save: () => undefined, delete: failing };
      const { clock, rt, log } = await passivatedCounter(store);
      rt.tell('c/1', { type: 'inc' });
      await clock.tick(0);
      expect(rt.passivate('c/1', { discard: true })).toBe(true);
      await clock.tick(0);
      expect(log.of('lifecycle.failed').map((r) => r.data)).toEqual([{ error: `Snapshot store failed to delete 'c/1': read-only. ${CONNECTIVITY}` }]);
      log.stop();
      expect((await outcome(track(rt.shutdown()), clock)).status).toBe('fulfilled');
    }
  });
});
