/**
 * A waiting prompt dropped by a `cancel` or by its client's `disconnect` tells its caller
 * which, by `details.reason` and in the message (docs/machines.md, "What a prompt answers"),
 * not "cancelled by its caller's signal": its caller did nothing.
 */
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../machines/session.js';
import { outcome, track } from '../helpers/outcome.js';
import { sessionWorld } from './sessionWorld.js';

type Row = [how: string, event: (pending: string) => SessionEvent, reason: string, message: string];

const rows: Row[] = [
  ['a cancel naming it', (id) => ({ type: 'cancel', requestId: id }), 'cancel', "was cancelled by a 'cancel' event while queued."],
  ['a cancel naming nobody', () => ({ type: 'cancel' }), 'cancel', "was cancelled by a 'cancel' event while queued."],
  ['a disconnect naming it', (id) => ({ type: 'disconnect', requestId: id }), 'disconnected', 'was cancelled while queued because its client disconnected.'],
  ['a disconnect naming nobody', () => ({ type: 'disconnect' }), 'disconnected', 'was cancelled while queued because its client disconnected.'],
];

describe('a waiting prompt dropped while the stream ahead is cancelled', () => {
  it.each(rows)('by %s: INTERLOCK_CANCELLED, queued, with the reason and a message saying it', async (_how, event, reason, message) => {
    const w = sessionWorld({}, { ignoreFirstAbort: true });
    track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    const b = track(w.ref.ask({ type: 'prompt', text: 'B' }));
    await w.clock.tick(10);
    const bId = w.ctx().pending!.requestId!;
    w.ref.tell(event(bId));
    await w.clock.tick(1);
    expect(w.ofType('prompt.dropped')).toEqual([{ type: 'prompt.dropped', requestId: bId, reason: 'cancelled' }]);
    const o = await outcome(b);
    expect(o).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { phase: 'queued', reason } } });
    expect((o as { reason: Error }).reason.message).toBe(`Request to 'session/1' ${message}`);
    await w.clock.runAll();
    await w.rt.shutdown();
  });
});
