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
 */
import type { ResumeFrom } from '../transport/protocol.js';

export interface Positioned {
  address: string;
  epoch: number;
  seq: number;
  recovered?: false;
}

export class Cursor {
  private readonly last = new Map<string, ResumeFrom>();

  /** `start`: the caller's own `since`, the resume point before any record arrived. */
  constructor(
    private readonly startAddress?: string,
    start?: ResumeFrom,
  ) {
    if (startAddress !== undefined && start !== undefined) this.last.set(startAddress, { epoch: start.epoch, seq: start.seq });
  }

  /** Whether to deliver `record`; if so it becomes the address's point. */
  admit(record: Positioned): boolean {
    const last = this.last.get(record.address);
    if (record.recovered !== false && last !== undefined && last.epoch === record.epoch && record.seq <= last.seq) return false;
    this.last.set(record.address, { epoch: record.epoch, seq: record.seq });
    return true;
  }

  /** Where an address subscription resumes: after the last record delivered (or the caller's `since`). */
  since(): ResumeFrom | undefined {
    return this.startAddress === undefined ? undefined : this.last.get(this.startAddress);
  }
}
