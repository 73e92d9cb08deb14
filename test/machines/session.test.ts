import { describe, expect, it } from 'vitest';
import type { EventObject } from 'xstate';
import { sessionKind, sessionMachine, type SessionEmitted } from '../../machines/session.js';
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
    expect(await first).toEqual({ text: 'x y z', finishReason: 'stop', usage: expect.objectContaining({ completionTokens: 3 }) });
    expect(await second).toMatchObject({ text: 'x y z', finishReason: 'stop' });
    await q.rt.shutdown();
  });

  it('cancels on disconnect by default and keeps streaming when detached', async () => {
    const c = setupSession((k) => simulated({ clock: k, tokensPerSecond: 10, text: 'x y z w' }));
    const a = c.ref.ask({ type: 'prompt', text: 'A' }).catch((e: unknown) => e);
    await c.clock.tick(150);
    c.ref.tell({ type: 'disconnect' });
    await c.clock.runAll();
    expect(await a).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running', reason: 'disconnected' } });
    await c.rt.shutdown();

    const d = setupSession((k) => simulated({ clock: k, tokensPerSecond: 10, text: 'x y z w' }), { onDisconnect: 'detach' });
    const b = d.ref.ask({ type: 'prompt', text: 'A' });
    await d.clock.tick(150);
    d.ref.tell({ type: 'disconnect' });
    await d.clock.runAll();
    expect(await b).toMatchObject({ text: 'x y z w', finishReason: 'stop' });
    await d.rt.shutdown();
  });

  it("cancels the running stream when its subscriber unsubscribes (the runtime's cancel event)", async () => {
    // A provider that records its abort; it would stream 100 tokens if left alone.
    let aborted = false;
    const { clock, rt, ref, emitted } = setupSession((c) => {
      const inner = simulated({ clock: c, tokensPerSecond: 10, text: Array.from({ length: 100 }, (_, i) => `t${i}`).join(' ') });
      return {
        name: 'recording',
        stream: (req, signal) => {
          signal.addEventListener('abort', () => (aborted = true), { once: true });
          return inner.stream(req, signal);
        },
      };
    });
    const sub = ref.stream({ type: 'prompt', text: 'A' }).subscribe({ error: () => {} });
    await clock.tick(250);
    sub.unsubscribe();
    await clock.tick(0);
    expect(aborted).toBe(true);
    await clock.runAll();
    expect(ref.snapshot()!.value).toBe('idle');
    expect(emitted.map((e) => e.event).filter((e) => e.type === 'stream.end')).toEqual([{ type: 'stream.end', gen: 1, requestId: expect.any(String), reason: 'cancelled' }]);
    expect(emitted.filter((e) => e.event.type === 'chunk').length).toBeLessThan(10);
    // The partial answer is kept, not the 100 tokens.
    expect(ref.snapshot()!.context.history.at(-1)!.content.split(' ').length).toBeLessThan(10);
    await rt.shutdown();
  });
});

describe('session: what a prompt answers', () => {
  it('resolves an ask with the answer and usage; a running prompt that is interrupted rejects with INTERLOCK_SUPERSEDED while its stream completes', async () => {
    const { clock, rt, ref } = setupSession((c) => simulated({ clock: c, tokensPerSecond: 10, text: 'a b c d e f' }));
    const a = ref.ask({ type: 'prompt', text: 'A' }).catch((e: unknown) => e);
    const streamed: EventObject[] = [];
    let completed = false;
    ref.stream({ type: 'prompt', text: 'S' }, {}).subscribe({ next: collect(streamed), complete: () => (completed = true), error: () => {} });
    await clock.tick(150);
    const c = ref.ask({ type: 'prompt', text: 'C' });
    await clock.runAll();
    // S interrupted A while it ran, then C interrupted S: A and S are cut off, C answers.
    expect(await a).toMatchObject({ code: 'INTERLOCK_SUPERSEDED', details: { phase: 'running', rolledBack: false } });
    expect(completed).toBe(true);
    expect(streamed.at(-1)).toMatchObject({ type: 'stream.end', reason: 'interrupted' });
    expect(await c).toEqual({ text: 'a b c d e f', finishReason: 'stop', usage: { promptTokens: expect.any(Number), completionTokens: 6 } });
    await rt.shutdown();
  });

  it("rejects a cancelled prompt's ask with INTERLOCK_CANCELLED and a closed session's with INTERLOCK_ACTOR_STOPPED", async () => {
    const { clock, rt, ref } = setupSession((c) => simulated({ clock: c, tokensPerSecond: 10, text: 'x y z w' }));
    const a = ref.ask({ type: 'prompt', text: 'A' }).catch((e: unknown) => e);
    await clock.tick(150);
    ref.tell({ type: 'cancel' });
    await clock.runAll();
    expect(await a).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { phase: 'running', reason: 'cancel' } });
    const b = ref.ask({ type: 'prompt', text: 'B' }).catch((e: unknown) => e);
    await clock.tick(150);
    ref.tell({ type: 'close' });
    await clock.runAll();
    expect(await b).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED', message: expect.stringContaining('the session was closed') });
    await rt.shutdown();
  });

  it('answers a fenced prompt by why it was cut off: an interrupted one that ignored its abort is superseded, its stream ends fenced', async () => {
    const { clock, rt, ref } = setupSession((c) => stubborn(c), { cleanupDeadlineMs: 1_000 });
    const a = ref.ask({ type: 'prompt', text: 'A' }).catch((e: unknown) => e);
    await clock.tick(50);
    ref.stream({ type: 'prompt', text: 'B' }).subscribe({ error: () => {} });
    await clock.tick(1_000);
    expect(await a).toMatchObject({ code: 'INTERLOCK_SUPERSEDED', details: { phase: 'running' } });
    await rt.shutdown({ drain: false });
  });
});

