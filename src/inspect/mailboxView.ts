/**
 * An actor's mailbox as the inspector shows it: the running turns, the queued envelopes in
 * delivery order and the postponed ones oldest first, each with its lane, age and deadline,
 * and its event as {@link shownEvent} allows (type only by default). Built only on request,
 * in O(depth); nothing is kept or allocated for it otherwise.
 */
import type { Kind } from '../kinds.js';
import type { Envelope } from '../mailbox/envelope.js';
import type { Mailbox } from '../mailbox/Mailbox.js';
import { shownEvent, type ShownEvent } from './publicEvent.js';

export type LaneName = 'control' | 'high' | 'normal' | 'low';
const LANE_NAMES: readonly LaneName[] = ['control', 'high', 'normal', 'low'];

export interface MailboxEntry {
  /** The envelope id: `requestId` in records, `id` in `mailbox.*` records. */
  readonly id: string;
  readonly event: ShownEvent;
  readonly lane: LaneName;
  /** How the sender waits: `tell` (nobody), `ask` (one answer), `stream` (emitted events). */
  readonly reply: 'tell' | 'ask' | 'stream';
  /** Clock time (ms) it was enqueued, and how long ago. */
  readonly enqueuedAt: number;
  readonly ageMs: number;
  /** Clock time (ms) after which it is rejected unstarted, and how long is left; null for none. */
  readonly deadline: number | null;
  readonly remainingMs: number | null;
  /** A runtime cancel: the id of the running turn it is for. */
  readonly cancels?: string;
}

export interface RunningTurn extends MailboxEntry {
  /** Clock time (ms) it was delivered, and for how long it has run. */
  readonly startedAt: number;
  readonly runningMs: number;
  /** Its caller has already been answered (or gave up); the actor may still be finishing it. */
  readonly settled: boolean;
}

export interface MailboxView {
  readonly address: string;
  /** Clock time (ms) the view was taken at; ages and remaining times are relative to it. */
  readonly now: number;
  readonly capacity: number;
  /** Queued plus postponed. */
  readonly depth: number;
  /** Open turns (asks and streams being answered), oldest first. */
  readonly running: readonly RunningTurn[];
  /** In the order they will be delivered: control lane first, then high, normal, low; FIFO within a lane. */
  readonly queued: readonly MailboxEntry[];
  /** Not taken in the current state; offered again, oldest first, after every state change. */
  readonly postponed: readonly MailboxEntry[];
}

/** @internal */
export interface MailboxSource {
  readonly address: string;
  readonly kind: Kind;
  readonly mailbox: Mailbox;
  openTurns(): Envelope[];
}

/** @internal */
export function mailboxView(source: MailboxSource, now: number): MailboxView {
  const { mailbox, kind } = source;
  const queued: Envelope[] = [];
  const postponed: Envelope[] = [];
  mailbox.queuedInOrder(queued);
  mailbox.postponedInOrder(postponed);
  const entry = (env: Envelope): MailboxEntry => {
    const finite = Number.isFinite(env.deadline);
    return {
      id: env.id,
      event: shownEvent(kind, env.event),
      // Every listed envelope was queued in one of the LANES lanes (0..3): queued/postponed lists and open turns come from them.
      lane: LANE_NAMES[env.lane]!,
      reply: env.reply?.mode ?? 'tell',
      enqueuedAt: env.enqueuedAt,
      ageMs: now - env.enqueuedAt,
      deadline: finite ? env.deadline : null,
      remainingMs: finite ? Math.max(0, env.deadline - now) : null,
      ...(env.cancels ? { cancels: env.cancels.id } : {}),
    };
  };
  return {
    address: source.address,
    now,
    capacity: mailbox.capacity,
    depth: mailbox.depth,
    running: source.openTurns().map((env) => ({ ...entry(env), startedAt: env.deliveredAt, runningMs: now - env.deliveredAt, settled: env.settled })),
    queued: queued.map(entry),
    postponed: postponed.map(entry),
  };
}
