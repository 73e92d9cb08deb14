import { describe, expect, it } from 'vitest';
import type { EventObject } from 'xstate';
import { sessionMachine, type SessionEmitted } from '../../machines/session.js';
import { createRuntime, SimulatedClock, type BusRecord } from '../../src/index.js';
import { simulated } from '../../src/providers/simulated.js';
import type { Provider } from '../../src/providers/types.js';

/** A provider that never closes when aborted, like seed 002's blocking Ollama call. */
function stubborn(clock: SimulatedClock, tokens = 1000): Provider {
  return {
    name: 'stubborn',
    async *stream() {
      for (let i = 0; i < tokens; i++) {
        await new Promise<void>((r) => clock.setTimeout(r, 10));
        yield { type: 'delta', text: `s${i} ` };
      }
      yield { type: 'done', finishReason: 'stop' };
    },
  };
}

function setupSession(provider: (clock: SimulatedClock) => Provider, opts: Partial<Parameters<typeof sessionMachine>[0]> = {}) {
  const clock = new SimulatedClock();
  const machine = sessionMachine({ provider: provider(clock), ...opts });
  const rt = createRuntime({ clock, kinds: { session: { machine, cancelEvent: 'cancel' } } });
  const emitted: { requestId?: string; event: SessionEmitted }[] = [];
  rt.events$.subscribe((r: BusRecord) => {
    if (r.type === 'emitted') emitted.push(r.data as { requestId?: string; event: SessionEmitted });
  });
  return { clock, rt, emitted, ref: rt.ref('session/u1') };
}

const collect = (events: EventObject[]) => (e: EventObject) => events.push(e);

