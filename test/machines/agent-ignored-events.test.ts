/**
 * Every (state, event) pair the agent takes only to drop it, with its exact record. A pair
 * handled by a transition is taken in that state and recorded at once; without one (an
 * empty transition counts as not taken) the runtime would postpone the event and it would
 * be recorded, if ever, in a later state, with that state's reason.
 */
import { describe, expect, it } from 'vitest';
import type { AgentEmitted } from '../../machines/index.js';
import { agentWorld, type AgentWorld } from './agentWorld.js';

/**
 * Brings an agent on subscriptions A and B to `state`, at epoch 1 (one switch, A -> B, is
 * behind it), so epoch 0 is a stale one.
 */
async function agentIn(state: 'idle' | 'processing' | 'cancelling' | 'failed'): Promise<AgentWorld> {
  const w = agentWorld();
  w.ref.tell({ type: 'subscription.failed', epoch: 0 });
  await w.settle();
  if (state === 'failed') {
    // A is cooling down, so a failure of B leaves no viable subscription.
    w.ref.tell({ type: 'subscription.failed', epoch: 1 });
    await w.settle();
  }
  if (state === 'processing' || state === 'cancelling') {
    void w.ref.ask({ type: 'request', input: 'chat' }).catch(() => {}); // rejected at close
    await w.settle();
  }
  if (state === 'cancelling') {
    w.ref.tell({ type: 'cancel' });
    await w.settle();
    expect(w.works[0]!.signal.aborted).toBe(true); // the work ignores it: the agent stays cancelling
  }
  expect(w.state()).toBe(state);
  expect(w.ref.snapshot()!.context.epoch).toBe(1);
  return w;
}

const NO_EPOCH = 'no epoch: a failure report must name the epoch it happened under';
const ignored = (event: string, reason: string): AgentEmitted => ({ type: 'event.ignored', event, reason });
const stale: AgentEmitted = { type: 'failure.stale', epoch: 0, current: 1 };

const noEpochReport = { type: 'subscription.failed', reason: 'quota' };
const staleReport = { type: 'subscription.failed', epoch: 0, reason: 'quota' };

describe('events the agent drops, state by state: recorded at once, in the state that drops them', () => {
  it.each([
    ['idle', 'a report with no epoch', noEpochReport, ignored('subscription.failed', NO_EPOCH)],
    ['idle', 'a stale report', staleReport, stale],
    ['idle', 'a cancel', { type: 'cancel' }, ignored('cancel', 'no request running')],
    ['idle', 'a reset', { type: 'reset' }, ignored('reset', 'not failed')],
    ['processing', 'a report with no epoch', noEpochReport, ignored('subscription.failed', NO_EPOCH)],
    ['processing', 'a stale report', staleReport, stale],
    ['processing', 'a cancel naming another request', { type: 'cancel', requestId: 'someone-else' }, ignored('cancel', 'not the running request')],
    ['processing', 'a reset', { type: 'reset' }, ignored('reset', 'not failed')],
    ['cancelling', 'a second cancel', { type: 'cancel' }, ignored('cancel', 'already cancelling')],
    ['cancelling', 'a cancel naming another request', { type: 'cancel', requestId: 'someone-else' }, ignored('cancel', 'already cancelling')],
    ['failed', 'a report with no epoch', noEpochReport, ignored('subscription.failed', NO_EPOCH)],
    ['failed', 'a stale report', staleReport, stale],
    ['failed', 'a report of the current epoch', { type: 'subscription.failed', epoch: 1 }, { type: 'failure.stale', epoch: 1, current: 1 }],
    ['failed', 'a cancel', { type: 'cancel' }, ignored('cancel', 'failed')],
  ] as const)('%s drops %s', async (state, _, event, record) => {
    const w = await agentIn(state);
    const before = w.emitted().length;
    w.ref.tell(event as never);
    await w.settle();
    expect(w.emitted().slice(before)).toEqual([record]);
    expect(w.state()).toBe(state);
    expect(w.ref.snapshot()!.context.epoch).toBe(1);
    expect(w.records.filter((r) => r.type === 'mailbox.postponed')).toEqual([]);
    await w.close();
  });
});
