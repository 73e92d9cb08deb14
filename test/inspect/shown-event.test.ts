/**
 * What the inspector shows of an event's payload (shownEvent): the kind's eventView's answer
 * for a public type, nothing when it answers undefined, and the view's error, never the raw
 * event, when it throws.
 */
import { describe, expect, it } from 'vitest';
import { shownEvent } from '../../src/inspect/publicEvent.js';

const kind = (eventView: (e: { type: string }) => unknown) => ({ publicEvents: new Set(['note']), eventView });
const SECRET = 'sk-live-NEVER-SHOW-THIS';

describe('shownEvent', () => {
  it('has no payload key when the eventView answers undefined', () => {
    expect(shownEvent(kind(() => undefined), { type: 'note' })).toStrictEqual({ type: 'note', internal: false });
  });

  it('shows a throwing eventView’s error message instead of the event (an Error or any thrown value)', () => {
    const event = { type: 'note', token: SECRET };
    const thrown = shownEvent(
      kind(() => {
        throw new Error('view broke');
      }),
      event,
    );
    expect(thrown).toStrictEqual({ type: 'note', internal: false, payload: { viewError: 'view broke' } });
    const thrownString = shownEvent(
      kind(() => {
        throw 'not an Error';
      }),
      event,
    );
    expect(thrownString).toStrictEqual({ type: 'note', internal: false, payload: { viewError: 'not an Error' } });
    expect(JSON.stringify([thrown, thrownString])).not.toContain(SECRET);
  });
});
