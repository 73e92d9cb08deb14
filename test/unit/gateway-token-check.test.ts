/**
 * The bearer-token check every gateway surface uses (src/gateway/auth.ts): which header
 * values carry a token, which tokens are accepted, the 401 message that names the fix, and
 * which listen hosts count as loopback (`interlock serve` refuses to run open on any other).
 */
import { describe, expect, it } from 'vitest';
import { bearerCheck, bearerToken, isLoopback, sameToken, tokenVerifier } from '../../src/gateway/auth.js';
import { GatewayError } from '../../src/gateway/httpErrors.js';

const MISSING = 'Missing Authorization header. Send `Authorization: Bearer <token>` with the token the server was started with.';
const INVALID = 'Invalid bearer token. Send `Authorization: Bearer <token>` with the token the server was started with.';

/** What a check does with one request: 'ok', or the code and message of what it threw. */
function outcome(check: (header: string | undefined, queryToken?: string) => void, header: string | undefined, queryToken?: string): string {
  try {
    check(header, queryToken);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return `${(err as GatewayError).code}: ${(err as GatewayError).message}`;
  }
}

describe('bearer token of an Authorization header', () => {
  it('takes the token after `Bearer ` (any case, any number of spaces), trimmed; anything else carries none', () => {
    const rows: [string | undefined, string | undefined][] = [
      ['Bearer abc', 'abc'],
      ['bearer abc', 'abc'],
      ['BEARER abc', 'abc'],
      ['Bearer    abc', 'abc'],
      ['Bearer abc  ', 'abc'],
      ['Bearer a b', 'a b'],
      ['Bearer ', undefined],
      ['Bearer', undefined],
      ['Bearerabc', undefined],
      ['Bearer\tabc', undefined],
      ['Basic abc', undefined],
      ['Basic Bearer abc', undefined],
      [' Bearer abc', undefined],
      ['Bearer abc\ndef', undefined],
      ['', undefined],
      [undefined, undefined],
    ];
    expect(rows.map(([header]) => [header, bearerToken(header)])).toEqual(rows);
  });
});

describe('token verifier', () => {
  it('with a shared token accepts exactly that token', () => {
    const verify = tokenVerifier('s3cret');
    expect([verify('s3cret'), verify('s3cre'), verify('s3cret '), verify(''), verify(undefined)]).toEqual([true, false, false, false, false]);
  });

  it('with authenticate asks it (and only it) for every token given, and refuses no token without asking', () => {
    const asked: string[] = [];
    const verify = tokenVerifier('shared', (t) => (asked.push(t), t === 'alice'));
    expect([verify('alice'), verify('shared'), verify(undefined)]).toEqual([true, false, false]);
    expect(asked).toEqual(['alice', 'shared']);
  });

  it('with neither is open: every token, and none, is accepted', () => {
    const verify = tokenVerifier(undefined);
    expect([verify('x'), verify(undefined)]).toEqual([true, true]);
  });

  it('compares tokens of any length', () => {
    expect([sameToken('a', 'a'), sameToken('a', 'ab'), sameToken('', ''), sameToken('é', 'é')]).toEqual([true, false, true, true]);
  });

  it('hashes tokens as UTF-8, so characters beyond Latin-1 do not collide with others', () => {
    // In Latin-1 both would be the byte 0x01 (and '€' and '¬' the byte 0xAC).
    expect([sameToken('\u0101', '\u0001'), sameToken('\u20ac', '\u00ac'), tokenVerifier('pass\u20ac')('pass\u00ac')]).toEqual([false, false, false]);
  });
});

describe('bearer check (HTTP routes)', () => {
  it('refuses 401 INTERLOCK_UNAUTHORIZED, "Missing" when nothing was sent and "Invalid" for a wrong token, header or ?token=', () => {
    const check = bearerCheck('s3cret');
    const rows: [string | undefined, string | undefined, string][] = [
      ['Bearer s3cret', undefined, 'ok'],
      ['bearer s3cret ', undefined, 'ok'],
      [undefined, 's3cret', 'ok'],
      [undefined, undefined, `INTERLOCK_UNAUTHORIZED: ${MISSING}`],
      ['Bearer wrong', undefined, `INTERLOCK_UNAUTHORIZED: ${INVALID}`],
      ['Basic s3cret', undefined, `INTERLOCK_UNAUTHORIZED: ${INVALID}`],
      ['', undefined, `INTERLOCK_UNAUTHORIZED: ${INVALID}`],
      [undefined, 'wrong', `INTERLOCK_UNAUTHORIZED: ${INVALID}`],
      // A header, when there is one, decides: a right ?token= does not repair a wrong header.
      ['Bearer wrong', 's3cret', `INTERLOCK_UNAUTHORIZED: ${INVALID}`],
    ];
    expect(rows.map(([h, q]) => [h, q, outcome(check, h, q)])).toEqual(rows);
  });

  it('with authenticate and no shared token still refuses what authenticate refuses', () => {
    const check = bearerCheck(undefined, (t) => t === 'alice');
    expect([outcome(check, 'Bearer alice'), outcome(check, 'Bearer bob'), outcome(check, undefined)]).toEqual([
      'ok',
      `INTERLOCK_UNAUTHORIZED: ${INVALID}`,
      `INTERLOCK_UNAUTHORIZED: ${MISSING}`,
    ]);
  });

  it('without token or authenticate lets everything through', () => {
    const check = bearerCheck(undefined);
    expect([outcome(check, undefined), outcome(check, 'Bearer x'), outcome(check, 'junk', 'y')]).toEqual(['ok', 'ok', 'ok']);
  });
});

describe('loopback hosts', () => {
  it('counts localhost, 127.0.0.0/8, ::1 and IPv4-mapped 127.x (bracketed or not, any case) and nothing else', () => {
    const rows: [string, boolean][] = [
      ['localhost', true],
      ['LOCALHOST', true],
      ['127.0.0.1', true],
      ['127.8.9.10', true],
      ['::1', true],
      ['[::1]', true],
      ['::ffff:127.0.0.1', true],
      ['[::FFFF:127.0.0.1]', true],
      ['::ffff:10.0.0.1', false],
      ['0.0.0.0', false],
      ['::', false],
      ['10.0.0.1', false],
      ['128.0.0.1', false],
      ['example.com', false],
      // Names that only look like a loopback address once part of them is cut away.
      ['abcdefg127.0.0.1', false],
      ['evil-x.127.0.0.1.nip.io', false],
      ['local[host', false],
      ['local]host', false],
    ];
    expect(rows.map(([h]) => [h, isLoopback(h)])).toEqual(rows);
  });
});
