/**
 * Where a subscription stands, per address: the last record it delivered. It decides
 * which records to deliver (drop what was already delivered) and where to resume after a
 * reconnect (`since`), so a subscriber sees every record once, in order, across drops.
 *
 * - A record of the same epoch with `seq` ≤ the last delivered one is a duplicate (a replay
 *   that overlaps what arrived before the drop) and is dropped.
 * - A record of another epoch (the actor was passivated and reactivated, or the server
 *   restarted) starts that address afresh.
 * - A `recovered: false` record (the server could not replay from our point and sends the
 *   current state instead) is always delivered and becomes the new point.
 *
 * An address subscription resumes from its one point. A pattern subscription resumes from
 * a point per address (`since` is a map by address), bounded: it keeps the most recently
 * advanced {@link MAX_RESUME_ADDRESSES} addresses, and sends as many of the most recent as
 * fit {@link RESUME_BYTES}, so the `subscribe` frame stays under the server's default 64 KiB
 * `maxPayload` (a bigger frame is a terminal close, 1009). An address left out gets its
 * current snapshot on resume instead of what it missed. An address whose actor is gone
 * (the server answered with a `recovered: false` snapshot of epoch 0) is forgotten: should
 * it come back, the resume sends its snapshot.
 */
import { MAX_RESUME_ADDRESSES, type ResumeFrom, type ResumeMap } from '../transport/protocol.js';

export interface Positioned {
  address: string;
  epoch: number;
  seq: number;
  recovered?: false;
}

/** The most UTF-8 bytes of `since` a pattern's resubscribe carries. */
export const RESUME_BYTES = 48 * 1024;

const utf8 = new TextEncoder();

export class Cursor {
  /** Points by address; for a pattern in the order they last advanced, oldest first. */
  private readonly last = new Map<string, ResumeFrom>();
  /** A pattern subscription sends `since` once it has been subscribed (or given a start). */
  private resuming: boolean;

  /**
   * `address`: of an address subscription (undefined for a pattern). `start`: the caller's
   * own `since`, the resume point(s) before any record arrived.
   */
  constructor(
    private readonly address: string | undefined,
    start?: ResumeFrom | ResumeMap,
  ) {
    this.resuming = start !== undefined;
    if (start === undefined) return;
    if (address !== undefined) this.last.set(address, { epoch: (start as ResumeFrom).epoch, seq: (start as ResumeFrom).seq });
    else for (const [a, p] of Object.entries(start as ResumeMap)) this.advance(a, { epoch: p.epoch, seq: p.seq });
  }

  /** Whether to deliver `record`; if so it becomes the address's point. */
  admit(record: Positioned): boolean {
    const last = this.last.get(record.address);
    if (record.recovered !== false && last !== undefined && last.epoch === record.epoch && record.seq <= last.seq) return false;
    if (this.address !== undefined) this.last.set(record.address, { epoch: record.epoch, seq: record.seq });
    else if (record.recovered === false && record.epoch === 0) this.last.delete(record.address);
    else this.advance(record.address, { epoch: record.epoch, seq: record.seq });
    return true;
  }

  /**
   * The `since` of the subscribe about to be sent: an address's point (or none), or a
   * pattern's points (none the first time unless the caller gave some: a pattern starts live).
   */
  nextSince(): ResumeFrom | ResumeMap | undefined {
    if (this.address !== undefined) return this.last.get(this.address);
    if (!this.resuming) {
      this.resuming = true;
      return undefined;
    }
    const picked: [string, ResumeFrom][] = [];
    let bytes = 2;
    const entries = [...this.last];
    for (let i = entries.length - 1; i >= 0; i--) {
      const [address, point] = entries[i]!;
      // "address":{"epoch":…,"seq":…}, — the address in UTF-8 as JSON writes it.
      bytes += utf8.encode(JSON.stringify(address)).length + JSON.stringify(point).length + 2;
      if (bytes > RESUME_BYTES) break;
      picked.push([address, point]);
    }
    return Object.fromEntries(picked.reverse());
  }

  /** Sets a pattern's point for an address as its most recent, forgetting the least recent past the bound. */
  private advance(address: string, point: ResumeFrom): void {
    this.last.delete(address);
    this.last.set(address, point);
    if (this.last.size > MAX_RESUME_ADDRESSES) this.last.delete(this.last.keys().next().value!);
  }
}

/** Why `since` does not fit the target (a point for an address, a map of points by address for a pattern), or undefined. */
export function sinceMismatch(target: { address: string } | { pattern: string }, since: ResumeFrom | ResumeMap | undefined): string | undefined {
  if (since === undefined) return undefined;
  const point = typeof (since as ResumeFrom).epoch === 'number' || typeof (since as ResumeFrom).seq === 'number';
  if ('address' in target) return point ? undefined : `'since' of address '${target.address}' is { epoch, seq }; a map of points by address is for a pattern.`;
  return point ? `'since' of pattern '${target.pattern}' is a map of points by address ({ 'kind/key': { epoch, seq } }); { epoch, seq } resumes one address.` : undefined;
}
