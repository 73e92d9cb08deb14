import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, errors, InterlockError, isInterlockError } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^## (INTERLOCK_[A-Z_]+)$/gm)].map((m) => m[1]);

describe('error catalogue', () => {
  it('documents every code in docs/errors.md, once, and nothing that does not exist', () => {
    const codes = Object.keys(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...documented].sort()).toEqual([...codes].sort());
  });

  it('builds every constructor with a catalogue code and a message that names the address', () => {
    const samples: InterlockError[] = [
      errors.mailboxFull('a/1', 3),
      errors.deadlineExceeded('a/1', 'queued', 5),
      errors.cancelled('a/1', 'running'),
      errors.crashed('a/1', new Error('x')),
      errors.stalled('a/1', 'busy', 10),
      errors.failed('a/1'),
      errors.stopped('a/1', 'shutdown'),
      errors.shuttingDown('a/1'),
      errors.turnFailed('a/1', 'no'),
      errors.superseded('a/1'),
      errors.storeFailed('a/1', 'load', new Error('down')),
    ];
    for (const e of samples) {
      expect(e.code in ErrorCodes).toBe(true);
      expect(e.message).toContain("'a/1'");
      expect(isInterlockError(e, e.code)).toBe(true);
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
