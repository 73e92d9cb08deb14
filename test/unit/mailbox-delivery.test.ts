import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, isInterlockError, reply, SimulatedClock } from '../../src/index.js';
import { outcome, peek, rejected, settled, track } from '../helpers/outcome.js';
import { counterMachine, gate, newLog, record, workMachine } from './fixtures.js';

/** Logs every `x` and `ctl` it takes; `start` opens a turn that only `cancel` ends. */
const laneMachine = (log: string[]) =>
  setup({
    types: {} as { events: { type: 'start' } | { type: 'x'; tag: string } | { type: 'ctl'; tag: string } | { type: 'cancel'; requestId?: string } },
  }).createMachine({
    initial: 'idle',
    on: {
      x: { actions: ({ event }) => log.push(`x:${event.tag}`) },
      ctl: { actions: ({ event }) => log.push(`ctl:${event.tag}`) },
    },
    states: {
      idle: { on: { start: { target: 'busy', actions: () => log.push('start') } } },
      busy: { on: { cancel: { target: 'idle', actions: [() => log.push('cancel'), reply('cancelled')] } } },
    },
  });

describe('virtual actors', () => {
  it('activates an address on its first message, not on ref()', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    const bus = record(rt.events$);
    const ref = rt.ref('counter/a');
    expect(rt.size).toBe(0);
    ref.tell({ type: 'inc' });
    expect(rt.size).toBe(1);
    expect(await settled(ref.ask({ type: 'get' }))).toBe(1);
    expect(bus.types('counter/a').slice(0, 3)).toEqual(['lifecycle.activated', 'snapshot', 'mailbox.enqueued']);
    await rt.shutdown();
  });

  it('keeps one activation per address and isolates addresses', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    rt.tell('counter/a', { type: 'inc' });
    rt.tell('counter/a', { type: 'inc' });
    rt.tell('counter/b', { type: 'inc' });
    expect(await settled(rt.ask('counter/a', { type: 'get' }))).toBe(2);
    expect(await settled(rt.ask('counter/b', { type: 'get' }))).toBe(1);
    expect(rt.size).toBe(2);
    await rt.shutdown();
  });
});

describe('mailbox order', () => {
  it('delivers a burst in priority order, then FIFO within a priority', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    const ref = rt.ref('counter/a');
    ref.tell({ type: 'inc', tag: 'n1' });
    ref.tell({ type: 'inc', tag: 'l1' }, { priority: 'low' });
    ref.tell({ type: 'inc', tag: 'h1' }, { priority: 'high' });
    ref.tell({ type: 'inc', tag: 'n2' });
    ref.tell({ type: 'inc', tag: 'h2' }, { priority: 'high' });
    await settled(ref.ask({ type: 'get' }, { priority: 'low' }));
    expect(ref.snapshot()!.context.seen).toEqual(['h1', 'h2', 'n1', 'n2', 'l1']);
    await rt.shutdown();
  });

  it('routes control event types ahead of every caller priority', async () => {
    const log: string[] = [];
    const rt = createRuntime({ kinds: { l: { machine: laneMachine(log), mailbox: { control: ['ctl'] } } } });
    const ref = rt.ref('l/1');
    ref.tell({ type: 'x', tag: 'high' }, { priority: 'high' });
    ref.tell({ type: 'x', tag: 'normal' });
    ref.tell({ type: 'ctl', tag: 'sent-low' }, { priority: 'low' }); // the control lane ignores the caller's priority
    ref.tell({ type: 'x', tag: 'low' }, { priority: 'low' });
    await flushMicrotasks();
    expect(log).toEqual(['ctl:sent-low', 'x:high', 'x:normal', 'x:low']);
    await rt.shutdown();
  });

  it("puts a runtime cancel in the control lane, ahead of a caller's high-priority envelope", async () => {
    const log: string[] = [];
    const rt = createRuntime({ kinds: { l: { machine: laneMachine(log), cancelEvent: 'cancel' } } });
    const ref = rt.ref('l/1');
    const ac = new AbortController();
    const job = track(ref.ask({ type: 'start' }, { signal: ac.signal }));
    await flushMicrotasks();
    ref.tell({ type: 'x', tag: 'high' }, { priority: 'high' });
    ac.abort(); // the cancel is enqueued after the high-priority tell, in the same tick
    await flushMicrotasks();
    expect(log).toEqual(['start', 'cancel', 'x:high']);
    expect(await rejected(job)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running' } });
    await rt.shutdown();
  });

  it('postpones events the state does not accept and retries them in order after the state changes', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log) } } });
    const bus = record(rt.events$);
    const ref = rt.ref('w/1');
    const g = gate();
    const first = ref.ask({ type: 'work', id: 'A', gate: g.promise });
    const second = ref.ask({ type: 'work', id: 'B' });
    const third = ref.ask({ type: 'work', id: 'C' });
    ref.tell({ type: 'note', text: 'while-busy' });
    await flushMicrotasks();
    expect(log.events).toEqual(['start:A', 'note:while-busy']);
    expect(rt.stats().addresses[0]!.postponed).toBe(2);
    expect(bus.of('mailbox.postponed').map((r) => (r.data as { type: string }).type)).toEqual(['work', 'work']);
    g.open();
    expect(await settled(Promise.all([first, second, third]))).toEqual(['done:A', 'done:B', 'done:C']);
    expect(log.events).toEqual(['start:A', 'note:while-busy', 'end:done:A', 'start:B', 'end:done:B', 'start:C', 'end:done:C']);
    expect(log.maxActive).toBe(1);
    await rt.shutdown();
  });
});

