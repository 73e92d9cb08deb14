/**
 * What a session does with cancel, disconnect and close while its stream is being
 * cancelled (the first stream ignores its abort, so the session stays in `cancelling`
 * until the cleanup deadline fences it), recorded exactly on the bus; and what an answer
 * carries from the provider.
 */
import { describe, expect, it } from 'vitest';
import { sessionKind, type DisconnectPolicy, type SessionContext, type SessionEmitted, type SessionOptions } from '../../machines/session.js';
import { createRuntime, simulated, SimulatedClock, type BusRecord } from '../../src/index.js';
import type { Provider, ProviderChunk } from '../../src/providers/types.js';
import { outcome, track } from '../helpers/outcome.js';

const TEXT = 'a b c d e f g h';

function world(onDisconnect: DisconnectPolicy = 'cancel', opts: Partial<SessionOptions> = {}) {
  const clock = new SimulatedClock();
  const inner = simulated({ clock, tokensPerSecond: 10, text: TEXT });
  let calls = 0;
  const provider: Provider = {
    name: 'first-ignores-abort',
    stream: (request, signal) => inner.stream(request, ++calls === 1 ? new AbortController().signal : signal),
  };
  const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider, onDisconnect, ...opts }) } });
  const ref = rt.ref('session/1');
  const emitted: SessionEmitted[] = [];
  rt.events$.subscribe((r: BusRecord) => {
    if (r.type === 'emitted') emitted.push((r.data as { event: SessionEmitted }).event);
  });
  const ctx = () => ref.snapshot()?.context as SessionContext | undefined;
  const ignored = () => emitted.filter((e) => e.type === 'event.ignored');
  return { clock, rt, ref, emitted, ctx, ignored };
}

/** A waits in `cancelling` (it ignores its abort), B waits behind it. */
async function cancellingWithPending(onDisconnect: DisconnectPolicy = 'cancel', opts: Partial<SessionOptions> = {}) {
  const w = world(onDisconnect, opts);
  const a = track(w.ref.ask({ type: 'prompt', text: 'A' }));
  await w.clock.tick(250);
  const b = track(w.ref.ask({ type: 'prompt', text: 'B' }));
  await w.clock.tick(10);
  expect([w.ref.snapshot()!.value, w.ctx()!.pending?.prompt]).toEqual(['cancelling', 'B']);
  return { ...w, a, b, aId: w.ctx()!.active!.requestId!, bId: w.ctx()!.pending!.requestId! };
}

