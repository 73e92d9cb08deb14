/**
 * `kind/key` addresses: what the wire's hostile input meets first (every tell, ask, stream and
 * subscription names one). Every refusal is INTERLOCK_INVALID_ADDRESS naming the form, never a
 * TypeError or a silently accepted address.
 */
import { describe, expect, it } from 'vitest';
import { formatAddress, MAX_KEY_LENGTH, parseAddress } from '../../src/address.js';
import { isInterlockError } from '../../src/errors.js';

const kind64 = 'a'.repeat(64);

function refusal(address: unknown): unknown {
  try {
    parseAddress(address);
  } catch (error) {
    return error;
  }
  return 'accepted';
}

describe('parseAddress', () => {
  it.each([
    ['session/1', { kind: 'session', key: '1' }],
    ['a/b', { kind: 'a', key: 'b' }],
    ['my_kind-2/x', { kind: 'my_kind-2', key: 'x' }],
    // The key may contain '/': the split is at the first one.
    ['files/a/b/c', { kind: 'files', key: 'a/b/c' }],
    [`${kind64}/k`, { kind: kind64, key: 'k' }],
    [`k/${'x'.repeat(MAX_KEY_LENGTH)}`, { kind: 'k', key: 'x'.repeat(MAX_KEY_LENGTH) }],
    ['k/ spaces and ünïcode ✓', { kind: 'k', key: ' spaces and ünïcode ✓' }],
  ])('splits %j into its kind and key', (address, parts) => {
    expect(parseAddress(address)).toEqual(parts);
  });

  it.each([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an object', { kind: 'a', key: 'b' }],
    ['no slash', 'session'],
    ['an empty kind', '/1'],
    ['an empty key', 'session/'],
    ['a kind starting with a digit', '1session/1'],
    ['a kind starting with "_"', '_session/1'],
    ['an upper-case kind', 'Session/1'],
    ['a kind with a dot after valid letters', 'ses.sion/1'],
    ['a kind ending in a character outside its set', 'session!/1'],
    ['a kind of 65 characters', `${kind64}a/1`],
    [`a key of ${MAX_KEY_LENGTH + 1} characters`, `k/${'x'.repeat(MAX_KEY_LENGTH + 1)}`],
    ['a key with a newline', 'k/a\nb'],
    ['a key with a NUL', 'k/a\u0000'],
    ['a key with DEL', 'k/\u007f'],
  ])('refuses %s with INTERLOCK_INVALID_ADDRESS naming the form', (_, address) => {
    const error = refusal(address);
    expect(isInterlockError(error, 'INTERLOCK_INVALID_ADDRESS'), String(error)).toBe(true);
    expect((error as Error).message).toContain(`Address ${JSON.stringify(address)} is not 'kind/key'`);
  });
});

describe('formatAddress', () => {
  it('joins a kind and a key, and the result parses back to them', () => {
    expect(formatAddress('session', 'a/b')).toBe('session/a/b');
    expect(parseAddress(formatAddress('session', 'a/b'))).toEqual({ kind: 'session', key: 'a/b' });
  });

  it('refuses parts that do not make an address', () => {
    expect(() => formatAddress('Session', '1')).toThrow(/is not 'kind\/key'/);
    expect(() => formatAddress('session', '')).toThrow(/is not 'kind\/key'/);
  });
});
