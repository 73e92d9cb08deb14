import { describe, expect, it } from 'vitest';
import type { BusRecord, RecordType } from '../../src/bus/records.js';
import { encode, encodeRecord, fromWireEpoch, toWireEpoch } from '../../src/transport/wireRecord.js';

/**
 * The wire form of a bus record (WebSocket `next` payloads, SSE `data:`): epochs offset by
 * the boot epoch, data that JSON cannot carry, and what lifecycle records must not leak.
 */
describe('wire records', () => {
  const base = 1_700_000_000_000_000;
  const record = (type: RecordType, data: unknown): BusRecord => ({ address: 'session/a', epoch: 2, seq: 7, ts: 1234, type, data });
  const wire = (type: RecordType, data: unknown) => JSON.parse(encodeRecord(record(type, data), base)) as Record<string, unknown>;

  it('offsets an activation epoch by the boot epoch, and keeps epoch 0 ("no activation") at 0', () => {
    expect(toWireEpoch(base, 3)).toBe(base + 3);
    expect(toWireEpoch(base, 0)).toBe(0);
  });

  it('reads back an epoch of this boot (1 up to 1e9 - 1 activations) and answers -1 for any other', () => {
    expect(fromWireEpoch(base, base + 1)).toBe(1);
    expect(fromWireEpoch(base, base + 999_999_999)).toBe(999_999_999);
    // 0 ("no activation"), an earlier boot, a later boot, a fraction, not a number: none matches an activation.
    for (const w of [0, base, base - 5, base + 1_000_000_000, base + 0.5, base + 2.5, Number.NaN]) expect(fromWireEpoch(base, w)).toBe(-1);
    expect(fromWireEpoch(0, 2.5)).toBe(-1);
  });

  it('encodes the whole payload in order, with the wire epoch', () => {
    expect(encodeRecord(record('snapshot', { n: 1 }), base)).toBe(
      `{"address":"session/a","epoch":${base + 2},"seq":7,"ts":1234,"type":"snapshot","data":{"n":1}}`,
    );
  });

  it('encodes data JSON cannot carry (a BigInt, a cycle) as { unserializable: true }, and no data as null', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(wire('emitted', 10n).data).toEqual({ unserializable: true });
    expect(wire('emitted', cycle).data).toEqual({ unserializable: true });
    expect(encode('a/1', 1, 1, 1, 'emitted', undefined)).toBe('{"address":"a/1","epoch":1,"seq":1,"ts":1,"type":"emitted","data":null}');
  });

  it.each(['lifecycle.crashed', 'lifecycle.stalled', 'lifecycle.failed'] as const)('drops the machine error text of %s and keeps the rest', (type) => {
    expect(wire(type, { error: 'ENOENT /srv/secret.json', stalledMs: 500 }).data).toEqual({ stalledMs: 500 });
    expect(wire(type, { stalledMs: 500 }).data).toEqual({ stalledMs: 500 });
    expect(wire(type, undefined).data).toBeNull();
  });

  it('keeps a stop reason of shutdown or passivated and says only "stopped" for any other (it may name the store error)', () => {
    expect(wire('lifecycle.stopped', { reason: 'shutdown' }).data).toEqual({ reason: 'shutdown' });
    expect(wire('lifecycle.stopped', { reason: 'passivated' }).data).toEqual({ reason: 'passivated' });
    expect(wire('lifecycle.stopped', { reason: 'store failed: ECONNREFUSED 10.0.0.5:6379' }).data).toEqual({ reason: 'stopped' });
    expect(wire('lifecycle.stopped', { reason: 'stopped', detail: 'x' }).data).toEqual({ reason: 'stopped' });
    expect(wire('lifecycle.stopped', undefined).data).toEqual({ reason: 'stopped' });
  });
});
