import { assign, emit, setup } from 'xstate';
import { toArray, firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, memoryStore, reply, requestId, SimulatedClock, type BusRecord } from '../../src/index.js';
import { counterMachine, gate, newLog, record, workMachine } from './fixtures.js';
import { settled } from '../helpers/outcome.js';

describe('passivation', () => {
  it('passivates an idle actor, keeps its snapshot in the store and restores it on the next message', async () => {
    const clock = new SimulatedClock();
    const store = memoryStore();
    const rt = createRuntime({ clock, store, kinds: { counter: { machine: counterMachine, idleAfterMs: 60_000 } } });
    const bus = record(rt.events$);
    rt.tell('counter/a', { type: 'inc' });
    rt.tell('counter/a', { type: 'inc' });
    await flushMicrotasks();
    await clock.tick(59_999);
    expect(rt.size).toBe(1);
    await clock.tick(1);
    expect(rt.size).toBe(0);
    expect(store.size).toBe(1);
    expect(await settled(rt.ask('counter/a', { type: 'get' }))).toBe(2);
    const lifecycle = bus.records.filter((r) => r.type.startsWith('lifecycle'));
    expect(lifecycle.map((r) => [r.type, r.epoch])).toEqual([
      ['lifecycle.activated', 1],
      ['lifecycle.passivated', 1],
      ['lifecycle.activated', 2],
    ]);
    expect(lifecycle[2]!.data).toMatchObject({ restored: true });
    await rt.shutdown();
  });

  it('does not passivate an actor with a turn in flight, and counts recent activity', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log), idleAfterMs: 1_000 } } });
    const g = gate();
    const a = rt.ask('w/1', { type: 'work', id: 'A', gate: g.promise });
    await clock.tick(5_000);
    expect(rt.size).toBe(1);
    g.open();
    expect(await settled(a)).toBe('done:A');
    await clock.tick(999);
    expect(rt.size).toBe(1);
    await clock.tick(1_000);
    expect(rt.size).toBe(0);
    await rt.shutdown();
  });

  it('waits for an asynchronous snapshot save before reactivating the address', async () => {
    const clock = new SimulatedClock();
    const saved = new Map<string, unknown>();
    let release: (() => void) | undefined;
    const store = {
      load: async (address: string) => saved.get(address),
      // The first save is held until the test releases it; later ones complete at once.
      save: (address: string, snapshot: unknown) =>
        release
          ? void saved.set(address, snapshot)
          : new Promise<void>((resolve) => {
              release = () => {
                saved.set(address, snapshot);
                resolve();
              };
            }),
      delete: async () => {},
    };
    const rt = createRuntime({ clock, store, kinds: { counter: { machine: counterMachine, idleAfterMs: 10 } } });
    rt.tell('counter/a', { type: 'inc' });
    await flushMicrotasks();
    await clock.tick(10);
    expect(rt.size).toBe(0);
    const answer = rt.ask('counter/a', { type: 'get' });
    await flushMicrotasks();
    expect(rt.size).toBe(1);
    expect(rt.snapshot('counter/a')).toBeUndefined(); // still loading: the save has not landed
    release!();
    expect(await settled(answer)).toBe(1);
    await rt.shutdown();
  });
});

