import { describe, expect, it, vi } from 'vitest';
import { assign, setup } from 'xstate';
import { sessionKind } from '../../machines/index.js';
import { createRuntime, reply, simulated, SimulatedClock, type BusRecord } from '../../src/index.js';

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

describe("a stream's chunk records nobody reads", () => {
  it('counts them while nobody watches, and carries each chunk with its request once someone does', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider: simulated({ clock, text: 'a b c d' }) }) } });
    const chunks: string[] = [];
    rt.ref('session/s1')
      .stream({ type: 'prompt', text: 'hi' })
      .subscribe({ next: (e) => e.type === 'chunk' && chunks.push(e.text), error: () => undefined });
    await clock.tick(40);
    expect(chunks).toEqual(['a', ' b']);
    const seen: BusRecord[] = [];
    const sub = rt.events('session/s1').subscribe((r) => seen.push(r));
    await clock.tick(20);
    sub.unsubscribe();
    expect(chunks).toEqual(['a', ' b', ' c']);
    const emitted = seen.filter((r) => r.type === 'emitted');
    expect(emitted.map((r) => r.data)).toEqual([{ event: { type: 'chunk', gen: 1, text: ' c' }, requestId: expect.any(String) }]);
    // Numbered gaplessly: the records counted unwatched came before it, none is missing.
    const resumed: BusRecord[] = [];
    rt.events('session/s1', { since: { epoch: seen[0]!.epoch, seq: seen[0]!.seq - 1 } }).subscribe((r) => resumed.push(r)).unsubscribe();
    expect(resumed.map((r) => r.seq)).toEqual(seen.map((r) => r.seq));
    expect(seen.map((r) => r.seq)).toEqual(seen.map((_, i) => seen[0]!.seq + i));
    await rt.shutdown({ drain: false });
  });
});
