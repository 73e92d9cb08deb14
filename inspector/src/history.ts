/**
 * The selected actor's recent records and what it was at any of them: the records the page
 * has received for one address (replayed from the server's buffer, then live), bounded, in
 * order, without duplicates; and, for the scrubber, its state, status, context view and
 * mailbox as they were right after a given record. Reconstruction uses only published
 * records (`snapshot`, `mailbox.*`) and the mailbox the server reported when the actor was
 * selected, so it shows nothing the actor does not publish. DOM-free.
 */
import { compareRecs, fields, laneName, type MailboxEntry, type Rec } from './records.js';

/** The actor as it was right after one record. */
export interface PointInTime {
  /** The record this view is at; undefined while nothing is buffered. */
  readonly at: Rec | undefined;
  /** The last published snapshot at or before `at` (undefined: none buffered yet). */
  readonly state: unknown;
  readonly status: string | undefined;
  readonly context: unknown;
  /** The seq of the snapshot the state comes from. */
  readonly snapshotSeq: number | undefined;
  readonly mailbox: MailboxEntry[];
}

/** The mailbox the server reported, and after which record (its epoch and seq) it was taken. */
export interface MailboxBaseline {
  readonly epoch: number;
  readonly seq: number;
  readonly entries: readonly MailboxEntry[];
}

export class ActorHistory {
  private readonly recs: Rec[] = [];
  private baseline: MailboxBaseline | undefined;

  constructor(
    readonly address: string,
    /** Records kept at most; older ones are forgotten first. */
    private readonly capacity = 2_000,
  ) {}

  get size(): number {
    return this.recs.length;
  }

  get records(): readonly Rec[] {
    return this.recs;
  }

  get last(): Rec | undefined {
    return this.recs.at(-1);
  }

  /**
   * Adds a record. A duplicate (same epoch and seq) is ignored, but for a stand-in snapshot
   * (see below); one older than the newest is put in its place (a replay that arrives after
   * live records). Returns whether it changed the history.
   */
  add(rec: Rec): boolean {
    if (rec.address !== this.address) return false;
    const last = this.recs.at(-1);
    if (!last || compareRecs(last, rec) < 0) {
      this.recs.push(rec);
    } else {
      let i = this.recs.length - 1;
      while (i >= 0 && compareRecs(this.recs[i]!, rec) > 0) i--;
      if (i >= 0 && compareRecs(this.recs[i]!, rec) === 0) {
        // A server sends the current state as a snapshot stamped with the latest record's
        // seq (on subscribe, or instead of a replay it no longer buffers): when the real
        // record with that seq arrives (replayed), it takes the stand-in's place.
        if (this.recs[i]!.type !== 'snapshot' || rec.type === 'snapshot') return false;
        this.recs[i] = rec;
        return true;
      }
      this.recs.splice(i + 1, 0, rec);
    }
    if (this.recs.length > this.capacity) this.recs.splice(0, this.recs.length - this.capacity);
    return true;
  }

  /** The mailbox as the server reported it after record (epoch, seq): what was queued before the buffer began. */
  setMailboxBaseline(baseline: MailboxBaseline): void {
    this.baseline = baseline;
  }

  /** The index of the record with this epoch and seq, or -1. */
  indexOf(epoch: number, seq: number): number {
    return this.recs.findIndex((r) => r.epoch === epoch && r.seq === seq);
  }

  /** The actor right after the record at `index` (default: the newest). */
  at(index = this.recs.length - 1): PointInTime {
    const upto = Math.min(index, this.recs.length - 1);
    const at = upto >= 0 ? this.recs[upto] : undefined;
    let snap: Rec | undefined;
    for (let i = upto; i >= 0; i--) {
      const r = this.recs[i]!;
      if (r.type === 'snapshot' && r.data !== undefined) {
        snap = r;
        break;
      }
    }
    const s = snap ? fields(snap) : {};
    return {
      at,
      state: s.value,
      status: typeof s.status === 'string' ? s.status : undefined,
      context: s.context,
      snapshotSeq: snap?.seq,
      mailbox: this.mailboxAt(upto),
    };
  }

  /**
   * The envelopes waiting right after record `index`. Those enqueued within the buffer are
   * followed record by record; those enqueued before it are known from their removal record
   * (they were waiting until then) or from the server's baseline (still waiting when it was taken).
   */
  private mailboxAt(index: number): MailboxEntry[] {
    const waiting = new Map<string, MailboxEntry>();
    const epoch = index >= 0 ? this.recs[index]!.epoch : undefined;
    // Envelopes waiting when the buffer (of this epoch) began.
    const seenEnqueued = new Set<string>();
    const start = this.recs.findIndex((r) => r.epoch === epoch);
    for (let i = Math.max(start, 0); i < this.recs.length; i++) {
      const r = this.recs[i]!;
      if (r.epoch !== epoch) break;
      const d = fields(r);
      const id = typeof d.id === 'string' ? d.id : undefined;
      if (id === undefined) continue;
      if (r.type === 'mailbox.enqueued') seenEnqueued.add(id);
      else if (isRemoval(r.type) && !seenEnqueued.has(id) && !waiting.has(id)) {
        waiting.set(id, { id, type: String(d.type ?? '?'), lane: undefined, enqueuedAt: undefined, deadline: undefined, postponed: false });
      }
    }
    const base = this.baseline;
    if (base && base.epoch === epoch) {
      for (const e of base.entries) if (!seenEnqueued.has(e.id) && !waiting.has(e.id)) waiting.set(e.id, e);
    }
    const known = new Map(base?.entries.map((e) => [e.id, e]));
    for (let i = Math.max(start, 0); i <= index; i++) {
      const r = this.recs[i]!;
      const d = fields(r);
      const id = typeof d.id === 'string' ? d.id : undefined;
      if (id === undefined) continue;
      if (r.type === 'mailbox.enqueued') {
        const k = known.get(id);
        waiting.set(id, {
          id,
          type: String(d.type ?? '?'),
          lane: laneName(d.lane) ?? k?.lane,
          enqueuedAt: typeof d.enqueuedAt === 'number' ? d.enqueuedAt : (r.ts ?? k?.enqueuedAt),
          deadline: typeof d.deadline === 'number' ? d.deadline : k?.deadline,
          postponed: false,
        });
      } else if (r.type === 'mailbox.postponed') {
        const e = waiting.get(id);
        if (e) waiting.set(id, { ...e, postponed: true });
      } else if (isRemoval(r.type)) {
        waiting.delete(id);
      }
    }
    return [...waiting.values()];
  }
}

function isRemoval(type: string): boolean {
  return type === 'mailbox.delivered' || type === 'mailbox.rejected' || type === 'mailbox.dropped';
}
