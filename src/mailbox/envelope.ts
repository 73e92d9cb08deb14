import type { EventObject } from 'xstate';
import type { Clock } from '../clock.js';

/** Lanes in delivery order: control first, then the three caller priorities. */
export const LANE_CONTROL = 0;
export const LANES = 4;
export type Priority = 'high' | 'normal' | 'low';
export const PRIORITY_LANE: Readonly<Record<Priority, number>> = { high: 1, normal: 2, low: 3 };

/** How the caller of an envelope hears back. Absent for `tell`. */
export interface ReplyChannel {
  readonly mode: 'ask' | 'stream';
  resolve(output: unknown): void;
  reject(error: unknown): void;
  /** Streams only: an event the actor emitted for this request. */
  next?(event: EventObject): void;
}

export type EnvelopeState = 'queued' | 'postponed' | 'running' | 'done';

/**
 * What a mailbox holds. Envelopes are intrusive list nodes (`prev`/`next`/`list`), so a
 * mailbox can enqueue, dequeue and remove any one of them (abort, deadline) in O(1).
 */
export interface Envelope {
  readonly id: string;
  /** Per-address enqueue order; FIFO is by this number. */
  readonly seq: number;
  readonly event: EventObject;
  readonly lane: number;
  readonly enqueuedAt: number;
  /** Absolute time (clock ms) after which the envelope must not start; Infinity for none. */
  readonly deadline: number;
  readonly reply: ReplyChannel | undefined;
  state: EnvelopeState;
  /** The caller has been answered (resolved, rejected, cancelled); the actor may still be running it. */
  settled: boolean;
  deliveredAt: number;
  timer: unknown;
  /** Set on a runtime-generated cancel: the running turn it is meant for. Dropped if that turn ended. */
  readonly cancels: Envelope | undefined;
  /** Removes the caller's abort listener, if any. */
  unlisten: (() => void) | undefined;
  prev: Envelope | undefined;
  next: Envelope | undefined;
  list: EnvelopeList | undefined;
}

/** A doubly linked FIFO of envelopes. */
export class EnvelopeList {
  head: Envelope | undefined = undefined;
  tail: Envelope | undefined = undefined;
  size = 0;

  push(env: Envelope): void {
    env.list = this;
    env.next = undefined;
    env.prev = this.tail;
    if (this.tail) this.tail.next = env;
    else this.head = env;
    this.tail = env;
    this.size++;
  }

  shift(): Envelope | undefined {
    const env = this.head;
    // Stryker disable next-line ConditionalExpression: the one caller (Mailbox.dequeue) shifts only a lane whose size > 0
    if (env) this.remove(env);
    return env;
  }

  remove(env: Envelope): void {
    // Stryker disable next-line ConditionalExpression: every caller passes an envelope of this list (Mailbox.remove uses env.list; shift, the head)
    if (env.list !== this) return;
    if (env.prev) env.prev.next = env.next;
    else this.head = env.next;
    if (env.next) env.next.prev = env.prev;
    else this.tail = env.prev;
    env.prev = env.next = env.list = undefined;
    this.size--;
  }
}

/** A new envelope in state 'queued'. `seq` orders envelopes globally (per-address FIFO compares it). */
export function createEnvelope(
  id: string,
  event: EventObject,
  lane: number,
  enqueuedAt: number,
  deadline: number,
  reply: ReplyChannel | undefined,
  cancels: Envelope | undefined,
): Envelope {
  return {
    id,
    seq: ++seqCounter,
    event,
    lane,
    enqueuedAt,
    deadline,
    reply,
    // Stryker disable next-line StringLiteral: Mailbox.enqueue sets 'queued' again at once (Delivery.enqueue, the one caller, enqueues what it creates)
    state: 'queued',
    settled: false,
    deliveredAt: 0,
    timer: undefined,
    unlisten: undefined,
    cancels,
    prev: undefined,
    next: undefined,
    list: undefined,
  };
}

let seqCounter = 0;

/** Answers the caller, once: `error` undefined resolves with `value`. A tell has no caller. */
export function settle(env: Envelope, error: unknown, value?: unknown): void {
  if (!env.reply || env.settled) return;
  env.settled = true;
  if (error === undefined) env.reply.resolve(value);
  else env.reply.reject(error);
}

/** The caller left (a stream's subscriber unsubscribed): it is answered with nothing, and nothing is built for it. */
export function dismiss(env: Envelope): void {
  env.settled = true;
}

/** Drops the envelope's deadline timer and the caller's abort listener. */
export function clearEnvelope(env: Envelope, clock: Clock): void {
  // Stryker disable next-line ConditionalExpression: clearTimeout(undefined) is a no-op on both clocks
  if (env.timer !== undefined) {
    clock.clearTimeout(env.timer);
    env.timer = undefined;
  }
  if (env.unlisten) {
    env.unlisten();
    env.unlisten = undefined;
  }
}
