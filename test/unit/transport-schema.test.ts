/**
 * What `parseClientFrame` says about a frame: the parsed message, or the exact sentence a
 * client reads in its INTERLOCK_INVALID_MESSAGE error (naming the field and what it needed),
 * with the frame's id when it had a usable one (1 to 128 characters) so the error can name
 * the request. The wire tests (fuzz, handshake) check that a bad frame gets an error; this
 * table checks what the error says.
 */
import { describe, expect, it } from 'vitest';
import { parseClientFrame } from '../../src/transport/schema.js';

const KNOWN = 'known: connection_init, subscribe, send, ask, complete, ping, pong';
const sub = (payload: unknown, id = 's') => JSON.stringify({ type: 'subscribe', id, payload });
const bad = (why: string, id?: string, type?: string) => ({ ok: false, why, id, type });

describe('parseClientFrame', () => {
  it.each([
    ['nope', bad('the frame is not JSON')],
    ['42', bad('a message must be a JSON object { type, id?, payload? }')],
    ['null', bad('a message must be a JSON object { type, id?, payload? }')],
    ['[{"type":"ping"}]', bad('a message must be a JSON object { type, id?, payload? }')],
    ['{"id":"a"}', bad("'type' must be a string", 'a')],
    ['{"type":7,"id":"a"}', bad("'type' must be a string", 'a')],
    ['{"type":"hello","id":"a"}', bad(`unknown message type 'hello' (${KNOWN})`, 'a', 'hello')],
    ['{"type":"toString"}', bad(`unknown message type 'toString' (${KNOWN})`, undefined, 'toString')],
    ['{"type":"complete"}', bad("the message must have required property 'id'", undefined, 'complete')],
    ['{"type":"ping","extra":1}', bad("the message must NOT have additional properties ('extra')", undefined, 'ping')],
  ])('%s', (frame, parsed) => {
    expect(parseClientFrame(frame)).toEqual(parsed);
  });

  it('names an unknown type by its first 64 characters', () => {
    const type = `${'t'.repeat(64)}${'u'.repeat(36)}`;
    expect(parseClientFrame(JSON.stringify({ type }))).toEqual(bad(`unknown message type '${'t'.repeat(64)}' (${KNOWN})`, undefined, type));
  });

  it('names an unknown field by its first 64 characters', () => {
    const field = `${'f'.repeat(64)}${'g'.repeat(36)}`;
    expect(parseClientFrame(JSON.stringify({ type: 'ping', [field]: 1 }))).toEqual(bad(`the message must NOT have additional properties ('${'f'.repeat(64)}')`, undefined, 'ping'));
  });

  it('keeps an id of 1 to 128 characters for the error, and no other', () => {
    const id128 = 'i'.repeat(128);
    expect(parseClientFrame(sub({}, id128))).toEqual(bad("'payload' must have exactly one of 'address' or 'pattern'", id128, 'subscribe'));
    expect(parseClientFrame(sub({}, `${id128}i`))).toEqual(bad("'id' must NOT have more than 128 characters", undefined, 'subscribe'));
    expect(parseClientFrame(sub({}, ''))).toEqual(bad("'id' must NOT have fewer than 1 characters", undefined, 'subscribe'));
    expect(parseClientFrame(sub({}, 'x'))).toMatchObject({ id: 'x' });
  });

  it('names the field of a schema error by its path', () => {
    expect(parseClientFrame(sub({ address: 7 }))).toEqual(bad("'payload.address' must be string", 's', 'subscribe'));
    expect(parseClientFrame(sub({ address: 'a/b', extra: 1 }))).toEqual(bad("'payload' must NOT have additional properties ('extra')", 's', 'subscribe'));
    expect(parseClientFrame(JSON.stringify({ type: 'send', id: 'x', payload: { address: 'a/b', event: { type: 't' }, priority: 'urgent' } }))).toEqual(
      bad("'payload.priority' must be equal to one of the allowed values", 'x', 'send'),
    );
    expect(parseClientFrame(JSON.stringify({ type: 'ask', id: 'x', payload: { address: 'a/b', event: { type: 't' }, timeoutMs: 0 } }))).toEqual(bad("'payload.timeoutMs' must be >= 1", 'x', 'ask'));
  });

  it('a subscription names exactly one of address and pattern', () => {
    const why = "'payload' must have exactly one of 'address' or 'pattern'";
    expect(parseClientFrame(sub({}))).toEqual(bad(why, 's', 'subscribe'));
    expect(parseClientFrame(sub({ address: 'a/b', pattern: 'a/*' }))).toEqual(bad(why, 's', 'subscribe'));
    // The first schema error is elsewhere: that one is named, not the address/pattern rule.
    expect(parseClientFrame(sub({ address: 7, pattern: 'a/*' }))).toEqual(bad("'payload.address' must be string", 's', 'subscribe'));
  });

  it("an address's since is one point { epoch, seq }", () => {
    const ok = { type: 'subscribe', id: 's', payload: { address: 'a/b', since: { epoch: 1, seq: 2 } } };
    expect(parseClientFrame(JSON.stringify(ok))).toEqual({ ok: true, message: ok });
    const of = (since: unknown) => parseClientFrame(sub({ address: 'a/b', since }));
    expect(of({ 'a/b': { epoch: 1, seq: 2 } })).toEqual(bad("'payload.since' of an address is { epoch, seq }; a map of points by address is only for a pattern", 's', 'subscribe'));
    expect(of({ epoch: 1 })).toEqual(bad("'payload.since' must have required property 'seq'", 's', 'subscribe'));
    expect(of({ seq: 2 })).toEqual(bad("'payload.since' must have required property 'epoch'", 's', 'subscribe'));
    expect(of({ epoch: 1, seq: -1 })).toEqual(bad("'payload.since.seq' must be >= 0", 's', 'subscribe'));
    expect(of({ epoch: 1, seq: 2, x: 1 })).toEqual(bad("'payload.since' must NOT have additional properties ('x')", 's', 'subscribe'));
    for (const notObject of [5, null, [1]]) expect(of(notObject)).toEqual(bad("'payload.since' must be object", 's', 'subscribe'));
  });

  it("a pattern's since is a map of points by address", () => {
    const ok = { type: 'subscribe', id: 's', payload: { pattern: 'a/*', since: { 'a/b': { epoch: 1, seq: 2 } } } };
    expect(parseClientFrame(JSON.stringify(ok))).toEqual({ ok: true, message: ok });
    const of = (since: unknown) => parseClientFrame(sub({ pattern: 'a/*', since }));
    const point = "'payload.since' of a pattern is a map of points by address ({ \"kind/key\": { epoch, seq }, … }); { epoch, seq } resumes one address";
    expect(of({ epoch: 1, seq: 2 })).toEqual(bad(point, 's', 'subscribe'));
    expect(of({ seq: 2 })).toEqual(bad(point, 's', 'subscribe'));
    expect(of({ epoch: 1 })).toEqual(bad(point, 's', 'subscribe'));
    // A point-like since whose first schema error is inside it (seq not an integer) is still told it is a point.
    expect(of({ epoch: 1, seq: 'x' })).toEqual(bad(point, 's', 'subscribe'));
    expect(of({ 'a/b': { epoch: 1 } })).toEqual(bad("'payload.since.a/b' must have required property 'seq'", 's', 'subscribe'));
    // A key is a JSON pointer segment in Ajv's path ('~' is '~0', '/' is '~1'): named as sent.
    expect(of({ 'a~b/c': { epoch: 1, seq: 'x' } })).toEqual(bad("'payload.since.a~b/c.seq' must be integer", 's', 'subscribe'));
    expect(of(5)).toEqual(bad("'payload.since' must be object", 's', 'subscribe'));
    const long = `${'k'.repeat(64)}${'l'.repeat(400)}`;
    expect(of({ [long]: { epoch: 1, seq: 2 } })).toEqual(bad(`'payload.since' has a key that is not an address (${JSON.stringify('k'.repeat(64))}…: over 400 characters)`, 's', 'subscribe'));
    const many = Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`a/${i}`, { epoch: 1, seq: 1 }]));
    expect(of(many)).toEqual(bad("'payload.since' names more than 1000 addresses (the most a pattern's since may name: keep the most recently advanced)", 's', 'subscribe'));
  });
});