describe('session machine', () => {
  it('streams a prompt to its caller and completes with reason done', async () => {
    const { clock, rt, ref } = setupSession((c) => simulated({ clock: c, tokensPerSecond: 100, text: 'one two three' }));
    const events: EventObject[] = [];
    const done = new Promise<void>((resolve, reject) => ref.stream({ type: 'prompt', text: 'hi' }).subscribe({ next: collect(events), complete: resolve, error: reject }));
    await clock.runAll();
    await done;
    expect(events.map((e) => e.type)).toEqual(['stream.started', 'chunk', 'chunk', 'chunk', 'stream.end']);
    expect(events.map((e) => (e as { text?: string }).text ?? '').join('')).toBe('one two three');
    expect(ref.snapshot()!.value).toBe('idle');
    expect(ref.snapshot()!.context.history).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'one two three' },
    ]);
    await rt.shutdown();
  });

  it('interrupts: B starts only after A reported closed, and A…A-end precedes B…', async () => {
    const { clock, rt, ref, emitted } = setupSession((c) => simulated({ clock: c, tokensPerSecond: 10, text: 'a b c d e f g h' }));
    const a: EventObject[] = [];
    const b: EventObject[] = [];
    ref.stream({ type: 'prompt', text: 'A' }).subscribe({ next: collect(a), error: () => {} });
    await clock.tick(250);
    const bDone = new Promise<void>((resolve) => ref.stream({ type: 'prompt', text: 'B' }).subscribe({ next: collect(b), complete: resolve }));
    await clock.runAll();
    await bDone;
    expect(a.at(-1)).toMatchObject({ type: 'stream.end', reason: 'interrupted', gen: 1 });
    expect(b[0]).toMatchObject({ type: 'stream.started', gen: 2 });
    const order = emitted.map((e) => (e.event as { gen?: number }).gen);
    const lastA = order.lastIndexOf(1);
    const firstB = order.indexOf(2);
    expect(lastA).toBeLessThan(firstB);
    await rt.shutdown();
  });

  it('fences a stream that does not close within the cleanup deadline; its late chunks never reach anyone', async () => {
    const { clock, rt, ref, emitted } = setupSession((c) => stubborn(c), { cleanupDeadlineMs: 2_000 });
    const a: EventObject[] = [];
    const b: EventObject[] = [];
    ref.stream({ type: 'prompt', text: 'A' }).subscribe({ next: collect(a), error: () => {} });
    await clock.tick(100);
    ref.stream({ type: 'prompt', text: 'B' }).subscribe({ next: collect(b), error: () => {} });
    await clock.tick(1_999);
    expect(ref.snapshot()!.value).toBe('cancelling');
    await clock.tick(1);
    expect(a.slice(-2).map((e) => e.type)).toEqual(['stream.fenced', 'stream.end']);
    expect(ref.snapshot()!.value).toBe('streaming');
    await clock.tick(500);
    // Only gen 2 chunks after the fence.
    const afterFence = emitted.slice(emitted.findIndex((e) => e.event.type === 'stream.fenced'));
    expect(afterFence.filter((e) => e.event.type === 'chunk').every((e) => (e.event as { gen: number }).gen === 2)).toBe(true);
    expect(b.some((e) => e.type === 'chunk')).toBe(true);
    await rt.shutdown({ drain: false });
  });

  it('latest wins: a third prompt during cancelling supersedes the second with a coded error', async () => {
    const { clock, rt, ref } = setupSession((c) => stubborn(c), { cleanupDeadlineMs: 1_000 });
    ref.stream({ type: 'prompt', text: 'A' }).subscribe({ error: () => {} });
    await clock.tick(50);
    const bErr = new Promise((resolve) => ref.stream({ type: 'prompt', text: 'B' }).subscribe({ error: resolve }));
    await clock.tick(10);
    const c: EventObject[] = [];
    ref.stream({ type: 'prompt', text: 'C' }).subscribe({ next: collect(c), error: () => {} });
    expect(await bErr).toMatchObject({ code: 'INTERLOCK_SUPERSEDED' });
    await clock.tick(1_000);
    expect(c[0]).toMatchObject({ type: 'stream.started', gen: 2 });
    await rt.shutdown({ drain: false });
  });

  it("rejects a prompt while busy with INTERLOCK_BUSY under the 'reject' policy, and queues it under 'enqueue'", async () => {
    const r = setupSession((c) => simulated({ clock: c, tokensPerSecond: 10, text: 'x y z' }), { onBusy: 'reject' });
    r.ref.stream({ type: 'prompt', text: 'A' }).subscribe({ error: () => {} });
    await r.clock.tick(50);
    await expect(r.ref.ask({ type: 'prompt', text: 'B' })).rejects.toMatchObject({ code: 'INTERLOCK_BUSY' });
    await r.rt.shutdown({ drain: false });

    const q = setupSession((c) => simulated({ clock: c, tokensPerSecond: 10, text: 'x y z' }), { onBusy: 'enqueue' });
    const first = q.ref.ask({ type: 'prompt', text: 'A' });
    const second = q.ref.ask({ type: 'prompt', text: 'B' });
    await q.clock.runAll();
    expect(await first).toMatchObject({ gen: 1, reason: 'done' });
    expect(await second).toMatchObject({ gen: 2, reason: 'done' });
    await q.rt.shutdown();
  });

  it('cancels on disconnect by default and keeps streaming when detached', async () => {
    const c = setupSession((k) => simulated({ clock: k, tokensPerSecond: 10, text: 'x y z w' }));
    const a = c.ref.ask({ type: 'prompt', text: 'A' });
    await c.clock.tick(150);
    c.ref.tell({ type: 'disconnect' });
    await c.clock.runAll();
    expect(await a).toMatchObject({ reason: 'disconnected' });
    await c.rt.shutdown();

    const d = setupSession((k) => simulated({ clock: k, tokensPerSecond: 10, text: 'x y z w' }), { onDisconnect: 'detach' });
    const b = d.ref.ask({ type: 'prompt', text: 'A' });
    await d.clock.tick(150);
    d.ref.tell({ type: 'disconnect' });
    await d.clock.runAll();
    expect(await b).toMatchObject({ reason: 'done' });
    await d.rt.shutdown();
  });

  it("cancels the running stream when its subscriber unsubscribes (the runtime's cancel event)", async () => {
    const { clock, rt, ref } = setupSession((c) => simulated({ clock: c, tokensPerSecond: 10, text: 'x y z w' }));
    const sub = ref.stream({ type: 'prompt', text: 'A' }).subscribe({ error: () => {} });
    await clock.tick(150);
    sub.unsubscribe();
    await clock.runAll();
    expect(ref.snapshot()!.value).toBe('idle');
    expect(ref.snapshot()!.context.gen).toBe(1);
    await rt.shutdown();
  });
});