describe('session while cancelling', () => {
  it('ignores a cancel naming neither the waiting prompt nor nobody as already cancelling; a cancel naming the waiting prompt drops it', async () => {
    const { clock, rt, ref, ctx, emitted, ignored, a, b, aId, bId } = await cancellingWithPending();
    ref.tell({ type: 'cancel', requestId: 'nobody-here' });
    ref.tell({ type: 'cancel', requestId: aId });
    await clock.tick(10);
    expect(ignored()).toEqual([
      { type: 'event.ignored', event: 'cancel', reason: 'already cancelling' },
      { type: 'event.ignored', event: 'cancel', reason: 'already cancelling' },
    ]);
    expect(ctx()!.pending?.prompt).toBe('B');
    ref.tell({ type: 'cancel', requestId: bId });
    await clock.tick(10);
    expect(emitted.filter((e) => e.type === 'prompt.dropped')).toEqual([{ type: 'prompt.dropped', requestId: bId, reason: 'cancelled' }]);
    expect(ctx()!.pending).toBeUndefined();
    expect(await outcome(b)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } } });
    await clock.runAll();
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_SUPERSEDED' } });
    expect(ref.snapshot()!.value).toBe('idle');
    await rt.shutdown();
  });

  it('a cancel naming nobody drops the waiting prompt', async () => {
    const { clock, rt, ref, ctx, emitted, b, bId } = await cancellingWithPending();
    ref.tell({ type: 'cancel' });
    await clock.tick(10);
    expect(emitted.filter((e) => e.type === 'prompt.dropped')).toEqual([{ type: 'prompt.dropped', requestId: bId, reason: 'cancelled' }]);
    expect(ctx()!.pending).toBeUndefined();
    expect(await outcome(b)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } } });
    await clock.runAll();
    await rt.shutdown();
  });

  it('a disconnect naming nobody reaches the waiting prompt: cancel drops it, detach keeps it (recorded as the detach policy)', async () => {
    for (const policy of ['cancel', 'detach'] as const) {
      const { clock, rt, ref, ctx, emitted, ignored, b, bId } = await cancellingWithPending(policy);
      ref.tell({ type: 'disconnect' });
      await clock.tick(10);
      if (policy === 'cancel') {
        expect(emitted.filter((e) => e.type === 'prompt.dropped'), policy).toEqual([{ type: 'prompt.dropped', requestId: bId, reason: 'cancelled' }]);
        expect(ignored(), policy).toEqual([]);
        expect(ctx()!.pending, policy).toBeUndefined();
      } else {
        expect(ignored(), policy).toEqual([{ type: 'event.ignored', event: 'disconnect', reason: 'detach policy' }]);
        expect(ctx()!.pending?.prompt, policy).toBe('B');
      }
      await clock.runAll();
      expect(await outcome(b), policy).toMatchObject(policy === 'cancel' ? { status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED' } } : { status: 'fulfilled', value: { text: TEXT } });
      await rt.shutdown();
    }
  });

  it('records a disconnect of another request, and one of the stream already being cancelled, each with why it was ignored', async () => {
    const { clock, rt, ref, ctx, ignored, aId } = await cancellingWithPending();
    ref.tell({ type: 'disconnect', requestId: 'nobody-here' });
    ref.tell({ type: 'disconnect', requestId: aId });
    await clock.tick(10);
    expect(ignored()).toEqual([
      { type: 'event.ignored', event: 'disconnect', reason: 'not the active or waiting request' },
      { type: 'event.ignored', event: 'disconnect', reason: 'already cancelling' },
    ]);
    expect(ctx()!.pending?.prompt).toBe('B');
    await clock.runAll();
    await rt.shutdown();
  });

  it('with nothing waiting, a disconnect or cancel while cancelling is ignored as already cancelling, under both policies', async () => {
    for (const policy of ['cancel', 'detach'] as const) {
      const { clock, rt, ref, ctx, emitted, ignored } = world(policy);
      track(ref.ask({ type: 'prompt', text: 'A' }));
      await clock.tick(250);
      const aId = ctx()!.active!.requestId!;
      ref.tell({ type: 'cancel' });
      await clock.tick(10);
      expect([ref.snapshot()!.value, ctx()!.pending], policy).toEqual(['cancelling', undefined]);
      ref.tell({ type: 'disconnect' });
      ref.tell({ type: 'disconnect', requestId: aId });
      ref.tell({ type: 'cancel' });
      await clock.tick(10);
      expect(ignored(), policy).toEqual([
        { type: 'event.ignored', event: 'disconnect', reason: 'already cancelling' },
        { type: 'event.ignored', event: 'disconnect', reason: 'already cancelling' },
        { type: 'event.ignored', event: 'cancel', reason: 'already cancelling' },
      ]);
      expect(emitted.filter((e) => e.type === 'prompt.dropped'), policy).toEqual([]);
      await clock.runAll();
      await rt.shutdown();
    }
  });

  it('a close drops the waiting prompt (INTERLOCK_ACTOR_STOPPED, "the session was closed", as a running prompt is told) and the session closes once the stream ends', async () => {
    const { clock, rt, ref, ctx, emitted, a, b, bId } = await cancellingWithPending();
    ref.tell({ type: 'close' });
    await clock.tick(10);
    expect(emitted.filter((e) => e.type === 'prompt.dropped')).toEqual([{ type: 'prompt.dropped', requestId: bId, reason: 'cancelled' }]);
    const dropped = await outcome(b);
    expect(dropped).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_ACTOR_STOPPED', details: { reason: 'the session was closed' } } });
    expect((dropped as { reason: Error }).reason.message).not.toContain("caller's signal");
    await clock.tick(1_000);
    expect(emitted.filter((e) => e.type === 'stream.end')).toEqual([{ type: 'stream.end', gen: 1, requestId: expect.any(String), reason: 'interrupted' }]);
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_SUPERSEDED' } });
    // The closed session stopped: the address now holds a fresh one (no generation, no history).
    expect([ref.snapshot()!.value, ctx()!.gen, ctx()!.history]).toEqual(['idle', 0, []]);
    await rt.shutdown();
  });

  it('a close while cancelling with nothing waiting closes the session once the stream ends', async () => {
    const { clock, rt, ref, ctx, emitted } = world();
    const a = track(ref.ask({ type: 'prompt', text: 'A' }));
    await clock.tick(250);
    ref.tell({ type: 'cancel' });
    await clock.tick(10);
    expect([ref.snapshot()!.value, ctx()!.pending]).toEqual(['cancelling', undefined]);
    ref.tell({ type: 'close' });
    await clock.tick(0);
    // Taken while cancelling (not postponed until idle): the session will close when the stream ends.
    expect([ref.snapshot()!.value, ctx()!.closeAfter]).toEqual(['cancelling', true]);
    await clock.tick(1_000);
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { reason: 'cancel' } } });
    expect(emitted.filter((e) => e.type === 'stream.end').map((e) => (e as { reason: string }).reason)).toEqual(['cancelled']);
    // The closed session stopped: the address now holds a fresh one (no generation, no history).
    expect([ref.snapshot()!.value, ctx()!.gen, ctx()!.history]).toEqual(['idle', 0, []]);
    await rt.shutdown();
  });

  it('after a fence, the next prompt streams its whole answer under a task of its own', async () => {
    const { clock, rt, a, b, emitted } = await cancellingWithPending('cancel', { cleanupDeadlineMs: 100 });
    const tasks: unknown[] = [];
    rt.events$.subscribe((r: BusRecord) => {
      if (r.type === 'task.started') tasks.push((r.data as { task: string }).task);
    });
    await clock.runAll();
    expect(tasks).toEqual(['stream-2']);
    expect(emitted.filter((e) => e.type === 'stream.end').map((e) => [e.gen, (e as { reason: string }).reason])).toEqual([
      [1, 'fenced'],
      [2, 'done'],
    ]);
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_SUPERSEDED' } });
    expect(await outcome(b)).toMatchObject({ status: 'fulfilled', value: { text: TEXT, finishReason: 'stop' } });
    await rt.shutdown();
  });
});

