/**
 * `isInterlockError` of `interlock/client` (src/client/errors.ts): true for any Interlock
 * error (the client's own, or the server's as the client rebuilds it), and with a code only
 * for that code; false for anything else.
 */
import { describe, expect, it } from 'vitest';
import { isInterlockError } from '../../src/client/index.js';
import { clientError } from '../../src/client/errors.js';

describe('isInterlockError (client)', () => {
  it('tells Interlock errors by name and code, and checks the code when given one', () => {
    const lost = clientError('INTERLOCK_CONNECTION_LOST', 'Connection lost (close 1006)');
    const fromServer = clientError('INTERLOCK_EVENT_NOT_PUBLIC', "Event type '@x' may not be sent", { address: 'a/1' });
    expect([isInterlockError(lost), isInterlockError(lost, 'INTERLOCK_CONNECTION_LOST'), isInterlockError(lost, 'INTERLOCK_CONNECTION_CLOSED')]).toEqual([true, true, false]);
    expect([isInterlockError(fromServer), isInterlockError(fromServer, 'INTERLOCK_EVENT_NOT_PUBLIC'), isInterlockError(fromServer, 'INTERLOCK_CONNECTION_LOST')]).toEqual([true, true, false]);
    for (const other of [new Error('INTERLOCK_CONNECTION_LOST'), { name: 'InterlockError' }, { code: 'INTERLOCK_CONNECTION_LOST' }, null, undefined, 'INTERLOCK_CONNECTION_LOST']) {
      expect([isInterlockError(other), isInterlockError(other, 'INTERLOCK_CONNECTION_LOST')], String(other)).toEqual([false, false]);
    }
  });
});
