/**
 * `disconnect { requestId }`: a client that went away reaches its own request's disconnect
 * policy (the session's `onDisconnect`, or the prompt's own), and nothing else. A
 * disconnect delivered late, after its request ended, never touches a newer one.
 */
import { describe, expect, it } from 'vitest';
import type { DisconnectPolicy } from '../../machines/session.js';
import { outcome, track } from '../helpers/outcome.js';
import { sessionWorld, TEXT } from './sessionWorld.js';

function world(onDisconnect: DisconnectPolicy, options: { ignoreAbort?: boolean } = {}) {
  return sessionWorld({ onDisconnect }, { ignoreFirstAbort: options.ignoreAbort });
}

describe('disconnect { requestId }', () => {
  it('under cancel, cuts the running stream of the named request: the abort reaches the provider, the ask rejects INTERLOCK_CANCELLED (disconnected)', async () => {
    const { clock, rt, ref, aborts, ctx } = world('cancel');
    const a = track(ref.ask({ type: 'prompt', text: 'A' }));
    await clock.tick(250);
    ref.tell({ type: 'disconnect', requestId: ctx().active!.requestId });
    await clock.runAll();
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { phase: 'running', reason: 'disconnected' } } });
    expect(aborts).toEqual([1]);
    expect(ctx().history.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(ctx().history[1]!.content).not.toBe(TEXT);
    await rt.shutdown();
  });

  it('under detach, lets the stream run to its end into the history, and says so with stream.detached', async () => {
    const { clock, rt, ref, aborts, emitted, ctx } = world('detach');
    const a = track(ref.ask({ type: 'prompt', text: 'A' }));
    await clock.tick(250);
    const requestId = ctx().active!.requestId;
    ref.tell({ type: 'disconnect', requestId });
    await clock.runAll();
    expect(await outcome(a)).toMatchObject({ status: 'fulfilled', value: { text: TEXT, finishReason: 'stop' } });
    expect(aborts).toEqual([]);
    expect(ctx().history).toEqual([
      { role: 'user', content: 'A' },
      { role: 'assistant', content: TEXT },
    ]);
    expect(emitted.filter((e) => e.type === 'stream.detached')).toEqual([{ type: 'stream.detached', gen: 1, requestId }]);
    await rt.shutdown();
  });

  it("a late disconnect of request A, delivered after B replaced A, leaves B's stream alone (both policies)", async () => {
    for (const policy of ['cancel', 'detach'] as const) {
      const { clock, rt, ref, aborts, emitted, ctx } = world(policy);
      const a = track(ref.ask({ type: 'prompt', text: 'A' }));
      await clock.tick(250);
      const aId = ctx().active!.requestId;
      const b = track(ref.ask({ type: 'prompt', text: 'B' }));
      await clock.tick(50);
      expect(ctx().active?.prompt, policy).toBe('B');
      ref.tell({ type: 'disconnect', requestId: aId });
      await clock.runAll();
      expect(await outcome(a), policy).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_SUPERSEDED' } });
      expect(await outcome(b), policy).toMatchObject({ status: 'fulfilled', value: { text: TEXT } });
      expect(aborts, policy).toEqual([1]);
      expect(emitted.filter((e) => e.type === 'event.ignored'), policy).toEqual([{ type: 'event.ignored', event: 'disconnect', reason: 'not the active request' }]);
      await rt.shutdown();
    }
  });

  it('names the prompt waiting behind a cancelled stream: cancel drops it (INTERLOCK_CANCELLED, queued), detach keeps it and it runs', async () => {
    for (const policy of ['cancel', 'detach'] as const) {
      // The first stream ignores its abort (seed 002's model call), so B waits in `cancelling` until A is fenced.
      const { clock, rt, ref, ctx } = world(policy, { ignoreAbort: true });
      const a = track(ref.ask({ type: 'prompt', text: 'A' }));
      await clock.tick(250);
      const b = track(ref.ask({ type: 'prompt', text: 'B' }));
      await clock.tick(10);
      expect([ref.snapshot()!.value, ctx().pending?.prompt], policy).toEqual(['cancelling', 'B']);
      ref.tell({ type: 'disconnect', requestId: ctx().pending!.requestId });
      await clock.tick(10);
      expect(ctx().pending?.prompt, policy).toBe(policy === 'cancel' ? undefined : 'B');
      await clock.runAll();
      expect(await outcome(a), policy).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_SUPERSEDED' } });
      expect(await outcome(b), policy).toMatchObject(
        policy === 'cancel' ? { status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } } } : { status: 'fulfilled', value: { text: TEXT } },
      );
      await rt.shutdown();
    }
  });

  it("a prompt's own onDisconnect overrides the session's", async () => {
    for (const [session, own] of [['cancel', 'detach'], ['detach', 'cancel']] as const) {
      const { clock, rt, ref, aborts, ctx } = world(session);
      const a = track(ref.ask({ type: 'prompt', text: 'A', onDisconnect: own }));
      await clock.tick(250);
      ref.tell({ type: 'disconnect', requestId: ctx().active!.requestId });
      await clock.runAll();
      expect(await outcome(a), `${session}/${own}`).toMatchObject(own === 'detach' ? { status: 'fulfilled', value: { text: TEXT } } : { status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED' } });
      expect(aborts.length, `${session}/${own}`).toBe(own === 'detach' ? 0 : 1);
      await rt.shutdown();
    }
  });

  it('refuses a prompt with an unknown onDisconnect, and a disconnect whose requestId is not a string, before they are queued', () => {
    const { rt, ref } = world('cancel');
    expect(() => ref.tell({ type: 'prompt', text: 'x', onDisconnect: 'later' } as never)).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT', message: expect.stringContaining('onDisconnect') }),
    );
    expect(() => ref.tell({ type: 'disconnect', requestId: 7 } as never)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT', message: expect.stringContaining('requestId') }));
    expect(rt.size).toBe(0);
  });
});
