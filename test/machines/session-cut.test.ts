/**
 * Every way a running stream is cut short (an interrupting or rolling-back prompt, a
 * cancel, a disconnect under the cancel policy, a close) aborts it then and there, not at
 * its natural end (800 ms) nor at the cleanup deadline (2,000 ms); the stream ends with
 * the reason, and its caller hears why by code and by a message saying what happened.
 */
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../machines/session.js';
import { outcome, track } from '../helpers/outcome.js';
import { sessionWorld } from './sessionWorld.js';

type Row = [cut: string, event: SessionEvent, reason: string, code: string, details: Record<string, unknown>, message: string];

const rows: Row[] = [
  ['an interrupting prompt', { type: 'prompt', text: 'B', onBusy: 'interrupt' }, 'interrupted', 'INTERLOCK_SUPERSEDED', { phase: 'running', rolledBack: false }, 'superseded by a newer one while it ran: its stream was interrupted.'],
  ['a rolling-back prompt', { type: 'prompt', text: 'B', onBusy: 'rollback' }, 'rolledback', 'INTERLOCK_SUPERSEDED', { phase: 'running', rolledBack: true }, 'and the turn removed from the history (rollback)'],
  ['a cancel', { type: 'cancel' }, 'cancelled', 'INTERLOCK_CANCELLED', { phase: 'running', reason: 'cancel' }, "cancelled by a 'cancel' event while running"],
  ['a disconnect', { type: 'disconnect' }, 'disconnected', 'INTERLOCK_CANCELLED', { phase: 'running', reason: 'disconnected' }, 'cancelled while running because its client disconnected'],
  ['a close', { type: 'close' }, 'closed', 'INTERLOCK_ACTOR_STOPPED', { reason: 'the session was closed' }, 'stopped (the session was closed) before answering'],
];

describe('cutting a running stream short', () => {
  it.each(rows)('%s aborts it at once, ends it with its reason, and rejects its ask saying why', async (_cut, event, reason, code, details, message) => {
    const w = sessionWorld();
    const a = track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    const aId = w.ctx().active!.requestId;
    w.ref.tell(event);
    await w.clock.tick(1);
    expect(w.aborts).toEqual([1]);
    expect(w.ofType('stream.end').filter((e) => e.gen === 1)).toEqual([{ type: 'stream.end', gen: 1, requestId: aId, reason }]);
    const o = await outcome(a);
    expect(o).toMatchObject({ status: 'rejected', reason: { code, details } });
    expect((o as { reason: Error }).reason.message).toContain(message);
    await w.clock.runAll();
    await w.rt.shutdown();
  });
});