describe("session: onBusy 'rollback'", () => {
  it('interrupts the running stream and removes its turn from the history, so the next prompt starts from the history as it was', async () => {
    const requests: string[][] = [];
    const { clock, rt, ref } = setupSession(
      (c) => {
        const inner = simulated({ clock: c, tokensPerSecond: 10, text: 'one two three four' });
        return {
          name: 'recording',
          stream: (req, signal) => {
            requests.push(req.messages.map((m) => `${m.role}:${m.content}`));
            return inner.stream(req, signal);
          },
        };
      },
      { onBusy: 'rollback' },
    );
    const first = ref.ask({ type: 'prompt', text: 'first' });
    await clock.runAll();
    expect(await first).toMatchObject({ text: 'one two three four' });
    const before = ref.snapshot()!.context.history as { role: string; content: string }[];
    const b = ref.ask({ type: 'prompt', text: 'second' }).catch((e: unknown) => e);
    await clock.tick(250); // 'second' has streamed part of its answer
    expect(ref.snapshot()!.context.history).toHaveLength(3);
    const c = ref.ask({ type: 'prompt', text: 'third' });
    await clock.runAll();
    expect(await b).toMatchObject({ code: 'INTERLOCK_SUPERSEDED', details: { phase: 'running', rolledBack: true } });
    expect(await c).toMatchObject({ text: 'one two three four' });
    // 'third' was sent the history as it was before 'second', and 'second' left no trace.
    expect(requests[2]).toEqual([...before.map((m: { role: string; content: string }) => `${m.role}:${m.content}`), 'user:third']);
    expect(ref.snapshot()!.context.history).toEqual([...before, { role: 'user', content: 'third' }, { role: 'assistant', content: 'one two three four' }]);
    await rt.shutdown();
  });

  it('rolls back a stream that ignores its abort too: fenced at the deadline, its partial answer never enters the history', async () => {
    const { clock, rt, ref } = setupSession((c) => stubborn(c, 5), { onBusy: 'rollback', cleanupDeadlineMs: 500 });
    ref.ask({ type: 'prompt', text: 'A' }).catch(() => {});
    await clock.tick(25);
    const b = ref.ask({ type: 'prompt', text: 'B' });
    await clock.runAll();
    expect(await b).toMatchObject({ finishReason: 'stop' });
    expect(ref.snapshot()!.context.history.map((m: { content: string }) => m.content)).toEqual(['B', 's0 s1 s2 s3 s4 ']);
    await rt.shutdown({ drain: false });
  });
});

describe('session: issue 6 regressions', () => {
  it('drops every chunk of a told prompt (no turn to end) once its stream is fenced: nothing of gen 1 reaches the bus after stream.fenced', async () => {
    const { clock, rt, ref, emitted } = setupSession((c) => stubborn(c), { cleanupDeadlineMs: 1_000 });
    ref.tell({ type: 'prompt', text: 'A' });
    await clock.tick(100);
    ref.tell({ type: 'cancel' });
    await clock.tick(1_000);
    const fencedAt = emitted.findIndex((e) => e.event.type === 'stream.fenced');
    expect(fencedAt).toBeGreaterThan(0);
    await clock.tick(2_000); // the stubborn stream goes on producing
    expect(emitted.slice(fencedAt).filter((e) => e.event.type === 'chunk')).toEqual([]);
    expect(emitted.slice(0, fencedAt).filter((e) => e.event.type === 'chunk').length).toBeGreaterThan(0);
    await rt.shutdown({ drain: false });
  });
});

describe('sessionKind()', () => {
  it('refuses at createRuntime a hand-built session kind without its cancel event', () => {
    const machine = sessionMachine({ provider: simulated({ tokensPerSecond: 10 }) });
    expect(() => createRuntime({ kinds: { session: { machine } } })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_KIND', message: expect.stringContaining("needs cancelEvent 'cancel'") }),
    );
  });

  it('sets the cancel event, the control lane and a view without prompt or answer text', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider: simulated({ clock, tokensPerSecond: 10, text: 'secret answer' }) }) } });
    expect(rt.kinds()).toEqual([expect.objectContaining({ name: 'session', cancelEvent: 'cancel', terminal: ['stream.end'] })]);
    const records: BusRecord[] = [];
    rt.events$.subscribe((r) => records.push(r));
    const ref = rt.ref('session/u1');
    const answer = ref.ask({ type: 'prompt', text: 'my private prompt' });
    await clock.runAll();
    expect(await answer).toMatchObject({ text: 'secret answer' });
    expect(rt.view('session/u1')!.context).toEqual({ gen: 1, active: undefined, pending: undefined, messages: 2, closing: false });
    const snapshots = JSON.stringify(records.filter((r) => r.type === 'snapshot'));
    expect(snapshots).not.toContain('my private prompt');
    expect(snapshots).not.toContain('secret answer');
    await rt.shutdown();
  });

  it('refuses bad options with INTERLOCK_INVALID_CONFIG', () => {
    const provider = simulated({ tokensPerSecond: 10 });
    expect(() => sessionMachine({ provider, cleanupDeadlineMs: 0 })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }));
    expect(() => sessionMachine({ provider, onBusy: 'drop' as never })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }));
  });
});