describe('bus', () => {
  it('numbers records per address without gaps and replays from a resume point', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    const bus = record(rt.events$);
    for (let i = 0; i < 5; i++) rt.tell('counter/a', { type: 'inc' });
    rt.tell('counter/b', { type: 'inc' });
    await settled(rt.ask('counter/a', { type: 'get' }));
    for (const address of ['counter/a', 'counter/b']) {
      const seqs = bus.records.filter((r) => r.address === address).map((r) => r.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    const epoch = bus.records.find((r) => r.address === 'counter/a')!.epoch;
    const replayed: BusRecord[] = [];
    const sub = rt.events('counter/a', { since: { epoch, seq: 10 } }).subscribe((r) => replayed.push(r));
    expect(replayed.map((r) => r.seq)).toEqual(bus.records.filter((r) => r.address === 'counter/a' && r.seq > 10).map((r) => r.seq));
    rt.tell('counter/a', { type: 'inc' });
    await flushMicrotasks();
    expect(replayed.at(-1)!.type).toBe('snapshot');
    sub.unsubscribe();
    await rt.shutdown();
  });

  it('answers a resume point the buffer no longer holds with one replay.gap record', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine, replay: 4 } } });
    const bus = record(rt.events$); // someone receives every record, so the ring holds the last 4
    for (let i = 0; i < 5; i++) rt.tell('counter/a', { type: 'inc' });
    await flushMicrotasks();
    const newest = bus.records.at(-1)!.seq;
    const ch = rt.events('counter/a', { since: { epoch: 1, seq: 1 } });
    const first = await firstValueFrom(ch);
    expect(first).toMatchObject({ type: 'replay.gap', data: { requested: { epoch: 1, seq: 1 }, oldestSeq: newest - 3 } });
    // Resuming inside the buffer is served in its own epoch, and a gap from any other epoch.
    expect((await firstValueFrom(rt.events('counter/a', { since: { epoch: 1, seq: newest - 2 } }))).seq).toBe(newest - 1);
    const wrongEpoch = await firstValueFrom(rt.events('counter/a', { since: { epoch: 99, seq: newest - 2 } }));
    expect(wrongEpoch).toMatchObject({ type: 'replay.gap', epoch: 1, data: { requested: { epoch: 99, seq: newest - 2 } } });
    await rt.shutdown();
  });
});

describe('stream', () => {
  const chat = setup({
    types: {} as {
      context: { req?: string };
      events: { type: 'prompt'; text: string } | { type: 'tick'; n: number } | { type: 'finish' };
      emitted: { type: 'chunk'; text: string; requestId?: string } | { type: 'end'; requestId?: string };
    },
  }).createMachine({
    context: {},
    initial: 'idle',
    states: {
      idle: { on: { prompt: { target: 'streaming', actions: [assign({ req: requestId }), emit(({ event }) => ({ type: 'chunk' as const, text: `start ${event.text}` }))] } } },
      streaming: {
        on: {
          tick: { actions: emit(({ event, context }) => ({ type: 'chunk' as const, text: `t${event.n}`, requestId: context.req })) },
          finish: { target: 'idle', actions: [emit({ type: 'end' }), reply('fin', { to: ({ context }) => context.req })] },
        },
      },
    },
  });

  it('emits the events of its own request and completes when the machine replies', async () => {
    const rt = createRuntime({ kinds: { chat: { machine: chat } } });
    const ref = rt.ref('chat/s');
    const out = firstValueFrom(ref.stream({ type: 'prompt', text: 'hi' }).pipe(toArray()));
    await flushMicrotasks();
    ref.tell({ type: 'tick', n: 1 });
    ref.tell({ type: 'tick', n: 2 });
    ref.tell({ type: 'finish' });
    const events = await settled(out);
    expect(events.map((e) => (e as { text?: string; type: string }).text ?? e.type)).toEqual(['start hi', 't1', 't2', 'end']);
    await rt.shutdown();
  });

  it('completes on a terminal emitted event and cancels on early unsubscribe', async () => {
    const rt = createRuntime({ kinds: { chat: { machine: chat, terminal: ['end'] } } });
    const bus = record(rt.events$);
    const ref = rt.ref('chat/s');
    const seen: string[] = [];
    const sub = ref.stream({ type: 'prompt', text: 'a' }).subscribe((e) => seen.push(e.type));
    const queued = ref.stream({ type: 'prompt', text: 'b' }).subscribe();
    await flushMicrotasks();
    queued.unsubscribe(); // still postponed: removed with a Cancelled rejection record
    ref.tell({ type: 'finish' });
    await flushMicrotasks();
    expect(seen).toEqual(['chunk', 'end']);
    expect(sub.closed).toBe(true);
    expect(bus.of('mailbox.rejected').map((r) => (r.data as { code: string }).code)).toEqual(['INTERLOCK_CANCELLED']);
    await rt.shutdown();
  });
});

