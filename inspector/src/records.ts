/**
 * What the page receives and shows: the bus records of the `interlock.v1` protocol's `next`
 * messages (the public view only: the server never sends what an actor does not publish),
 * and the envelopes of a mailbox. DOM-free, so the reconstruction logic is unit-tested in Node.
 */

/** One record of one address, as a `next` message's payload carries it. */
export interface Rec {
  readonly address: string;
  readonly epoch: number;
  readonly seq: number;
  readonly type: string;
  readonly data: unknown;
  readonly ts?: number;
  /** False on the snapshot a server sends when the resume point was no longer buffered. */
  readonly recovered?: false;
}

/** A mailbox entry as the page shows it. Unknown fields (not published) are undefined. */
export interface MailboxEntry {
  readonly id: string;
  readonly type: string;
  /** 'control' | 'high' | 'normal' | 'low', or undefined when not published. */
  readonly lane: string | undefined;
  /** Clock ms when it was enqueued. */
  readonly enqueuedAt: number | undefined;
  /** Clock ms after which it will not start; undefined for none or not published. */
  readonly deadline: number | undefined;
  readonly postponed: boolean;
}

const LANES = ['control', 'high', 'normal', 'low'];

/** The runtime numbers lanes (0 control … 3 low); a name passes through. */
export function laneName(lane: unknown): string | undefined {
  if (typeof lane === 'number') return LANES[lane] ?? String(lane);
  return typeof lane === 'string' ? lane : undefined;
}

/** Orders records of one address: by activation epoch, then seq. */
export function compareRecs(a: { epoch: number; seq: number }, b: { epoch: number; seq: number }): number {
  return a.epoch - b.epoch || a.seq - b.seq;
}

/** A record's data as an object (records always carry objects; anything else reads as empty). */
export function fields(rec: { data: unknown }): Record<string, unknown> {
  return typeof rec.data === 'object' && rec.data !== null ? (rec.data as Record<string, unknown>) : {};
}

/** The emitted event of an `emitted` record, or undefined. */
export function emittedEvent(rec: Rec): Record<string, unknown> | undefined {
  if (rec.type !== 'emitted') return undefined;
  const event = fields(rec).event;
  return typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : undefined;
}

/**
 * One line that says what a record means, for the timeline: the emitted event's type and
 * reason, a mailbox entry's event type, a snapshot's state. The payload itself is shown beside it.
 */
export function summarize(rec: Rec): string {
  const d = fields(rec);
  const event = emittedEvent(rec);
  if (event) {
    const reason = typeof event.reason === 'string' ? ` ${event.reason}` : '';
    const superseded = event.reason === 'interrupted' || event.reason === 'superseded' ? ' (superseded)' : '';
    return `${String(event.type)}${reason}${superseded}`;
  }
  if (rec.type === 'snapshot') return `→ ${stateLabel(d.value)}${d.status !== undefined && d.status !== 'active' ? ` (${String(d.status)})` : ''}`;
  if (rec.type.startsWith('mailbox.')) return `${String(d.type ?? '')}${d.code ? ` ${String(d.code)}` : ''}${d.reason ? ` ${String(d.reason)}` : ''}`;
  if (rec.type === 'turn.replied') return `request ${String(d.id)} ${d.ok === false ? `ended without an answer${d.code ? ` ${String(d.code)}` : ''}` : 'answered'}`;
  if (rec.type === 'transition') {
    // src/inspect/tap.ts: { event: { type }, from, to, transitions: [{ source, targets, event }] }
    const event = typeof d.event === 'object' && d.event !== null ? (d.event as { type?: unknown }).type : d.event;
    return `${String(event ?? '')}: ${stateLabel(d.from)} → ${stateLabel(d.to)}`;
  }
  if (typeof d.error === 'string') return d.error;
  return '';
}

/** A state value as text: `streaming`, `a.b`, `{x: a, y: b}` for parallel regions. */
export function stateLabel(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(stateLabel).join(', ');
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [k, v] = entries[0]!;
      return typeof v === 'object' && v !== null && Object.keys(v).length === 0 ? k : `${k}.${stateLabel(v)}`;
    }
    return `{${entries.map(([k, v]) => `${k}: ${stateLabel(v)}`).join(', ')}}`;
  }
  return String(value);
}