describe('prompts while cancelling', () => {
  it('an interrupting or rolling-back prompt supersedes the waiting one (prompt.dropped superseded); an enqueued one waits its turn', async () => {
    for (const onBusy of ['interrupt', 'rollback'] as const) {
      const { clock, rt, ref, ctx, emitted, b, bId } = await cancellingWithPending();
      const c = track(ref.ask({ type: 'prompt', text: 'C', onBusy }));
      await clock.tick(10);
      expect(emitted.filter((e) => e.type === 'prompt.dropped'), onBusy).toEqual([{ type: 'prompt.dropped', requestId: bId, reason: 'superseded' }]);
      expect(ctx()!.pending?.prompt, onBusy).toBe('C');
      expect(await outcome(b), onBusy).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_SUPERSEDED' } });
      await clock.runAll();
      expect(await outcome(c), onBusy).toMatchObject({ status: 'fulfilled', value: { text: TEXT } });
      await rt.shutdown();
    }
    const { clock, rt, ref, ctx, emitted, b } = await cancellingWithPending();
    const c = track(ref.ask({ type: 'prompt', text: 'C', onBusy: 'enqueue' }));
    await clock.tick(10);
    expect(ctx()!.pending?.prompt).toBe('B');
    await clock.runAll();
    expect(emitted.filter((e) => e.type === 'prompt.dropped')).toEqual([]);
    expect(await outcome(b)).toMatchObject({ status: 'fulfilled', value: { text: TEXT } });
    expect(await outcome(c)).toMatchObject({ status: 'fulfilled', value: { text: TEXT } });
    await rt.shutdown();
  });

  it("a rejecting prompt is refused with INTERLOCK_BUSY (cancelling), and the cancelled stream's partial answer enters the history", async () => {
    const { clock, rt, ref, ctx, b } = await cancellingWithPending();
    const c = track(ref.ask({ type: 'prompt', text: 'C', onBusy: 'reject' }));
    await clock.tick(10);
    expect(await outcome(c)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_BUSY', details: { state: 'cancelling' }, message: expect.stringContaining("use the 'interrupt' or 'enqueue' policy") } });
    expect(ctx()!.pending?.prompt).toBe('B');
    await clock.runAll();
    expect(await outcome(b)).toMatchObject({ status: 'fulfilled' });
    // A ignored its abort and ran to its end, which the session keeps as A's answer.
    expect(ctx()!.history).toEqual([
      { role: 'user', content: 'A' },
      { role: 'assistant', content: TEXT },
      { role: 'user', content: 'B' },
      { role: 'assistant', content: TEXT },
    ]);
    await rt.shutdown();
  });

  it('behind a close, prompts of every policy wait (postponed) for the fresh session instead of superseding or being refused', async () => {
    const { clock, rt, ref, ctx } = world();
    const a = track(ref.ask({ type: 'prompt', text: 'A' }));
    await clock.tick(250);
    ref.tell({ type: 'close' });
    await clock.tick(10);
    expect([ref.snapshot()!.value, ctx()!.closeAfter]).toEqual(['cancelling', true]);
    const later = (['interrupt', 'reject'] as const).map((onBusy) => track(ref.ask({ type: 'prompt', text: onBusy, onBusy })));
    await clock.tick(10);
    expect(ctx()!.pending).toBeUndefined();
    expect(await Promise.all(later.map((p) => outcome(p)))).toEqual([{ status: 'pending' }, { status: 'pending' }]);
    await clock.runAll();
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_ACTOR_STOPPED' } });
    expect(await outcome(later[0]!)).toMatchObject({ status: 'fulfilled', value: { text: TEXT } });
    // The rejecting one meets the fresh session's stream, not the closing one.
    expect(await outcome(later[1]!)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_BUSY', details: { state: 'streaming' } } });
    await rt.shutdown();
  });
});

describe('session while streaming', () => {
  it('ignores a cancel naming another request, and the stream runs to its end', async () => {
    const { clock, rt, ref, ignored } = world();
    const a = track(ref.ask({ type: 'prompt', text: 'A' }));
    await clock.tick(250);
    ref.tell({ type: 'cancel', requestId: 'nobody-here' });
    await clock.runAll();
    expect(ignored()).toEqual([{ type: 'event.ignored', event: 'cancel', reason: 'not the active request' }]);
    expect(await outcome(a)).toMatchObject({ status: 'fulfilled', value: { text: TEXT } });
    await rt.shutdown();
  });
  it('a disconnect naming nobody cuts the running stream (policy cancel)', async () => {
    const w = world('cancel');
    const a = track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    // A ignores its abort, so the session waits in cancelling: the disconnect was not ignored.
    w.ref.tell({ type: 'disconnect' });
    await w.clock.tick(10);
    expect(w.ignored()).toEqual([]);
    expect(w.ref.snapshot()!.value).toBe('cancelling');
    await w.clock.runAll();
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { reason: 'disconnected' } } });
    await w.rt.shutdown();
  });
});