describe('stats', () => {
  it('shows depth and postponed while queued, and wait and processing times once answered', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const gates = [gate(), gate(), gate()];
    const asks = gates.map((g, i) => rt.ask('w/1', { type: 'work', id: String(i), gate: g.promise }));
    await flushMicrotasks();
    expect(rt.stats().addresses[0]).toMatchObject({ depth: 2, postponed: 2, inFlight: 1, state: 'busy' });
    await clock.tick(100);
    gates[0]!.open();
    await settled(asks[0]);
    await clock.tick(50);
    gates[1]!.open();
    gates[2]!.open();
    await settled(Promise.all(asks));
    const s = rt.stats();
    expect(s.addresses[0]).toMatchObject({ depth: 0, delivered: 3, replied: 3 });
    expect(s.addresses[0]!.waitMs.max).toBe(150);
    expect(s.kinds[0]!.waitMs.count).toBe(3);
    expect(s.kinds[0]!.processingMs.sum).toBe(150);
    await rt.shutdown();
  });
});

describe('shutdown', () => {
  it('refuses new envelopes, drains what was accepted, and is idempotent', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log) } } });
    const g = gate();
    const a = rt.ask('w/1', { type: 'work', id: 'A', gate: g.promise });
    const b = rt.ask('w/1', { type: 'work', id: 'B' });
    const closing = rt.shutdown({ drain: true, timeoutMs: 10_000 });
    expect(rt.shutdown()).toBe(closing);
    await expect(settled(rt.ask('w/1', { type: 'work', id: 'C' }))).rejects.toMatchObject({ code: 'INTERLOCK_SHUTTING_DOWN' });
    g.open();
    await closing;
    expect(await settled(Promise.all([a, b]))).toEqual(['done:A', 'done:B']);
  });

  it('rejects what is left with ActorStopped when not draining', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log) } } });
    const a = rt.ask('w/1', { type: 'work', id: 'A', gate: new Promise(() => {}) }).catch((e: unknown) => e);
    const b = rt.ask('w/1', { type: 'work', id: 'B' }).catch((e: unknown) => e);
    await flushMicrotasks();
    await rt.shutdown({ drain: false });
    expect((await settled(a)) as object).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED' });
    expect((await settled(b)) as object).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED' });
  });

  it('ends a drain when the last turn ends, not at the drain timeout (on the injected clock)', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const g = gate();
    const a = rt.ask('w/1', { type: 'work', id: 'A', gate: g.promise });
    const b = rt.ask('w/1', { type: 'work', id: 'B' });
    let done = false;
    const closing = rt.shutdown({ drain: true, timeoutMs: 10_000 }).then(() => (done = true));
    await clock.tick(100);
    expect(done).toBe(false);
    g.open();
    await clock.tick(0);
    expect(done).toBe(true);
    await closing;
    expect(await settled(Promise.all([a, b]))).toEqual(['done:A', 'done:B']);
  });

  it('ends a drain as soon as the last waiting envelope is cancelled, not at the drain timeout', async () => {
    const clock = new SimulatedClock();
    // `later` is not taken in `idle`: it waits postponed, and the drain waits for it.
    const machine = setup({ types: {} as { events: { type: 'later' } } }).createMachine({ initial: 'idle', states: { idle: {} } });
    const rt = createRuntime({ clock, kinds: { p: { machine } } });
    const ac = new AbortController();
    const waiting = rt.ask('p/1', { type: 'later' }, { signal: ac.signal }).catch((e: unknown) => e);
    await clock.tick(0);
    expect(rt.mailbox('p/1')?.postponed).toHaveLength(1);
    let done = false;
    const closing = rt.shutdown({ drain: true, timeoutMs: 10_000 }).then(() => (done = true));
    await clock.tick(100);
    expect(done).toBe(false);
    ac.abort();
    await clock.tick(0);
    expect(done).toBe(true);
    await closing;
    expect(await settled(waiting)).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
  });

  it('stops waiting for a drain at its timeout on the injected clock', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const a = rt.ask('w/1', { type: 'work', id: 'A', gate: new Promise(() => {}) }).catch((e: unknown) => e);
    let done = false;
    const closing = rt.shutdown({ drain: true, timeoutMs: 5_000 }).then(() => (done = true));
    await clock.tick(4_999);
    expect(done).toBe(false);
    await clock.tick(1);
    await closing;
    expect(await settled(a)).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED' });
  });
});

