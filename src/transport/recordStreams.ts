/**
 * What a wire subscriber (WebSocket or SSE) receives, as encoded payloads:
 *
 * - an address without a resume point: the current public snapshot first (when the actor
 *   is live), so the client holds a resume point from the start, then live records;
 * - an address with `since`: the buffered records after it, oldest first, then live ones;
 *   when they are no longer buffered (overwritten, another epoch, a restarted server), the
 *   current public snapshot flagged `recovered: false` instead, then live ones;
 * - a pattern (`*`, `kind/*`, `kind/prefix*`) without `since`: live records of every
 *   matching address;
 * - a pattern with `since` (a resume point per address): for each address named, what an
 *   address subscription with that point starts with (the buffered records after it, or the
 *   `recovered: false` snapshot); for each live matching actor not named, its current
 *   snapshot (as a fresh address subscription starts), so an address that appeared while
 *   the client was away is not lost silently; then live records of every matching address.
 *   Order holds per address, not across addresses.
 *
 * The synthetic snapshot carries the epoch and seq of the actor's latest record (the state
 * it shows includes every record up to it), so records after it continue gaplessly. Both
 * are taken synchronously with the subscription to live records: nothing falls between.
 * (A pattern resumes from one subscription to the whole bus plus `runtime.replay`, which
 * reads the buffers without subscribing: one subscription per address on top of the bus
 * would deliver each live record twice.)
 */
import { defer, filter, map, Observable, startWith } from 'rxjs';
import { parseAddress } from '../address.js';
import type { BusRecord, ResumePoint } from '../bus/records.js';
import { errors } from '../errors.js';
import type { Runtime } from '../runtime/Runtime.js';
import { encode, encodeRecord, fromWireEpoch, toWireEpoch } from './wireRecord.js';

/** One record ready for the wire. */
export interface WireItem {
  /** The JSON payload `{ address, epoch, seq, ts, type, data, recovered? }`. */
  readonly payload: string;
  readonly address: string;
  readonly epoch: number;
  readonly seq: number;
  /**
   * A snapshot record that a later one of the same address may replace while the client
   * lags (coalescing). Not a `recovered: false` one: its flag tells the client it missed
   * records, which a plain later snapshot would not say.
   */
  readonly snapshot: boolean;
}

/**
 * Serialize once per broadcast: a record reaches every subscriber of its address (and every
 * pattern subscriber) one after the other, synchronously, before the next record exists,
 * so the first subscriber's encoding is reused by all the others from a one-record cache.
 * A cache per record (a WeakMap) would keep every encoding alive as long as the replay ring
 * keeps its record, doubling the ring's memory; a resume encodes what it replays again.
 */
let lastRecord: BusRecord | undefined;
let lastItem: WireItem | undefined;

function item(r: BusRecord, base: number): WireItem {
  if (r === lastRecord) return lastItem!;
  const it: WireItem = { payload: encodeRecord(r, base), address: r.address, epoch: toWireEpoch(base, r.epoch), seq: r.seq, snapshot: r.type === 'snapshot' };
  lastRecord = r;
  lastItem = it;
  return it;
}

/** The actor's current public snapshot as a record; with `recovered`, also when it is not live (data null, epoch 0). */
export function currentSnapshot(runtime: Runtime, address: string, base: number, now: number, recovered: boolean): WireItem | undefined {
  const view = runtime.view(address);
  const extra = recovered ? ',"recovered":false' : '';
  if (!view) return recovered ? { payload: encode(address, 0, 0, now, 'snapshot', null, extra), address, epoch: 0, seq: 0, snapshot: false } : undefined;
  const snap = runtime.snapshot(address);
  // The same shape as the runtime's snapshot records; the context is the kind's view.
  const data = snap ? { value: snap.value, status: snap.status, context: view.context } : null;
  const epoch = toWireEpoch(base, view.epoch);
  return { payload: encode(address, epoch, view.seq, now, 'snapshot', data, extra), address, epoch, seq: view.seq, snapshot: !recovered };
}

/**
 * Records of one address for a wire subscriber (see the module comment). `since` is in wire
 * epochs. The snapshot is taken at subscription, right before the live records: nothing
 * falls between. The runtime's streams complete when it shuts down; the operators carry
 * that (and any error) through.
 */
export function addressStream(runtime: Runtime, address: string, since: ResumePoint | undefined, base: number, now: () => number): Observable<WireItem> {
  return defer(() => {
    if (since !== undefined) {
      return runtime
        .events(address, { since: fromWire(base, since) })
        .pipe(map((r) => (r.type === 'replay.gap' ? currentSnapshot(runtime, address, base, r.ts, true)! : item(r, base))));
    }
    const first = currentSnapshot(runtime, address, base, now(), false);
    const live = runtime.events(address).pipe(map((r) => item(r, base)));
    return first ? live.pipe(startWith(first)) : live;
  });
}

/**
 * Whether a record's address matches a pattern (`*`, `kind/*`, `kind/prefix*`): throws
 * INTERLOCK_INVALID_ADDRESS naming the pattern for a malformed one, INTERLOCK_UNKNOWN_KIND
 * for a kind this runtime does not have.
 */
export function patternMatcher(pattern: string, knownKinds: ReadonlySet<string>): (address: string) => boolean {
  if (pattern === '*') return () => true;
  if (pattern.indexOf('*') !== pattern.length - 1) throw errors.invalidAddress(pattern);
  const prefix = pattern.slice(0, -1);
  let kind: string;
  try {
    // The prefix is an address whose key is cut short: checked as one, an empty key (`kind/*`) as a one-character key.
    ({ kind } = parseAddress(prefix.length > prefix.indexOf('/') + 1 ? prefix : `${prefix}x`));
  } catch {
    throw errors.invalidAddress(pattern);
  }
  if (!knownKinds.has(kind)) throw errors.unknownKind(pattern, kind, [...knownKinds]);
  return (address) => address.startsWith(prefix);
}

/**
 * Records of every address matching a pattern: live ones, after what `since` (a point per
 * address, in wire epochs) calls for (see the module comment). `since` must name only
 * matching addresses.
 */
export function patternStream(
  runtime: Runtime,
  matches: (address: string) => boolean,
  since: ReadonlyMap<string, ResumePoint> | undefined,
  base: number,
  now: () => number,
): Observable<WireItem> {
  return new Observable<WireItem>((subscriber) => {
    // Each replayed item goes out as soon as it is read: a subscriber that leaves meanwhile (its connection closed) stops the rest.
    if (since !== undefined) {
      for (const [address, point] of since) {
        const replay = runtime.replay(address, fromWire(base, point));
        if (replay) for (const r of replay) subscriber.next(item(r, base));
        else subscriber.next(currentSnapshot(runtime, address, base, now(), true)!);
      }
      for (const address of runtime.addresses()) {
        if (since.has(address) || !matches(address)) continue;
        // addresses() lists live actors, whose snapshot always exists.
        subscriber.next(currentSnapshot(runtime, address, base, now(), false)!);
      }
    }
    // Synchronously after the replay: no record can be published in between.
    return runtime.events$
      .pipe(
        filter((r) => matches(r.address)),
        map((r) => item(r, base)),
      )
      .subscribe(subscriber);
  });
}

function fromWire(base: number, point: ResumePoint): ResumePoint {
  return { epoch: fromWireEpoch(base, point.epoch), seq: point.seq };
}
