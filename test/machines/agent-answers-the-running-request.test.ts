/**
 * The agent answers the request it is running, never an ask it ignored meanwhile. An ask
 * the agent takes without answering (a `reset` while processing, a `cancel` while failed)
 * stays open as the runtime's current turn; an answer addressed to "the current turn"
 * instead of to the request in flight would go to that ask and leave the request waiting.
 */
import { describe, expect, it } from 'vitest';
import { outcome, rejected } from '../helpers/outcome.js';
import { agentWorld, quota, type AgentWorld } from './agentWorld.js';

/** Starts a request, then has the agent ignore an asked `reset` while it runs (its turn stays open). */
async function requestThenIgnoredAsk(w: AgentWorld) {
  const request = w.ref.ask({ type: 'request', input: 'chat' });
  await w.settle();
  const ignored = w.ref.ask({ type: 'reset' });
  await w.settle();
  expect(w.emitted()).toEqual([{ type: 'event.ignored', event: 'reset', reason: 'not failed' }]);
  expect(await outcome(ignored, w.clock)).toEqual({ status: 'pending' });
  return { request, ignored };
}

const coded = (e: unknown) => ({ code: (e as { code?: string }).code, message: (e as Error).message });

describe('the agent answers the request in flight, not an ask it ignored after it', () => {
  it("answers the request with handle's output", async () => {
    const w = agentWorld();
    const { request, ignored } = await requestThenIgnoredAsk(w);
    w.works[0]!.finish('done');
    expect(await outcome(request, w.clock)).toEqual({ status: 'fulfilled', value: 'done' });
    expect(await outcome(ignored, w.clock)).toEqual({ status: 'pending' });
    await w.close();
  });

  it("fails the request with handle's error (INTERLOCK_TURN_FAILED naming it)", async () => {
    const w = agentWorld();
    const { request, ignored } = await requestThenIgnoredAsk(w);
    w.works[0]!.failWith(new Error('boom'));
    expect(coded(await rejected(request, w.clock))).toEqual({ code: 'INTERLOCK_TURN_FAILED', message: "Actor 'agent/a1' answered with an error: boom." });
    expect(await outcome(ignored, w.clock)).toEqual({ status: 'pending' });
    await w.close();
  });

  it('answers a cancelled request INTERLOCK_CANCELLED', async () => {
    const w = agentWorld();
    const { request, ignored } = await requestThenIgnoredAsk(w);
    w.ref.tell({ type: 'cancel' });
    await w.settle();
    expect(w.works[0]!.signal.aborted).toBe(true);
    w.works[0]!.failWith(new Error('aborted'));
    expect(coded(await rejected(request, w.clock))).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(await outcome(ignored, w.clock)).toEqual({ status: 'pending' });
    await w.close();
  });

  it('answers the request INTERLOCK_AGENT_UNAVAILABLE naming why when its failure leaves the agent failed', async () => {
    const w = agentWorld({ restartAttempts: 1, restart: () => Promise.reject(new Error('no backend')) });
    const { request, ignored } = await requestThenIgnoredAsk(w);
    w.works[0]!.failWith(quota());
    const error = coded(await rejected(request, w.clock));
    expect(w.state()).toBe('failed');
    expect(error).toEqual({
      code: 'INTERLOCK_AGENT_UNAVAILABLE',
      message: "Agent 'agent/a1' is failed (backend restart failed). Fix the subscriptions or the backend, then send it a 'reset' event.",
    });
    expect(await outcome(ignored, w.clock)).toEqual({ status: 'pending' });
    await w.close();
  });

  it('answers the request INTERLOCK_RETRY_EXHAUSTED naming the subscription it switched to when its retry fails too', async () => {
    const w = agentWorld({ subs: ['A', 'B', 'C'] });
    const { request, ignored } = await requestThenIgnoredAsk(w);
    w.works[0]!.failWith(quota());
    await w.settle();
    expect(w.works.map((x) => `${x.input}@${x.subscription}`)).toEqual(['chat@A', 'chat@B']);
    w.works[1]!.failWith(quota());
    const error = coded(await rejected(request, w.clock));
    expect(error.code).toBe('INTERLOCK_RETRY_EXHAUSTED');
    expect(error.message).toContain("its subscription failed again; the agent switched to 'C'");
    expect(error.message).toContain('resend it if it is still wanted');
    expect(await outcome(ignored, w.clock)).toEqual({ status: 'pending' });
    await w.close();
  });
});

describe('a failed agent rejects requests', () => {
  it('rejects an asked request INTERLOCK_AGENT_UNAVAILABLE, and a told one rejects nobody else (not an ignored ask)', async () => {
    const w = agentWorld({ subs: ['A'] });
    w.ref.tell({ type: 'subscription.failed', epoch: 0 });
    await w.settle();
    expect(w.state()).toBe('failed');
    const ignored = w.ref.ask({ type: 'cancel' });
    await w.settle();
    w.ref.tell({ type: 'request', input: 'told' });
    await w.settle();
    expect(w.emitted().slice(1)).toEqual([{ type: 'event.ignored', event: 'cancel', reason: 'failed' }]);
    expect(await outcome(ignored, w.clock)).toEqual({ status: 'pending' });
    const asked = w.ref.ask({ type: 'request', input: 'asked' });
    expect(coded(await rejected(asked, w.clock))).toEqual({
      code: 'INTERLOCK_AGENT_UNAVAILABLE',
      message: "Agent 'agent/a1' is failed (no viable subscription). Fix the subscriptions or the backend, then send it a 'reset' event.",
    });
    expect(await outcome(ignored, w.clock)).toEqual({ status: 'pending' });
    expect(w.works).toEqual([]);
    await w.close();
  });
});
