/**
 * The `transition` records the inspection tap publishes, exactly: the start record, one
 * record per macrostep that took a transition of the root actor, none for an event the
 * machine ignored, none for what a child actor does.
 */
import { describe, expect, it } from 'vitest';
import { createMachine, sendTo, setup } from 'xstate';
import { createRuntime, SimulatedClock, type BusRecord } from '../../src/index.js';
import type { TransitionData } from '../../src/inspect/tap.js';
import { gate, newLog, workMachine } from '../unit/fixtures.js';

const transitions = (records: BusRecord[]) => records.filter((r) => r.type === 'transition').map((r) => r.data as TransitionData);

/** A parent that invokes a child and pokes it on `poke`; the child moves a → b. */
const child = createMachine({ id: 'child', initial: 'a', states: { a: { on: { poke: 'b' } }, b: {} } });
const parent = setup({ actors: { child } }).createMachine({
  id: 'parent',
  initial: 'ready',
  invoke: { id: 'kid', src: 'child' },
  states: { ready: { on: { poke: { target: 'poked', actions: sendTo('kid', { type: 'poke' }) } } }, poked: {} },
});

describe('transition records', () => {
  it('starts with exactly one record: xstate.init from null, no transitions, no requestId key; a child’s start adds none', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { p: { machine: parent } } });
    const records: BusRecord[] = [];
    const sub = rt.inspect().subscribe((r) => records.push(r));
    rt.tell('p/1', { type: 'poke' });
    await clock.runAll();
    sub.unsubscribe();
    const [start, poke, ...rest] = transitions(records);
    expect(start).toStrictEqual({ event: { type: 'xstate.init', internal: true }, from: null, to: 'ready', status: 'active', transitions: [] });
    // The child's move on the poke is the child's, not the parent's: only the parent's own transition is listed.
    expect(poke).toStrictEqual({
      event: { type: 'poke', internal: false },
      from: 'ready',
      to: 'poked',
      status: 'active',
      transitions: [{ source: 'parent.ready', targets: ['parent.poked'], event: 'poke' }],
      requestId: (records.find((r) => r.type === 'mailbox.delivered')!.data as { id: string }).id,
    });
    expect(rest).toEqual([]);
    await rt.shutdown();
  });

  it('publishes no record for an event the machine took no transition on (a task outcome arriving after the turn ended)', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(newLog()) } } });
    const records: BusRecord[] = [];
    const sub = rt.inspect().subscribe((r) => records.push(r));
    const g = gate();
    rt.tell('w/1', { type: 'work', id: 'one', gate: g.promise });
    await clock.tick(0);
    rt.tell('w/1', { type: 'finish', output: 'early' });
    await clock.tick(0);
    // The task's `@done` now reaches `idle`, which has no transition for it.
    g.open();
    await clock.runAll();
    sub.unsubscribe();
    expect(records.map((r) => r.type).slice(-2)).toEqual(['transition', 'task.settled']);
    expect(transitions(records).map((t) => [t.event.type, t.from, t.to])).toEqual([
      ['xstate.init', null, 'idle'],
      ['work', 'idle', 'busy'],
      ['finish', 'busy', 'idle'],
    ]);
    await rt.shutdown();
  });
});
