import { describe, expect, it, vi } from 'vitest';
import { assign, setup } from 'xstate';
import { createRuntime, reply, SimulatedClock, type BusRecord } from '../../src/index.js';

const counter = setup({ types: {} as { context: { n: number } } }).createMachine({
  context: { n: 0 },
  on: { inc: { actions: [assign({ n: ({ context }) => context.n + 1 }), reply(({ context }) => context.n)] } },
});

describe('records nobody reads are not built', () => {
  it("does not run the kind's view for snapshots nobody watches, and numbers records gaplessly for a later subscriber", async () => {
    const clock = new SimulatedClock();
    const view = vi.fn((c: Record<string, any>) => ({ n: c.n as number }));
    const rt = createRuntime({ clock, kinds: { c: { machine: counter, view } } });
    for (let i = 0; i < 3; i++) rt.tell('c/1', { type: 'inc' });
    await clock.tick(0);
    expect(view).not.toHaveBeenCalled();
    const seen: BusRecord[] = [];
    const sub = rt.events('c/1').subscribe((r) => seen.push(r));
    rt.tell('c/1', { type: 'inc' });
    await clock.tick(0);
    sub.unsubscribe();
    expect(view).toHaveBeenCalledTimes(1);
    // Counted before: activated + the initial snapshot, then enqueued, delivered, snapshot per tell (2 + 3 x 3).
    expect(seen.map((r) => [r.seq, r.type])).toEqual([
      [12, 'mailbox.enqueued'],
      [13, 'mailbox.delivered'],
      [14, 'snapshot'],
    ]);
    expect(seen[2]!.data).toEqual({ value: {}, status: 'active', context: { n: 4 } });
    // The ring started with the first record seen: a resume finds everything since, watched or not.
    rt.tell('c/1', { type: 'inc' });
    await clock.tick(0);
    const replayed: BusRecord[] = [];
    rt.events('c/1', { since: { epoch: seen[0]!.epoch, seq: 13 } }).subscribe((r) => replayed.push(r)).unsubscribe();
    expect(replayed.map((r) => [r.seq, r.type])).toEqual([
      [14, 'snapshot'],
      [15, 'mailbox.enqueued'],
      [16, 'mailbox.delivered'],
      [17, 'snapshot'],
    ]);
  });
});
