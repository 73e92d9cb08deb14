/**
 * Order across postponed event types, through the runtime (the mailbox unit tests build
 * their own envelopes and so cannot see how the runtime numbers them): envelopes of two
 * types postponed in turn are released in arrival order, and a shutdown without drain
 * rejects everything waiting in arrival order too.
 */
import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import { record } from './fixtures.js';
import { rejected, settled, track } from '../helpers/outcome.js';

type Ev = { type: 'a'; tag: string } | { type: 'b'; tag: string } | { type: 'open' };

/** `closed` takes neither `a` nor `b` (both postponed); `open` takes both and logs them. */
const gateMachine = setup({ types: {} as { context: { seen: string[] }; events: Ev } }).createMachine({
  context: { seen: [] },
  initial: 'closed',
  states: {
    closed: { on: { open: 'open' } },
    open: {
      on: {
        a: { actions: assign({ seen: ({ context, event }) => [...context.seen, event.tag] }) },
        b: { actions: assign({ seen: ({ context, event }) => [...context.seen, event.tag] }) },
      },
    },
  },
});

describe('mailbox order across postponed types', () => {
  it('releases envelopes of two postponed types in the order they arrived', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { g: { machine: gateMachine } } });
    for (const [type, tag] of [['a', 'a1'], ['b', 'b1'], ['a', 'a2'], ['b', 'b2'], ['b', 'b3'], ['a', 'a3']] as const) rt.tell('g/1', { type, tag });
    await clock.tick(0);
    expect(rt.stats().addresses[0]).toMatchObject({ depth: 6, queued: 0, postponed: 6 });
    rt.tell('g/1', { type: 'open' });
    await clock.tick(0);
    expect((rt.snapshot('g/1')!.context as { seen: string[] }).seen).toEqual(['a1', 'b1', 'a2', 'b2', 'b3', 'a3']);
    expect(rt.stats().addresses[0]).toMatchObject({ depth: 0, queued: 0, postponed: 0 });
    await rt.shutdown();
  });

  it('splits depth into queued and postponed in stats', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { g: { machine: gateMachine } } });
    rt.tell('g/1', { type: 'a', tag: 'a1' });
    rt.tell('g/1', { type: 'b', tag: 'b1' });
    await clock.tick(0); // both delivered once and postponed
    rt.tell('g/1', { type: 'a', tag: 'a2' }); // queued: behind the postponed a1, not yet looked at
    expect(rt.stats().addresses[0]).toMatchObject({ depth: 3, queued: 1, postponed: 2 });
    await rt.shutdown({ drain: false });
  });

  it('counts a queued envelope withdrawn by its caller out of queued, not out of postponed', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { g: { machine: gateMachine } } });
    rt.tell('g/1', { type: 'b', tag: 'b1' });
    await clock.tick(0); // b1 postponed
    const ac = new AbortController();
    const withdrawn = track(rt.ask('g/1', { type: 'a', tag: 'a1' }, { signal: ac.signal }));
    expect(rt.stats().addresses[0]).toMatchObject({ depth: 2, queued: 1, postponed: 1 });
    ac.abort(); // before the drain: a1 is still queued
    expect(await rejected(withdrawn)).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(rt.stats().addresses[0]).toMatchObject({ depth: 1, queued: 0, postponed: 1 });
    await rt.shutdown({ drain: false });
  });

  it('lists postponed envelopes of several types oldest first in the mailbox view, each once', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { g: { machine: gateMachine } } });
    const bus = record(rt.events$);
    // Per-type lists hold a1, a2 | b1; the view merges them by arrival.
    for (const [type, tag] of [['a', 'a1'], ['b', 'b1'], ['a', 'a2']] as const) rt.tell('g/1', { type, tag });
    await clock.tick(0);
    const view = rt.mailbox('g/1')!;
    expect(view.postponed.map((e) => e.event.type)).toEqual(['a', 'b', 'a']);
    expect(view.postponed.map((e) => e.id)).toEqual(bus.of('mailbox.enqueued').map((r) => (r.data as { id: string }).id));
    await rt.shutdown({ drain: false });
  });

  it('rejects everything waiting in arrival order at a shutdown without drain, postponed and queued alike', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { g: { machine: gateMachine } } });
    const bus = record(rt.events$);
    const order: string[] = [];
    const ask = (type: 'a' | 'b', tag: string) =>
      rt.ask('g/1', { type, tag }).catch((e: { code: string }) => {
        order.push(`${tag}:${e.code}`);
      });
    const waits = [ask('a', 'a1'), ask('b', 'b1'), ask('a', 'a2'), ask('b', 'b2')];
    await clock.tick(0); // all four postponed, two types
    waits.push(ask('b', 'b3')); // queued, arrived last
    await rt.shutdown({ drain: false });
    await settled(Promise.all(waits));
    expect(order).toEqual(['a1', 'b1', 'a2', 'b2', 'b3'].map((t) => `${t}:INTERLOCK_ACTOR_STOPPED`));
    const rejectedIds = bus.of('mailbox.rejected').map((r) => (r.data as { id: string }).id);
    const enqueuedIds = bus.of('mailbox.enqueued').map((r) => (r.data as { id: string }).id);
    expect(rejectedIds).toEqual(enqueuedIds);
  });
});
