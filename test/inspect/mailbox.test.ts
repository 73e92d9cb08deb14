/**
 * The mailbox as the inspector reads it (`runtime.mailbox`), and `runtime.cancel`: a
 * machine holds a turn, later envelopes are postponed or wait queued, and the view lists
 * them in the order they will run, with lanes, ages and deadlines, event types only.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import { rejected, track } from '../helpers/outcome.js';
import { gate, newLog, workMachine } from '../unit/fixtures.js';

function setupWork() {
  const clock = new SimulatedClock();
  const log = newLog();
  const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(log), cancelEvent: 'cancel' } } });
  return { clock, log, rt };
}

describe('runtime.mailbox', () => {
  it('lists the running turn, the queued envelopes in delivery order and the postponed ones oldest first', async () => {
    const { clock, rt } = setupWork();
    const g1 = gate();
    const first = rt.ask('w/1', { type: 'work', id: 'one', gate: g1.promise });
    await clock.tick(0);
    clock.advance(50);
    const second = rt.ask('w/1', { type: 'work', id: 'two' }, { timeoutMs: 5_000 });
    rt.tell('w/1', { type: 'work', id: 'three' });
    await clock.tick(0);
    clock.advance(100);
    // Synchronously after enqueue, before the drain: queued, in lane order.
    rt.tell('w/1', { type: 'note', text: 'low' }, { priority: 'low' });
    const high = rt.ask('w/1', { type: 'work', id: 'four' }, { priority: 'high', timeoutMs: 1_000 });
    rt.tell('w/1', { type: 'note', text: 'normal' });
    const view = rt.mailbox('w/1')!;
    expect(view).toMatchObject({ address: 'w/1', now: 150, capacity: 10_000, depth: 5 });
    expect(view.running.map((e) => [e.event.type, e.reply, e.startedAt, e.runningMs, e.settled])).toEqual([['work', 'ask', 0, 150, false]]);
    expect(view.queued.map((e) => [e.event.type, e.lane, e.reply, e.ageMs, e.deadline, e.remainingMs])).toEqual([
      ['work', 'high', 'ask', 0, 1_150, 1_000],
      ['note', 'normal', 'tell', 0, null, null],
      ['note', 'low', 'tell', 0, null, null],
    ]);
    expect(view.postponed.map((e) => [e.event.type, e.lane, e.reply, e.enqueuedAt, e.ageMs, e.deadline, e.remainingMs])).toEqual([
      ['work', 'normal', 'ask', 50, 100, 5_050, 4_900],
      ['work', 'normal', 'tell', 50, 100, null, null],
    ]);
    // Type only: no payload (ids, gates, note text) unless the kind's eventView says so.
    expect(JSON.stringify(view)).not.toContain('"text"');
    expect(view.queued[0]!.event).toEqual({ type: 'work', internal: false });
    // Ids match the records' envelope ids, in order of enqueue within a type.
    expect(new Set([...view.running, ...view.queued, ...view.postponed].map((e) => e.id)).size).toBe(6);
    expect(rt.mailbox('w/none')).toBeUndefined();

    g1.open();
    await clock.runAll();
    expect(await first).toBe('done:one');
    expect(await high).toBe('done:four');
    expect(await second).toBe('done:two');
    expect(rt.mailbox('w/1')).toMatchObject({ depth: 0, running: [], queued: [], postponed: [] });
    await rt.shutdown();
  });

  it('cancel() answers the running turn’s caller and sends the kind’s cancel event to it; the next postponed one then runs', async () => {
    const { clock, log, rt } = setupWork();
    const running = track(rt.ask('w/1', { type: 'work', id: 'one', gate: new Promise<void>(() => {}) }));
    const next = rt.ask('w/1', { type: 'work', id: 'two' });
    await clock.tick(0);
    const id = rt.mailbox('w/1')!.running[0]!.id;
    expect(rt.cancel('w/1')).toEqual([id]);
    // The cancel travels in the control lane, for that turn.
    expect(rt.mailbox('w/1')!.queued.map((e) => [e.event.type, e.lane, e.cancels])).toEqual([['cancel', 'control', id]]);
    await clock.runAll();
    expect(await rejected(running, clock)).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(await next).toBe('done:two');
    expect(log.events).toEqual(['start:one', `cancelled:${id}`, 'start:two', 'end:done:two']);
    expect(rt.cancel('w/1')).toEqual([]);
    expect(rt.cancel('w/none')).toEqual([]);
    await rt.shutdown();
  });
});
