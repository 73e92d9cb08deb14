/**
 * How a request's life ends in the agent: a cancelled request is answered as soon as its
 * work stops (not at the cancel deadline), naming the `cancel` event that stopped it; work that outlives its deadline is fenced so the
 * next request runs alone, and a request that has ended is forgotten, so a later switch
 * (which re-runs the request it interrupted) runs nothing again.
 */
import { describe, expect, it } from 'vitest';
import { outcome, rejected, track } from '../helpers/outcome.js';
import { agentWorld, quota, type AgentWorld } from './agentWorld.js';

const code = (e: unknown) => (e as { code?: string }).code;

/** What the caller of a request cancelled by a `cancel` event is told. */
const CANCELLED_BY_EVENT = {
  code: 'INTERLOCK_CANCELLED',
  message: "Request to 'agent/a1' was cancelled by a 'cancel' event while running.",
  details: { phase: 'running', reason: 'cancel' },
};
const told = (e: unknown) => ({ code: code(e), message: (e as Error).message, details: (e as { details?: unknown }).details });

describe('a cancelled request', () => {
  it.each([
    ['finishes anyway', (w: AgentWorld) => w.works[0]!.finish('late')],
    ['fails on the abort', (w: AgentWorld) => w.works[0]!.failWith(new Error('aborted'))],
  ])('whose work %s is answered INTERLOCK_CANCELLED at once, and the agent takes the next request before the cancel deadline', async (_, stop) => {
    const w = agentWorld({ cancelDeadlineMs: 1_000 });
    const first = track(w.ref.ask({ type: 'request', input: 'one' }));
    await w.settle();
    w.ref.tell({ type: 'cancel' });
    await w.settle();
    expect(w.state()).toBe('cancelling');
    stop(w);
    expect(told(await rejected(first, w.clock))).toEqual(CANCELLED_BY_EVENT);
    expect(w.state()).toBe('idle');
    const second = w.ref.ask({ type: 'request', input: 'two' });
    await w.settle();
    expect(w.works.map((x) => x.input)).toEqual(['one', 'two']);
    w.works[1]!.finish('two done');
    expect(await outcome(second, w.clock)).toEqual({ status: 'fulfilled', value: 'two done' });
    expect(w.clock.now()).toBe(0);
    await w.close();
  });
});

describe('work that ignores its cancel', () => {
  it('of a told request is fenced at the cancel deadline: the next request runs, and the late output never answers it', async () => {
    const w = agentWorld({ cancelDeadlineMs: 1_000 });
    w.ref.tell({ type: 'request', input: 'told' });
    await w.settle();
    w.ref.tell({ type: 'cancel' });
    await w.clock.tick(1_000);
    expect(w.state()).toBe('idle');
    const next = w.ref.ask({ type: 'request', input: 'asked' });
    await w.settle();
    expect(w.state()).toBe('processing');
    expect(w.works.map((x) => x.input)).toEqual(['told', 'asked']);
    w.works[0]!.finish('late output of the told request');
    expect(await outcome(next, w.clock)).toEqual({ status: 'pending' });
    w.works[1]!.finish('asked done');
    expect(await outcome(next, w.clock)).toEqual({ status: 'fulfilled', value: 'asked done' });
    await w.close();
  });
});

describe('a request that has ended is forgotten: the next switch re-runs nothing', () => {
  /** After the request ended with the agent idle: a failure of the current subscription switches and restarts. */
  async function switchAfterwards(w: AgentWorld) {
    expect(w.state()).toBe('idle');
    w.ref.tell({ type: 'subscription.failed', epoch: w.ref.snapshot()!.context.epoch });
    await w.settle();
    expect(w.emitted().filter((e) => e.type === 'agent.restarted')).toHaveLength(1);
    expect(w.state()).toBe('idle');
    expect(w.works).toHaveLength(1);
    expect(w.ref.snapshot()!.context.inflight).toBeUndefined();
  }

  async function cancelled(w: AgentWorld) {
    const request = track(w.ref.ask({ type: 'request', input: 'chat' }));
    await w.settle();
    w.ref.tell({ type: 'cancel' });
    await w.settle();
    return { request }; // wrapped: an async function returning the promise would await it
  }

  it('after its work failed with an error that is not a subscription failure', async () => {
    const w = agentWorld({ subs: ['A', 'B', 'C'] });
    const request = w.ref.ask({ type: 'request', input: 'chat' });
    await w.settle();
    w.works[0]!.failWith(new Error('boom'));
    expect(code(await rejected(request, w.clock))).toBe('INTERLOCK_TURN_FAILED');
    await switchAfterwards(w);
    await w.close();
  });

  it.each([
    ['its work finished', (w: AgentWorld) => w.works[0]!.finish('late')],
    ['its work failed', (w: AgentWorld) => w.works[0]!.failWith(new Error('aborted'))],
    ['the cancel deadline passed', (w: AgentWorld) => w.clock.tick(1_000)],
  ])('after it was cancelled and %s', async (_, stop) => {
    const w = agentWorld({ subs: ['A', 'B', 'C'], cancelDeadlineMs: 1_000 });
    const { request } = await cancelled(w);
    await stop(w);
    expect(told(await rejected(request, w.clock))).toEqual(CANCELLED_BY_EVENT);
    await switchAfterwards(w);
    await w.close();
  });

  it('after the agent failed under it, once a reset has restarted the backend', async () => {
    let restarts = 0;
    const w = agentWorld({ restartAttempts: 1, restart: () => (++restarts === 1 ? Promise.reject(new Error('no backend')) : Promise.resolve()) });
    const request = w.ref.ask({ type: 'request', input: 'chat' });
    await w.settle();
    w.works[0]!.failWith(quota());
    expect(code(await rejected(request, w.clock))).toBe('INTERLOCK_AGENT_UNAVAILABLE');
    expect(w.state()).toBe('failed');
    w.ref.tell({ type: 'reset' });
    await w.settle();
    expect(restarts).toBe(2);
    expect(w.state()).toBe('idle');
    expect(w.works).toHaveLength(1);
    expect(w.ref.snapshot()!.context.inflight).toBeUndefined();
    await w.close();
  });
});
