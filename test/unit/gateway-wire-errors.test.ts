/**
 * What an error looks like on the wire (src/gateway/httpErrors.ts `toWire`): status,
 * `retry-after`, and an OpenAI-shaped body whose message is the error's own only for codes
 * that name nothing but what the client sent; every other code gets the table's fixed
 * message, and anything that is not one of ours is a 500 INTERLOCK_INTERNAL.
 */
import { describe, expect, it } from 'vitest';
import { InterlockError, type ErrorCode } from '../../src/errors.js';
import { GatewayCodes, GatewayError, STATUS, toWire, type WireCode } from '../../src/gateway/httpErrors.js';

const INTERNAL = {
  status: 500,
  headers: {},
  body: { error: { message: 'Internal error; the server log has the details under this request id.', type: 'server_error', param: null, code: 'INTERLOCK_INTERNAL' } },
};

describe('toWire', () => {
  it('answers every code with its status, its retry-after (only where the table has one) and its own or the fixed message', () => {
    for (const code of Object.keys(STATUS) as WireCode[]) {
      const rule = STATUS[code];
      const secret = `'/srv/secret/path' failed for ${code}`;
      const expected = {
        status: rule.status,
        headers: rule.retryAfter === undefined ? {} : { 'retry-after': String(rule.retryAfter) },
        body: { error: { message: rule.pass ? secret : rule.message, type: rule.type, param: null, code } },
      };
      expect({ code, wire: toWire(new GatewayError(code, secret)) }).toEqual({ code, wire: expected });
      // The runtime's own codes arrive as InterlockErrors, and map the same way.
      if (!(code in GatewayCodes)) {
        expect({ code, wire: toWire(new InterlockError(code as ErrorCode, secret)) }).toEqual({ code, wire: expected });
      }
    }
  });

  it('pins a few rows by value: a passed message, a fixed one, and both retry-after values', () => {
    expect(toWire(new InterlockError('INTERLOCK_MAILBOX_FULL', "Mailbox of 'session/a' is full."))).toEqual({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { message: "Mailbox of 'session/a' is full.", type: 'rate_limit_error', param: null, code: 'INTERLOCK_MAILBOX_FULL' } },
    });
    expect(toWire(new InterlockError('INTERLOCK_UPSTREAM_FAILED', 'POST http://10.0.0.7:8000/v1/chat/completions: ECONNRESET'))).toEqual({
      status: 502,
      headers: {},
      body: {
        error: {
          message: 'The model server failed or closed the stream early; retry, and see the server log if it repeats.',
          type: 'server_error',
          param: null,
          code: 'INTERLOCK_UPSTREAM_FAILED',
        },
      },
    });
    expect(toWire(new GatewayError('INTERLOCK_SHUTTING_DOWN', 'draining')).headers).toEqual({ 'retry-after': '5' });
    expect(toWire(new GatewayError('INTERLOCK_NOT_FOUND', 'No route GET /x.')).headers).toEqual({});
  });

  it("carries a GatewayError's param", () => {
    expect(toWire(new GatewayError('INTERLOCK_UNKNOWN_MODEL', "Model 'x' is not served here.", 'model')).body.error).toEqual({
      message: "Model 'x' is not served here.",
      type: 'invalid_request_error',
      param: 'model',
      code: 'INTERLOCK_UNKNOWN_MODEL',
    });
  });

  it('falls back to a fixed message when a passed error has none', () => {
    expect(toWire(new GatewayError('INTERLOCK_NOT_FOUND', '')).body.error.message).toBe('Internal error.');
  });

  it('answers anything that is not an InterlockError or GatewayError as 500 INTERLOCK_INTERNAL, even when it carries one of our codes', () => {
    const forged = Object.assign(new Error('looks like ours'), { code: 'INTERLOCK_BUSY' });
    const unknownCode = Object.assign(new Error('a code from a newer catalogue'), { name: 'InterlockError', code: 'INTERLOCK_FROM_THE_FUTURE' });
    for (const thrown of [undefined, null, 'a string', 42, new Error('boom'), new TypeError('x is undefined'), forged, unknownCode]) {
      expect(toWire(thrown)).toEqual(INTERNAL);
    }
  });

  it('names a GatewayError as such (what logs and String(err) show)', () => {
    const err = new GatewayError('INTERLOCK_NOT_FOUND', 'No route GET /x.');
    expect(err.name).toBe('GatewayError');
    expect(String(err)).toBe('GatewayError: No route GET /x.');
  });
});
