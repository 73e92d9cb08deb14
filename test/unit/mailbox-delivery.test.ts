import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, isInterlockError, SimulatedClock } from '../../src/index.js';
import { counterMachine, gate, newLog, record, workMachine } from './fixtures.js';

describe('virtual actors', () => {
  it('activates an address on its first message, not on ref()', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    const bus = record(rt.events$);
    const ref = rt.ref('counter/a');
    expect(rt.size).toBe(0);
    ref.tell({ type: 'inc' });
    expect(rt.size).toBe(1);
    expect(await ref.ask({ type: 'get' })).toBe(1);
    expect(bus.types('counter/a').slice(0, 3)).toEqual(['lifecycle.activated', 'snapshot', 'mailbox.enqueued']);
    await rt.shutdown();
  });

  it('keeps one activation per address and isolates addresses', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    rt.tell('counter/a', { type: 'inc' });
    rt.tell('counter/a', { type: 'inc' });
    rt.tell('counter/b', { type: 'inc' });
    expect(await rt.ask('counter/a', { type: 'get' })).toBe(2);
    expect(await rt.ask('counter/b', { type: 'get' })).toBe(1);
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
    await ref.ask({ type: 'get' }, { priority: 'low' });
    expect(ref.snapshot()!.context.seen).toEqual(['h1', 'h2', 'n1', 'n2', 'l1']);
    await rt.shutdown();
  });

  it('routes control event types ahead of every caller priority', async () => {
    const log = newLog();
    const rt = createRuntime({ kinds: { w: { machine: workMachine(log), mailbox: { control: ['note'] } } } });
    const ref = rt.ref('w/1');
    ref.tell({ type: 'note', text: 'a' }, { priority: 'high' });
    ref.tell({ type: 'note', text: 'ctl' });
    await flushMicrotasks();
    // 'note' is a control type, so both went to the control lane in FIFO order.
    expect(log.events).toEqual(['note:a', 'note:ctl']);
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
    expect(await Promise.all([first, second, third])).toEqual(['done:A', 'done:B', 'done:C']);
    expect(log.events).toEqual(['start:A', 'note:while-busy', 'end:done:A', 'start:B', 'end:done:B', 'start:C', 'end:done:C']);
    expect(log.maxActive).toBe(1);
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
    await expect(ref.ask({ type: 'work', id: 'D' })).rejects.toMatchObject({ code: 'INTERLOCK_MAILBOX_FULL', address: 'w/1' });
    expect(() => ref.tell({ type: 'note', text: 'x' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_MAILBOX_FULL' }));
    expect(bus.of('mailbox.rejected').map((r) => (r.data as { code: string }).code)).toEqual([
      'INTERLOCK_MAILBOX_FULL',
      'INTERLOCK_MAILBOX_FULL',
    ]);
    g.open();
    expect(await Promise.all([a, b, c])).toEqual(['done:A', 'done:B', 'done:C']);
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
    const err = await bOutcome;
    expect(isInterlockError(err, 'INTERLOCK_DEADLINE_EXCEEDED')).toBe(true);
    expect((err as { details: { phase: string } }).details.phase).toBe('queued');
    g.open();
    expect(await a).toBe('done:A');
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
    expect(await a).toBe('done:A');
    expect(await bOutcome).toMatchObject({ code: 'INTERLOCK_DEADLINE_EXCEEDED' });
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
    expect(await a).toMatchObject({ code: 'INTERLOCK_DEADLINE_EXCEEDED', details: { phase: 'running' } });
    expect(log.events.some((e) => e.startsWith('cancelled:'))).toBe(true);
    expect(ref.snapshot()!.value).toBe('idle');
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
    expect(await b).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } });
    expect(rt.stats().addresses[0]!.depth).toBe(0);
    g.open();
    await a;
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
    expect(await a).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running' } });
    expect(await b).toBe('done:B');
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
    expect(await a).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(await b).toBe('done:B');
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
    expect(await a).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(await b).toBe('done:B');
    expect(bus.of('task.settled').map((r) => (r.data as { fenced?: boolean }).fenced ?? false)).toEqual([true, false]);
    await rt.shutdown();
  });

  it('rejects at once when the signal is already aborted', async () => {
    const rt = createRuntime({ kinds: { counter: { machine: counterMachine } } });
    await expect(rt.ask('counter/a', { type: 'get' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
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
    await expect(rt.ask('counter/a', { type: 'get' }, { timeoutMs: -1 })).rejects.toMatchObject({ code: 'INTERLOCK_INVALID_EVENT' });
    await expect(rt.ask('counter/a', { type: 'get' }, { priority: 'urgent' as never })).rejects.toMatchObject({
      code: 'INTERLOCK_INVALID_EVENT',
    });
    expect(rt.size).toBe(0);
    await rt.shutdown();
  });
});