describe('postponing with a guard on the payload', () => {
  /** Takes a `job` only when its size fits the capacity; `grow` raises the capacity. */
  const fitMachine = (log: string[]) =>
    setup({
      types: {} as { context: { capacity: number }; events: { type: 'job'; tag: string; size: number } | { type: 'grow' } },
    }).createMachine({
      context: { capacity: 1 },
      on: {
        job: { guard: ({ context, event }) => event.size <= context.capacity, actions: ({ event }) => log.push(`job:${event.tag}`) },
        grow: { actions: assign({ capacity: 10 }) },
      },
    });

  it('keeps an arriving envelope behind postponed ones of its type even when the guard would take its payload', async () => {
    const log: string[] = [];
    const rt = createRuntime({ kinds: { f: { machine: fitMachine(log) } } });
    const bus = record(rt.events$);
    const ref = rt.ref('f/1');
    ref.tell({ type: 'job', tag: 'big', size: 5 }); // does not fit: postponed
    ref.tell({ type: 'job', tag: 'small', size: 1 }); // would fit, but must not overtake 'big'
    await flushMicrotasks();
    expect(log).toEqual([]);
    expect(bus.of('mailbox.postponed').map((r) => (r.data as { postponed: number }).postponed)).toEqual([1, 2]);
    ref.tell({ type: 'grow' });
    await flushMicrotasks();
    expect(log).toEqual(['job:big', 'job:small']);
    await rt.shutdown();
  });
});

describe('bounded capacity', () => {
  it('refuses an envelope beyond capacity with INTERLOCK_MAILBOX_FULL and drops nothing already queued', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log), mailbox: { capacity: 2 } } } });
    const bus = record(rt.events$);
    const ref = rt.ref('w/1');
    const g = gate();
    const a = ref.ask({ type: 'work', id: 'A', gate: g.promise }); // running: not in the mailbox
    await flushMicrotasks();
    const b = ref.ask({ type: 'work', id: 'B' });
    const c = ref.ask({ type: 'work', id: 'C' });
    await expect(settled(ref.ask({ type: 'work', id: 'D' }))).rejects.toMatchObject({ code: 'INTERLOCK_MAILBOX_FULL', address: 'w/1' });
    expect(() => ref.tell({ type: 'note', text: 'x' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_MAILBOX_FULL' }));
    expect(bus.of('mailbox.rejected').map((r) => (r.data as { code: string }).code)).toEqual([
      'INTERLOCK_MAILBOX_FULL',
      'INTERLOCK_MAILBOX_FULL',
    ]);
    g.open();
    expect(await settled(Promise.all([a, b, c]))).toEqual(['done:A', 'done:B', 'done:C']);
    await rt.shutdown();
  });
});

