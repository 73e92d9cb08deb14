/** What the timeline says a record means (inspector/src/records.ts summarize). */
import { describe, expect, it } from 'vitest';
import { stateLabel, summarize, type Rec } from '../../inspector/src/records.js';

const rec = (type: string, data: unknown): Rec => ({ address: 'session/a', epoch: 1, seq: 1, type, data });

describe('summarize', () => {
  it('says what each kind of record means', () => {
    expect(summarize(rec('emitted', { event: { type: 'stream.end', gen: 1, reason: 'interrupted' } }))).toBe('stream.end interrupted (superseded)');
    expect(summarize(rec('emitted', { event: { type: 'chunk', text: 'x' } }))).toBe('chunk');
    expect(summarize(rec('snapshot', { value: { running: 'saving' }, status: 'active' }))).toBe('→ running.saving');
    expect(summarize(rec('snapshot', { value: 'failed', status: 'error' }))).toBe('→ failed (error)');
    expect(summarize(rec('mailbox.rejected', { id: '3', type: 'prompt', code: 'INTERLOCK_DEADLINE_EXCEEDED' }))).toBe('prompt INTERLOCK_DEADLINE_EXCEEDED');
    expect(summarize(rec('turn.replied', { id: '1', ok: false, code: 'INTERLOCK_ACTOR_STALLED' }))).toBe('request 1 ended without an answer INTERLOCK_ACTOR_STALLED');
    expect(summarize(rec('lifecycle.crashed', { error: 'boom' }))).toBe('boom');
  });

  it("reads a transition record as the inspection adapter writes it", () => {
    const data = { event: { type: 'prompt', internal: false }, from: 'streaming', to: 'cancelling', status: 'active', transitions: [{ source: 'session.streaming', targets: ['session.cancelling'], event: 'prompt' }] };
    expect(summarize(rec('transition', data))).toBe('prompt: streaming → cancelling');
  });

  it('writes parallel state values with their regions', () => {
    expect(stateLabel({ a: 'x', b: { c: 'y' } })).toBe('{a: x, b: c.y}');
    expect(stateLabel(undefined)).toBe('—');
  });
});
