import type { BusRecord, RecordType } from './records.js';

/**
 * The record stream of one activation: assigns gapless `seq` numbers and keeps the last
 * `capacity` records in a ring so a subscriber can resume. The ring grows on demand, so
 * an idle actor holds only the few records it produced.
 */
export class Channel {
  seq = 0;
  private ring: BusRecord[] = [];
  private oldest = 0;

  constructor(
    readonly address: string,
    readonly epoch: number,
    private readonly capacity: number,
    private readonly sink: (record: BusRecord) => void,
    private readonly now: () => number,
  ) {}

  publish(type: RecordType, data: unknown): BusRecord {
    const record: BusRecord = { address: this.address, epoch: this.epoch, seq: ++this.seq, ts: this.now(), type, data };
    if (this.capacity > 0) {
      if (this.ring.length < this.capacity) this.ring.push(record);
      else {
        this.ring[this.oldest] = record;
        this.oldest = (this.oldest + 1) % this.capacity;
      }
    }
    this.sink(record);
    return record;
  }

  /** Records with seq > `after`, oldest first; undefined when some of them were already overwritten. */
  since(after: number): BusRecord[] | undefined {
    if (after >= this.seq) return [];
    const n = this.ring.length;
    const first = this.seq - n + 1; // seq of the oldest buffered record
    if (after + 1 < first) return undefined;
    const out: BusRecord[] = [];
    for (let i = 0; i < n; i++) {
      const r = this.ring[(this.oldest + i) % n]!;
      if (r.seq > after) out.push(r);
    }
    return out;
  }

  get oldestSeq(): number {
    return this.seq - this.ring.length + 1;
  }
}
