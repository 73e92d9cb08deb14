import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, errors, InterlockError, isInterlockError, type ErrorCode } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^## (INTERLOCK_[A-Z_]+)$/gm)].map((m) => m[1]);

describe('error catalogue', () => {
  it('documents every code in docs/errors.md, once, and nothing that does not exist', () => {
    const codes = Object.keys(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...documented].sort()).toEqual([...codes].sort());
  });

  it('builds every constructor with its own code and a message that names the address', () => {
    const built: Record<keyof typeof errors, [InterlockError, ErrorCode]> = {
      mailboxFull: [errors.mailboxFull('a/1', 3), 'INTERLOCK_MAILBOX_FULL'],
      deadlineExceeded: [errors.deadlineExceeded('a/1', 'queued', 5), 'INTERLOCK_DEADLINE_EXCEEDED'],
      cancelled: [errors.cancelled('a/1', 'running'), 'INTERLOCK_CANCELLED'],
      crashed: [errors.crashed('a/1', new Error('x')), 'INTERLOCK_ACTOR_CRASHED'],
      stalled: [errors.stalled('a/1', 'busy', 10), 'INTERLOCK_ACTOR_STALLED'],
      failed: [errors.failed('a/1'), 'INTERLOCK_ACTOR_FAILED'],
      stopped: [errors.stopped('a/1', 'shutdown'), 'INTERLOCK_ACTOR_STOPPED'],
      shuttingDown: [errors.shuttingDown('a/1'), 'INTERLOCK_SHUTTING_DOWN'],
      turnFailed: [errors.turnFailed('a/1', 'no'), 'INTERLOCK_TURN_FAILED'],
      superseded: [errors.superseded('a/1'), 'INTERLOCK_SUPERSEDED'],
      retryExhausted: [errors.retryExhausted('a/1', 'subscription B failed'), 'INTERLOCK_RETRY_EXHAUSTED'],
      actorLimit: [errors.actorLimit('a/1', 'a', 10), 'INTERLOCK_ACTOR_LIMIT'],
      eventNotPublic: [errors.eventNotPublic('a/1', 'admin', ['chat']), 'INTERLOCK_EVENT_NOT_PUBLIC'],
      notAnswered: [errors.notAnswered('a/1', 'a', 'cancel', ['prompt']), 'INTERLOCK_NOT_ANSWERED'],
      busy: [errors.busy('a/1', 'streaming'), 'INTERLOCK_BUSY'],
      agentUnavailable: [errors.agentUnavailable('a/1', 'no subscription'), 'INTERLOCK_AGENT_UNAVAILABLE'],
      unknownKind: [errors.unknownKind('a/1', 'a', ['b']), 'INTERLOCK_UNKNOWN_KIND'],
      invalidAddress: [errors.invalidAddress('a/1'), 'INTERLOCK_INVALID_ADDRESS'],
      invalidEvent: [errors.invalidEvent('a/1', 'no type'), 'INTERLOCK_INVALID_EVENT'],
      invalidKind: [errors.invalidKind('a', 'no machine'), 'INTERLOCK_INVALID_KIND'],
      invalidConfig: [errors.invalidConfig('bad clock'), 'INTERLOCK_INVALID_CONFIG'],
      storeFailed: [errors.storeFailed('a/1', 'load', new Error('down')), 'INTERLOCK_STORE_FAILED'],
      missingPeer: [errors.missingPeer('@x/y', 'a/1 feature', 'npm install @x/y'), 'INTERLOCK_MISSING_PEER'],
      invalidMessage: [errors.invalidMessage("'type' must be a string", 'a/1'), 'INTERLOCK_INVALID_MESSAGE'],
      forbidden: [errors.forbidden('a/1', 'subscribe'), 'INTERLOCK_FORBIDDEN'],
      tooManySubscriptions: [errors.tooManySubscriptions(100), 'INTERLOCK_TOO_MANY_SUBSCRIPTIONS'],
    };
    // Every constructor is in the table (a new one must say which code it builds).
    expect(Object.keys(built).sort()).toEqual(Object.keys(errors).sort());
    for (const [name, [e, code]] of Object.entries(built)) {
      expect(e, name).toBeInstanceOf(InterlockError);
      expect({ name, code: e.code }).toEqual({ name, code });
      expect(isInterlockError(e, code), name).toBe(true);
      // Errors about a kind, the config or a connection name no address.
      if (!['invalidKind', 'invalidConfig', 'tooManySubscriptions'].includes(name)) expect(e.message, name).toContain('a/1');
    }
    expect(isInterlockError(errors.mailboxFull('a/1', 3), 'INTERLOCK_CANCELLED')).toBe(false);
    expect(isInterlockError(Object.assign(new Error('x'), { code: 'INTERLOCK_CANCELLED' }))).toBe(false);
    expect(isInterlockError({ name: 'InterlockError', code: 'INTERLOCK_CANCELLED' }, 'INTERLOCK_CANCELLED')).toBe(true);
    expect(isInterlockError({ name: 'InterlockError' })).toBe(false);
    expect(isInterlockError(null)).toBe(false);
  });

  it('marks exactly these codes public (what may cross the wire to a client)', () => {
    const publicFlag: Record<ErrorCode, boolean> = {
      INTERLOCK_INVALID_CONFIG: false,
      INTERLOCK_INVALID_KIND: false,
      INTERLOCK_UNKNOWN_KIND: true,
      INTERLOCK_INVALID_ADDRESS: true,
      INTERLOCK_INVALID_EVENT: true,
      INTERLOCK_MAILBOX_FULL: true,
      INTERLOCK_DEADLINE_EXCEEDED: true,
      INTERLOCK_CANCELLED: true,
      INTERLOCK_ACTOR_CRASHED: true,
      INTERLOCK_ACTOR_STALLED: true,
      INTERLOCK_ACTOR_FAILED: true,
      INTERLOCK_ACTOR_STOPPED: true,
      INTERLOCK_SHUTTING_DOWN: true,
      INTERLOCK_TURN_FAILED: true,
      INTERLOCK_STORE_FAILED: false,
      INTERLOCK_UPSTREAM_FAILED: true,
      INTERLOCK_UPSTREAM_PROTOCOL: true,
      INTERLOCK_SOURCE_FAILED: false,
      INTERLOCK_BUSY: true,
      INTERLOCK_AGENT_UNAVAILABLE: true,
      INTERLOCK_SUPERSEDED: true,
      INTERLOCK_ACTOR_LIMIT: true,
      INTERLOCK_EVENT_NOT_PUBLIC: true,
      INTERLOCK_NOT_ANSWERED: true,
      INTERLOCK_RETRY_EXHAUSTED: true,
      INTERLOCK_MISSING_PEER: false,
      INTERLOCK_INVALID_MESSAGE: true,
      INTERLOCK_FORBIDDEN: true,
      INTERLOCK_TOO_MANY_SUBSCRIPTIONS: true,
    };
    expect(Object.fromEntries(Object.entries(ErrorCodes).map(([code, entry]) => [code, entry.public]))).toEqual(publicFlag);
    for (const [code, isPublic] of Object.entries(publicFlag) as [ErrorCode, boolean][]) {
      const json = new InterlockError(code, 'failed at /srv/secret/path.json').toJSON();
      expect({ code, json }).toEqual({
        code,
        json: isPublic ? { code, message: 'failed at /srv/secret/path.json' } : { code: 'INTERLOCK_INTERNAL', message: 'internal error' },
      });
    }
  });

  it('serializes only public codes with their message', () => {
    expect(errors.mailboxFull('a/1', 3).toJSON()).toEqual({ code: 'INTERLOCK_MAILBOX_FULL', message: expect.stringContaining('full') });
    expect(errors.storeFailed('a/1', 'save', new Error('secret dsn')).toJSON()).toEqual({
      code: 'INTERLOCK_INTERNAL',
      message: 'internal error',
    });
  });
});
