import type { Clock } from '../clock.js';
import type { BusRecord, RecordType } from './records.js';

/**
 * The record stream of one activation: assigns gapless `seq` numbers and keeps the last
 * `capacity` records in a ring so a subscriber can resume.
 *
 * The ring starts with the first record someone receives (a subscriber to this address or
 * to the whole bus): a resume point can only come from a record that was seen, so nothing
 * before it is ever asked for. An actor nobody watches keeps no records at all, which is
 * most of the memory of an idle actor. The ring then grows on demand up to `capacity`.
 *
 * A record nobody would receive or buffer (no subscriber to this address or to the whole
 * bus, and no ring yet) is not built at all: only its `seq` is counted, so numbering stays
 * gapless for whoever subscribes later. Once the ring has started, every record is built
 * and buffered, watched or not, so a subscriber that leaves and comes back with `since`
 * gets what happened meanwhile.
 */
export class Channel {
  seq = 0;
  private ring: BusRecord[] | undefined;
  private oldest = 0;

  constructor(
    readonly address: string,
    readonly epoch: number,
    private readonly capacity: number,
    /** Delivers a record; returns whether anyone received it. */
    private readonly sink: (record: BusRecord) => boolean,
    private readonly clock: Clock,
    /** Whether anyone listens to this address or to the whole bus now. */
    private readonly watched: (address: string) => boolean,
  ) {}

  /** Whether a record published now would be received or buffered (so worth building). */
  get wanted(): boolean {
    return this.ring !== undefined || this.watched(this.address);
  }

  /** Publishes a record, or only counts its seq when nobody would receive or buffer it. */
  publish(type: RecordType, data: unknown): void {
    // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path; without it the record is built, the sink reports nobody received it, no ring starts, and seq advances the same
    if (this.ring === undefined && !this.watched(this.address)) {
      this.seq++;
      return;
    }
    const record: BusRecord = { address: this.address, epoch: this.epoch, seq: ++this.seq, ts: this.clock.now(), type, data };
    const seen = this.sink(record);
    if (this.capacity > 0 && (this.ring !== undefined || seen)) {
      const ring = (this.ring ??= []);
      // Stryker disable next-line ConditionalExpression: while the ring grows `oldest` equals its length, so the overwrite branch appends the same way
      if (ring.length < this.capacity) ring.push(record);
      else {
        ring[this.oldest] = record;
        this.oldest = (this.oldest + 1) % this.capacity;
      }
    }
  }

  /** Records with seq > `after`, oldest first; undefined when some of them were already overwritten. */
  since(after: number): BusRecord[] | undefined {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path; for after >= seq the code below returns [] as well (no buffered record has seq > after)
    if (after >= this.seq) return [];
    const ring = this.ring ?? [];
    const n = ring.length;
    const first = this.seq - n + 1; // seq of the oldest buffered record
    if (after + 1 < first) return undefined;
    const out: BusRecord[] = [];
    for (let i = 0; i < n; i++) {
      const r = ring[(this.oldest + i) % n]!;
      if (r.seq > after) out.push(r);
    }
    return out;
  }

  get oldestSeq(): number {
    return this.seq - (this.ring?.length ?? 0) + 1;
  }
}