describe('clock injection', () => {
  it("drives XState's delayed transitions with the runtime clock", async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'arm' } | { type: 'state' } } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { arm: 'armed', state: { actions: reply('idle') } } },
        armed: { after: { 1_000: 'fired' }, on: { state: { actions: reply('armed') } } },
        fired: { on: { state: { actions: reply('fired') } } },
      },
    });
    const rt = createRuntime({ clock, kinds: { t: { machine } } });
    rt.tell('t/1', { type: 'arm' });
    expect(await settled(rt.ask('t/1', { type: 'state' }))).toBe('armed');
    await clock.tick(999);
    expect(await settled(rt.ask('t/1', { type: 'state' }))).toBe('armed');
    await clock.tick(1);
    expect(await settled(rt.ask('t/1', { type: 'state' }))).toBe('fired');
    await rt.shutdown();
  });
});

describe('iterate', () => {
  const chat = setup({
    types: {} as { events: { type: 'prompt' } | { type: 'tick'; n: number } | { type: 'finish' } | { type: 'cancel'; requestId?: string }; emitted: { type: 'chunk'; n: number } },
  }).createMachine({
    initial: 'idle',
    states: {
      idle: { on: { prompt: 'streaming', cancel: { actions: () => {} } } },
      streaming: {
        on: {
          tick: { actions: emit(({ event }) => ({ type: 'chunk' as const, n: event.n })) },
          finish: { target: 'idle', actions: reply('done') },
          cancel: { target: 'idle', actions: reply('cancelled') },
        },
      },
    },
  });

  it('yields the stream as an async iterator, in order, and ends with the reply', async () => {
    const rt = createRuntime({ kinds: { chat: { machine: chat } } });
    const ref = rt.ref('chat/a');
    const it = ref.iterate({ type: 'prompt' });
    const first = it.next();
    await flushMicrotasks();
    ref.tell({ type: 'tick', n: 1 });
    ref.tell({ type: 'tick', n: 2 });
    ref.tell({ type: 'finish' });
    const seen: number[] = [((await settled(first)).value as unknown as { n: number }).n];
    for await (const e of it) seen.push((e as unknown as { n: number }).n);
    expect(seen).toEqual([1, 2]);
    await rt.shutdown();
  });

  it('cancels the request when the loop is left early', async () => {
    const rt = createRuntime({ kinds: { chat: { machine: chat, cancelEvent: 'cancel' } } });
    const bus = record(rt.events$);
    const ref = rt.ref('chat/a');
    const it = ref.iterate({ type: 'prompt' });
    const first = it.next();
    await flushMicrotasks();
    ref.tell({ type: 'tick', n: 1 });
    expect((await settled(first)).value).toMatchObject({ n: 1 });
    await it.return!();
    await flushMicrotasks();
    expect(ref.snapshot()!.value).toBe('idle');
    expect(bus.of('mailbox.delivered').map((r) => (r.data as { type: string }).type)).toEqual(['prompt', 'tick', 'cancel']);
    await rt.shutdown();
  });
});

describe('passivation and delayed transitions', () => {
  it('does not passivate an actor waiting on a delayed transition, and passivates after it fired', async () => {
    const clock = new SimulatedClock();
    const machine = setup({ types: {} as { events: { type: 'arm' } } }).createMachine({
      initial: 'idle',
      states: { idle: { on: { arm: 'armed' } }, armed: { after: { 10_000: 'fired' } }, fired: {} },
    });
    const rt = createRuntime({ clock, kinds: { t: { machine, idleAfterMs: 1_000 } } });
    rt.tell('t/1', { type: 'arm' });
    await flushMicrotasks();
    await clock.tick(9_999);
    expect(rt.size).toBe(1);
    expect(rt.snapshot('t/1')!.value).toBe('armed');
    await clock.tick(1);
    expect(rt.snapshot('t/1')!.value).toBe('fired');
    await clock.tick(1_000);
    expect(rt.size).toBe(0);
    await rt.shutdown();
  });
});
