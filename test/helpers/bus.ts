import type { Observable, Subscription } from 'rxjs';
import type { BusRecord } from '../../src/index.js';

/** How an envelope was sent: by a caller's ask or tell, or by the runtime (a cancel for a running turn). */
export type Origin = 'ask' | 'tell' | 'cancel';

export interface EnvelopeInfo {
  id: string;
  address: string;
  type: string;
  lane: number;
  origin: Origin;
  /** The probe's request number (`event.n`), or -1 for runtime cancels. */
  n: number;
  /** Position in the global enqueue order. */
  order: number;
}

/** What the test is sending right now, so the enqueue record it causes can be tagged. */
export interface SendTag {
  origin: 'ask' | 'tell';
  n: number;
}

/**
 * Records every bus record and indexes envelopes by id from their `mailbox.enqueued`
 * record. Enqueue is synchronous inside `tell`/`ask`, so the test sets {@link tag}
 * around each call and the record it causes is tagged with the caller's request.
 */
export class BusRecorder {
  readonly records: BusRecord[] = [];
  readonly envelopes = new Map<string, EnvelopeInfo>();
  /** Envelope id per probe request number. */
  readonly idOfN = new Map<number, string>();
  tag: SendTag | undefined;
  private readonly sub: Subscription;

  constructor(events$: Observable<BusRecord>) {
    this.sub = events$.subscribe((r) => this.onRecord(r));
  }

  private onRecord(r: BusRecord): void {
    this.records.push(r);
    if (r.type !== 'mailbox.enqueued') return;
    const d = r.data as { id: string; type: string; lane: number };
    const runtimeCancel = this.tag === undefined || d.type === 'cancel';
    const info: EnvelopeInfo = {
      id: d.id,
      address: r.address,
      type: d.type,
      lane: d.lane,
      origin: runtimeCancel ? 'cancel' : this.tag!.origin,
      n: runtimeCancel ? -1 : this.tag!.n,
      order: this.envelopes.size,
    };
    this.envelopes.set(d.id, info);
    if (!runtimeCancel) this.idOfN.set(info.n, d.id);
  }

  /** Runs a send with its tag set. */
  sending<T>(tag: SendTag, send: () => T): T {
    this.tag = tag;
    try {
      return send();
    } finally {
      this.tag = undefined;
    }
  }

  of(type: BusRecord['type'], address?: string): BusRecord[] {
    return this.records.filter((r) => r.type === type && (address === undefined || r.address === address));
  }

  /** Records that name an envelope id in `data.id`. */
  byId(id: string): BusRecord[] {
    return this.records.filter((r) => (r.data as { id?: unknown } | undefined)?.id === id);
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}

/** A compact line per record, for failure messages. */
export function describeRecords(records: readonly BusRecord[]): string {
  return records
    .map((r) => {
      const d = r.data as Record<string, unknown> | undefined;
      const bits = d && typeof d === 'object' ? ['id', 'task', 'type', 'code', 'reason', 'state', 'ok', 'fenced'].filter((k) => k in d).map((k) => `${k}=${String(d[k])}`) : [];
      return `${r.ts}ms ${r.address}#${r.epoch}.${r.seq} ${r.type} ${bits.join(' ')}`;
    })
    .join('\n');
}