/** A provider that plays `chunks`, one per simulated 10 ms, and records what it was asked. */
function scripted(clock: SimulatedClock, chunks: (ProviderChunk | Error | 'throw undefined')[]) {
  const requests: unknown[] = [];
  const provider: Provider = {
    name: 'scripted',
    async *stream(request) {
      requests.push(request);
      for (const c of chunks) {
        await new Promise<void>((r) => clock.setTimeout(r, 10));
        if (c === 'throw undefined') throw undefined;
        if (c instanceof Error) throw c;
        yield c;
      }
    },
  };
  return { provider, requests };
}

describe('what an answer carries from the provider', () => {
  async function ask(chunks: Parameters<typeof scripted>[1], opts: Partial<SessionOptions> = {}) {
    const clock = new SimulatedClock();
    const { provider, requests } = scripted(clock, chunks);
    const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider, ...opts }) } });
    const ref = rt.ref('session/1');
    const emitted: SessionEmitted[] = [];
    rt.events$.subscribe((r: BusRecord) => {
      if (r.type === 'emitted') emitted.push((r.data as { event: SessionEmitted }).event);
    });
    const answer = track(ref.ask({ type: 'prompt', text: 'Q' }));
    await clock.runAll();
    const result = await outcome(answer);
    await rt.shutdown();
    return { result, requests, emitted };
  }

  it("the provider's finish reason, or 'stop' when it gives none", async () => {
    expect((await ask([{ type: 'delta', text: 'x' }, { type: 'done', finishReason: 'length' }])).result).toEqual({ status: 'fulfilled', value: { text: 'x', finishReason: 'length' } });
    expect((await ask([{ type: 'delta', text: 'x' }])).result).toEqual({ status: 'fulfilled', value: { text: 'x', finishReason: 'stop' } });
  });

  it("a provider's error rejects the ask with that same error, or 'stream failed' when it threw nothing; the stream ends with reason error", async () => {
    const boom = new Error('model down');
    const failed = await ask([{ type: 'delta', text: 'x' }, boom]);
    expect(failed.result).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_TURN_FAILED', cause: boom } });
    expect(failed.emitted.filter((e) => e.type === 'stream.end')).toEqual([{ type: 'stream.end', gen: 1, requestId: expect.any(String), reason: 'error' }]);
    const silent = await ask(['throw undefined']);
    expect(silent.result).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_TURN_FAILED', cause: { message: 'stream failed' } } });
  });

  it('sends the system prompt first, then the history', async () => {
    const { requests } = await ask([{ type: 'delta', text: 'x' }], { system: 'be brief' });
    expect(requests).toEqual([{ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'Q' }], model: undefined }]);
    const plain = await ask([{ type: 'delta', text: 'x' }]);
    expect(plain.requests).toEqual([{ messages: [{ role: 'user', content: 'Q' }], model: undefined }]);
  });
});
