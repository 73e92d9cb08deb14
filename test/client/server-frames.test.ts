/**
 * Which server frames the client takes as `interlock.v1` messages (src/client/Connection.ts
 * `parse`), field by field: every message kind with each field it needs, missing or of the
 * wrong type. A frame the client refuses closes its socket with 4400 (see
 * test/client/connection.test.ts for that end to end); here the checks one by one.
 */
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/client/Connection.js';

const record = { address: 'session/a', epoch: 1, seq: 2, type: 'emitted', data: null };

/** Frames the client must read, as the messages it hands on. */
const accepted: [string, unknown][] = [
  ['an ack', { type: 'connection_ack', payload: { epoch: 3, heartbeatMs: 0 } }],
  ['a ping without a payload', { type: 'ping' }],
  ['a ping with a payload', { type: 'ping', payload: { n: 1 } }],
  ['a pong without a payload', { type: 'pong' }],
  ['a pong with a payload', { type: 'pong', payload: {} }],
  ['a record', { type: 'next', id: '1', payload: record }],
  ['a result with data', { type: 'result', id: '1', payload: { data: 5 } }],
  ['a result whose reply was undefined (no payload at all)', { type: 'result', id: '1' }],
  ['an error of a request', { type: 'error', id: '1', payload: { code: 'INTERLOCK_X', message: 'm' } }],
  ['an error of the connection (no id)', { type: 'error', payload: { code: 'INTERLOCK_X', message: 'm' } }],
  ['a complete', { type: 'complete', id: '1' }],
];

/** Frames the client must refuse: one field missing or wrong in each. */
const refused: [string, unknown][] = [
  ['null', null],
  ['a number', 7],
  ['a string', 'next'],
  ['a message without a type', { id: '1', payload: record }],
  ['a message whose type is not a string', { type: 1 }],
  ['a message of a type the server never sends', { type: 'subscribe', id: '1', payload: { address: 'a/1' } }],
  ['an ack without a payload', { type: 'connection_ack' }],
  ['an ack whose payload is an array', { type: 'connection_ack', payload: [3, 0] }],
  ['an ack without an epoch', { type: 'connection_ack', payload: { heartbeatMs: 0 } }],
  ['an ack without heartbeatMs', { type: 'connection_ack', payload: { epoch: 3 } }],
  ['an ack whose heartbeatMs is a string', { type: 'connection_ack', payload: { epoch: 3, heartbeatMs: '0' } }],
  ['a ping whose payload is a string', { type: 'ping', payload: 'x' }],
  ['a pong whose payload is null', { type: 'pong', payload: null }],
  ['a record without an id', { type: 'next', payload: record }],
  ['a record whose id is a number', { type: 'next', id: 1, payload: record }],
  ['a record without a payload', { type: 'next', id: '1' }],
  ['a record whose payload is an array', { type: 'next', id: '1', payload: [record] }],
  ['a record without an address', { type: 'next', id: '1', payload: { ...record, address: undefined } }],
  ['a record whose epoch is not an integer', { type: 'next', id: '1', payload: { ...record, epoch: 1.5 } }],
  ['a record whose seq is a string', { type: 'next', id: '1', payload: { ...record, seq: '2' } }],
  ['a record without a type', { type: 'next', id: '1', payload: { ...record, type: undefined } }],
  ['a result without an id', { type: 'result', payload: { data: 5 } }],
  ['a result whose payload is a string', { type: 'result', id: '1', payload: 'done' }],
  ['an error whose id is a number', { type: 'error', id: 1, payload: { code: 'INTERLOCK_X', message: 'm' } }],
  ['an error without a payload', { type: 'error', id: '1' }],
  ['an error without a code', { type: 'error', id: '1', payload: { message: 'm' } }],
  ['an error whose message is not a string', { type: 'error', id: '1', payload: { code: 'INTERLOCK_X', message: 1 } }],
  ['a complete without an id', { type: 'complete' }],
];

describe('server frames the client reads', () => {
  it.each(accepted)('takes %s', (_, message) => {
    const frame = JSON.stringify(message);
    expect(parse(frame)).toEqual([message]);
    // The same message in a batch (a JSON array) is read the same.
    expect(parse(JSON.stringify([message, message]))).toEqual([message, message]);
  });

  it.each(refused)('refuses %s, alone or inside a batch of good messages', (_, message) => {
    expect(parse(JSON.stringify(message))).toBeUndefined();
    expect(parse(JSON.stringify([{ type: 'pong' }, message]))).toBeUndefined();
    expect(parse(JSON.stringify([message, { type: 'pong' }]))).toBeUndefined();
  });

  it('refuses a frame that is not JSON, and a binary frame even when it holds a good message', () => {
    expect(parse('{"type":"pong"')).toBeUndefined();
    expect(parse(Buffer.from('{"type":"pong"}'))).toBeUndefined();
    expect(parse(new TextEncoder().encode('{"type":"pong"}'))).toBeUndefined();
    expect(parse('{"type":"pong"}')).toEqual([{ type: 'pong' }]);
  });

  it('reads an empty batch as no messages', () => {
    expect(parse('[]')).toEqual([]);
  });
});