describe('deadlines', () => {
  it('rejects a queued ask whose deadline passed before delivery, and never delivers it', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const ref = rt.ref('w/1');
    const g = gate();
    const a = ref.ask({ type: 'work', id: 'A', gate: g.promise });
    const b = ref.ask({ type: 'work', id: 'B' }, { timeoutMs: 1_000 });
    const bOutcome = b.catch((e: unknown) => e);
    await clock.tick(999);
    expect(rt.stats().addresses[0]!.depth).toBe(1);
    await clock.tick(1);
    const err = await settled(bOutcome);
    expect(isInterlockError(err, 'INTERLOCK_DEADLINE_EXCEEDED')).toBe(true);
    expect((err as { details: { phase: string } }).details.phase).toBe('queued');
    g.open();
    expect(await settled(a)).toBe('done:A');
    await flushMicrotasks();
    expect(log.events.filter((e) => e.startsWith('start'))).toEqual(['start:A']);
    await rt.shutdown();
  });

  it('measures the deadline from enqueue, so time spent waiting counts', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const ref = rt.ref('w/1');
    const g = gate();
    const a = ref.ask({ type: 'work', id: 'A', gate: g.promise });
    const b = ref.ask({ type: 'work', id: 'B' }, { timeoutMs: 100 });
    const bOutcome = b.catch((e: unknown) => e);
    await clock.tick(150);
    g.open(); // A finishes after B's deadline: B must not start late
    expect(await settled(a)).toBe('done:A');
    expect(await settled(bOutcome)).toMatchObject({ code: 'INTERLOCK_DEADLINE_EXCEEDED' });
    await flushMicrotasks();
    expect(log.events).not.toContain('start:B');
    await rt.shutdown();
  });

  it('answers a running ask past its deadline and sends the kind cancel event to the turn', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log), cancelEvent: 'cancel' } } });
    const ref = rt.ref('w/1');
    const g = gate();
    const a = ref.ask({ type: 'work', id: 'A', gate: g.promise }, { timeoutMs: 500 }).catch((e: unknown) => e);
    await clock.tick(500);
    expect(await settled(a)).toMatchObject({ code: 'INTERLOCK_DEADLINE_EXCEEDED', details: { phase: 'running' } });
    expect(log.events.some((e) => e.startsWith('cancelled:'))).toBe(true);
    expect(ref.snapshot()!.value).toBe('idle');
    await rt.shutdown();
  });
});

describe('deadlines at the boundary', () => {
  it('rejects, never delivers, an envelope whose deadline falls on the instant the turn ahead of it ends', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log) } } });
    const bus = record(rt.events$);
    const ref = rt.ref('w/1');
    const g = gate();
    // Created before B's deadline timer, so at t=1000 it fires first: A's turn ends and B
    // comes up for delivery at its deadline, while B's own timer has not fired yet.
    clock.setTimeout(() => g.open(), 1_000);
    const a = ref.ask({ type: 'work', id: 'A', gate: g.promise });
    // B is enqueued at 200 with 800 ms: its deadline is 1,000, and the error names its 800 ms.
    await clock.tick(200);
    const b = track(ref.ask({ type: 'work', id: 'B' }, { timeoutMs: 800 }));
    await clock.tick(799);
    expect(peek(b)).toEqual({ status: 'pending' });
    await clock.tick(1);
    expect(await outcome(a)).toEqual({ status: 'fulfilled', value: 'done:A' });
    expect(await rejected(b)).toMatchObject({ code: 'INTERLOCK_DEADLINE_EXCEEDED', details: { phase: 'queued', deadlineMs: 800 } });
    expect(log.events).toEqual(['start:A', 'end:done:A']);
    expect(bus.of('mailbox.delivered').map((r) => (r.data as { type: string }).type)).toEqual(['work']);
    await rt.shutdown();
  });

  it('gives an ask without timeoutMs the kind mailbox.defaultTimeoutMs, lets timeoutMs override it, and leaves tells without one', async () => {
    const clock = new SimulatedClock();
    const log = newLog();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log), mailbox: { defaultTimeoutMs: 500 } } } });
    const ref = rt.ref('w/1');
    const g = gate();
    ref.tell({ type: 'work', id: 'A', gate: g.promise }); // a tell: no deadline while it runs
    const b = track(ref.ask({ type: 'work', id: 'B' }));
    const c = track(ref.ask({ type: 'work', id: 'C' }, { timeoutMs: 2_000 }));
    ref.tell({ type: 'work', id: 'T' });
    await clock.tick(499);
    expect(peek(b)).toEqual({ status: 'pending' });
    await clock.tick(1);
    expect(await rejected(b)).toMatchObject({ code: 'INTERLOCK_DEADLINE_EXCEEDED', details: { phase: 'queued', deadlineMs: 500 } });
    await clock.tick(1_000);
    expect(peek(c)).toEqual({ status: 'pending' });
    g.open();
    expect(await outcome(c, clock)).toEqual({ status: 'fulfilled', value: 'done:C' });
    await flushMicrotasks();
    expect(log.events).toEqual(['start:A', 'end:done:A', 'start:C', 'end:done:C', 'start:T', 'end:done:T']);
    await rt.shutdown();
  });
});

