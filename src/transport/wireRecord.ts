/**
 * A bus record as it crosses the wire (WebSocket `next` payloads, SSE `data:`). Encoded
 * once per broadcast, not once per subscriber (recordStreams.ts reuses the encoding).
 *
 * What crosses: snapshot records as the runtime built them (the context already through
 * the kind's `view`), emitted events (a machine's output to its callers, e.g. a session's
 * reply chunks), mailbox, turn and task records (ids, event *types*, codes, timings; never
 * an event's payload or a reply's value). Lifecycle records lose the machine's error text
 * (`lifecycle.crashed` / `stalled` / `failed`) and a stop reason other than `shutdown` /
 * `passivated` (it may name the store's error): the HTTP surface replaces those messages
 * too.
 *
 * Epochs: a record's epoch counts activations within one process, so the numbers repeat
 * after a restart. On the wire an epoch is the server's boot epoch (`connection_ack`) plus
 * the activation's number, so a resume point from an earlier process never matches a new
 * activation: it is answered as a gap.
 */
import type { BusRecord } from '../bus/records.js';

const bootEpochs = new WeakMap<object, number>();

/** This runtime's boot epoch: microseconds-ish of wall time when first asked, shared by every transport of it. */
export function bootEpoch(runtime: object): number {
  let base = bootEpochs.get(runtime);
  if (base === undefined) {
    // Date.now() * 1,000 leaves room for 1,000 activations per millisecond of uptime before
    // a later boot's range is reached, and stays below 2^53 until the year 2255.
    base = Date.now() * 1_000;
    bootEpochs.set(runtime, base);
  }
  return base;
}

/** The wire epoch of an activation epoch (0, "no activation", stays 0). */
export function toWireEpoch(base: number, epoch: number): number {
  return epoch === 0 ? 0 : base + epoch;
}

/** The activation epoch of a wire epoch, or -1 (matches nothing) when it is not of this boot. */
export function fromWireEpoch(base: number, wire: number): number {
  const e = wire - base;
  return Number.isSafeInteger(e) && e >= 1 && e < 1e9 ? e : -1;
}

/** The JSON text of a record's wire payload `{ address, epoch, seq, ts, type, data }`. */
export function encodeRecord(record: BusRecord, base: number): string {
  return encode(record.address, toWireEpoch(base, record.epoch), record.seq, record.ts, record.type, publicData(record));
}

/** Encodes a payload; data that is not JSON (a BigInt, a cycle) becomes `{ unserializable: true }`. */
export function encode(address: string, epoch: number, seq: number, ts: number, type: string, data: unknown, extra = ''): string {
  const head = `{"address":${JSON.stringify(address)},"epoch":${epoch},"seq":${seq},"ts":${Number.isFinite(ts) ? ts : 0},"type":${JSON.stringify(type)},"data":`;
  let body: string;
  try {
    body = JSON.stringify(data) ?? 'null';
  } catch {
    // A machine emitted something JSON cannot carry; the record still keeps its place in seq order.
    body = '{"unserializable":true}';
  }
  return `${head}${body}${extra}}`;
}

function publicData(record: BusRecord): unknown {
  const data = record.data as Record<string, unknown> | undefined;
  switch (record.type) {
    case 'lifecycle.crashed':
    case 'lifecycle.stalled':
    case 'lifecycle.failed': {
      if (!data || !('error' in data)) return data;
      const { error: _machineText, ...rest } = data;
      return rest;
    }
    case 'lifecycle.stopped': {
      const reason = data?.reason;
      return { reason: reason === 'shutdown' || reason === 'passivated' ? reason : 'stopped' };
    }
    default:
      return data;
  }
}