describe('abort signals', () => {
  it('removes a queued envelope when its caller aborts', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log) } } });
    const ref = rt.ref('w/1');
    const g = gate();
    const a = ref.ask({ type: 'work', id: 'A', gate: g.promise });
    const ac = new AbortController();
    const b = ref.ask({ type: 'work', id: 'B' }, { signal: ac.signal }).catch((e: unknown) => e);
    await flushMicrotasks();
    ac.abort();
    expect(await settled(b)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } });
    expect(rt.stats().addresses[0]!.depth).toBe(0);
    g.open();
    await settled(a);
    expect(log.events).not.toContain('start:B');
    await rt.shutdown();
  });

  it('sends the cancel event, carrying the request id, to a running turn when its caller aborts', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log), cancelEvent: 'cancel' } } });
    const bus = record(rt.events$);
    const ref = rt.ref('w/1');
    const ac = new AbortController();
    const a = ref.ask({ type: 'work', id: 'A', gate: new Promise(() => {}) }, { signal: ac.signal }).catch((e: unknown) => e);
    const b = ref.ask({ type: 'work', id: 'B' });
    await flushMicrotasks();
    ac.abort();
    expect(await settled(a)).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running' } });
    expect(await settled(b)).toBe('done:B');
    const delivered = bus.of('mailbox.delivered').map((r) => (r.data as { type: string }).type);
    expect(delivered).toEqual(['work', 'cancel', 'work']);
    const aId = (bus.of('mailbox.delivered')[0]!.data as { id: string }).id;
    expect(log.events).toContain(`cancelled:${aId}`);
    await rt.shutdown();
  });

  it('drops a runtime cancel whose turn already ended instead of cancelling the next turn', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log), cancelEvent: 'cancel', mailbox: { control: ['finish'] } } } });
    const bus = record(rt.events$);
    const ref = rt.ref('w/1');
    const ac = new AbortController();
    const a = ref.ask({ type: 'work', id: 'A', gate: new Promise(() => {}) }, { signal: ac.signal }).catch((e: unknown) => e);
    await flushMicrotasks();
    // The turn's end ('finish', control lane) is queued before the caller aborts: the cancel is stale.
    ref.tell({ type: 'finish', output: 'early' });
    ac.abort();
    const b = ref.ask({ type: 'work', id: 'B' });
    expect(await settled(a)).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(await settled(b)).toBe('done:B');
    expect(log.events.some((e) => e.startsWith('cancelled:'))).toBe(false);
    expect(bus.of('mailbox.dropped').map((r) => (r.data as { reason: string }).reason)).toEqual(['turn-ended']);
    await rt.shutdown();
  });

  it("fences a cancelled turn's async work so its late result never answers the next turn", async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log), cancelEvent: 'cancel' } } });
    const bus = record(rt.events$);
    const ref = rt.ref('w/1');
    const ac = new AbortController();
    const g = gate();
    const a = ref.ask({ type: 'work', id: 'A', gate: g.promise }, { signal: ac.signal }).catch((e: unknown) => e);
    await flushMicrotasks();
    g.open(); // A's work resolves on a later microtask ...
    ac.abort(); // ... but the cancel is delivered first and ends A's turn.
    const b = ref.ask({ type: 'work', id: 'B' });
    expect(await settled(a)).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(await settled(b)).toBe('done:B');
    expect(bus.of('task.settled').map((r) => (r.data as { fenced?: boolean }).fenced ?? false)).toEqual([true, false]);
    await rt.shutdown();
  });

  it('rejects at once when the signal is already aborted', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    await expect(settled(rt.ask('counter/a', { type: 'get' }, { signal: AbortSignal.abort() }))).rejects.toMatchObject({
      code: 'INTERLOCK_CANCELLED',
    });
    expect(rt.size).toBe(0);
    await rt.shutdown();
  });
});

describe('input validation', () => {
  it('answers bad addresses, unknown kinds, bad events and bad options with coded errors', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    expect(() => rt.ref('nokind')).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_ADDRESS' }));
    expect(() => rt.ref('other/1')).toThrow(expect.objectContaining({ code: 'INTERLOCK_UNKNOWN_KIND' }));
    expect(() => rt.tell('counter/a', { type: 'xstate.stop' } as never)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT' }));
    expect(() => rt.tell('counter/a', 'inc' as never)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT' }));
    await expect(settled(rt.ask('counter/a', { type: 'get' }, { timeoutMs: -1 }))).rejects.toMatchObject({ code: 'INTERLOCK_INVALID_EVENT' });
    await expect(settled(rt.ask('counter/a', { type: 'get' }, { priority: 'urgent' as never }))).rejects.toMatchObject({
      code: 'INTERLOCK_INVALID_EVENT',
    });
    expect(rt.size).toBe(0);
    await rt.shutdown();
  });
});
