import type { AnyActor, AnyMachineSnapshot, EventObject } from 'xstate';
import type { RecordType } from '../bus/records.js';
import type { Clock } from '../clock.js';
import { errors, isInterlockError, type InterlockError } from '../errors.js';
import type { Kind } from '../kinds.js';
import {
  clearEnvelope,
  createEnvelope,
  dismiss,
  LANE_CONTROL,
  PRIORITY_LANE,
  settle,
  type Envelope,
  type Priority,
  type ReplyChannel,
} from './envelope.js';
import { Mailbox } from './Mailbox.js';
import { scheduleDrain } from './drainQueue.js';
import { send, sendInternalEvent } from './send.js';
import { Turns } from './Turns.js';

/** What delivery counts (the runtime's stats implement it). @internal */
export interface DeliveryCounters {
  countRefused(): void;
  countEnqueued(): void;
  countDelivered(waitMs: number): void;
  countRejected(): void;
  countReplied(processingMs: number): void;
}

export interface EnqueueOptions {
  priority?: Priority;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What delivery needs from the actor it feeds. @internal */
export interface DeliveryHost {
  readonly kind: Kind;
  readonly address: string;
  readonly status: string;
  readonly actor: AnyActor | undefined;
  readonly snapshot: AnyMachineSnapshot | undefined;
  readonly counters: DeliveryCounters;
  readonly clock: Clock;
  nextId(): string;
  publish(type: RecordType, data: unknown): void;
  /** Why a failed actor refuses envelopes. */
  failure(): unknown;
  /** Mailbox activity (postpones passivation). */
  touched(): void;
  /** Nothing waiting and no turn open: shutdown's drain may be done. */
  quiet(): void;
  /** The machine failed (or was handed an event it must never see): supervise. */
  crash(cause: unknown): void;
  /** A turn ended: its tasks are fenced. */
  endTurnTasks(turn: Envelope): void;
}

/** Deliveries per drain before yielding to I/O with setImmediate. @internal */
export const DRAIN_BUDGET = 4096;

/**
 * Every envelope's life, from admission to its one ending: admits envelopes (capacity,
 * deadline, abort signal), drains them on a shared microtask in lane/FIFO order, postpones
 * what the current state does not take and offers it again after every state change, keeps
 * the turn table (open asks and streams, the answers a transition queued) and ends every
 * envelope exactly once: answered, rejected, or ended with its actor. `send()` (send.ts) is the
 * one place any event enters the machine: envelopes from {@link deliver}, task outcomes
 * from {@link sendInternal}.
 *
 * Whether the machine *took* the envelope being delivered is decided here too: the actor
 * reports each visible effect (a new snapshot, an answer, an emit, a task start, a crash)
 * through {@link noteTaken} while `send()` runs, so `mailbox.delivered` is published before
 * the records of what the delivery caused; no effect and `can()` false means postponed.
 * @internal
 */
export class Delivery {
  readonly mailbox: Mailbox;
  readonly turns = new Turns();
  /** The envelope whose event the machine is processing right now. */
  delivering: Envelope | undefined;
  // Stryker disable next-line BooleanLiteral: deliver() resets it before every send(), and it is read only while delivering
  private deliveredPublished = false;
  private drainScheduled = false;
  private draining = false;
  /** The state changed since postponed envelopes were last offered. */
  // Stryker disable next-line BooleanLiteral: the first snapshot's stateChanged() sets it before any drain runs (start() is synchronous, a drain a later microtask)
  private dirty = false;

  constructor(private readonly host: DeliveryHost) {
    this.mailbox = new Mailbox(host.kind.capacity);
  }

  // ---- admission ---------------------------------------------------------------------

  /** Accepts an envelope or throws a coded error. Never blocks, never drops silently. */
  enqueue(event: EventObject, options: EnqueueOptions | undefined, reply: ReplyChannel | undefined, cancels?: Envelope): Envelope {
    const host = this.host;
    if (host.status === 'failed') throw errors.failed(host.address, host.failure());
    if (host.status === 'stopped') throw errors.stopped(host.address, 'stopped');
    // A runtime-generated cancel must reach a running turn even when the mailbox is full.
    if (!cancels && this.mailbox.isFull) {
      host.counters.countRefused();
      host.publish('mailbox.rejected', { type: event.type, code: 'INTERLOCK_MAILBOX_FULL' });
      throw errors.mailboxFull(host.address, host.kind.capacity);
    }
    const now = host.clock.now();
    const timeoutMs = options?.timeoutMs ?? (reply ? host.kind.defaultTimeoutMs : undefined);
    const lane = cancels || host.kind.control.has(event.type) ? LANE_CONTROL : PRIORITY_LANE[options?.priority ?? 'normal'];
    // Stryker disable next-line ConditionalExpression: with no timeout `now + undefined` is NaN, which every reader takes as Infinity (`now >= NaN` is false, Number.isFinite(NaN) too)
    const deadline = timeoutMs === undefined ? Infinity : now + timeoutMs;
    const env = createEnvelope(host.nextId(), event, lane, now, deadline, reply, cancels);
    this.mailbox.enqueue(env);
    host.counters.countEnqueued();
    host.publish('mailbox.enqueued', { id: env.id, type: event.type, lane: env.lane, depth: this.mailbox.depth });
    if (timeoutMs !== undefined) env.timer = host.clock.setTimeout(() => this.expire(env, timeoutMs), timeoutMs, 'guard');
    const signal = options?.signal;
    if (signal) {
      const onAbort = () => this.abort(env, 'cancelled');
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal fires 'abort' once, and every ending of the envelope removes the listener
      signal.addEventListener('abort', onAbort, { once: true });
      env.unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    host.touched();
    this.schedule();
    return env;
  }

  // ---- what the actor tells delivery -------------------------------------------------

  /** A new actor incarnation started: offer everything again. */
  // Stryker disable next-line BlockStatement: actor.start(), just before, gave Activation the first snapshot, whose stateChanged() did the same (a machine whose first state is final restarts without end either way)
  started(): void {
    this.dirty = true;
    this.schedule();
  }

  /** The snapshot changed: postponed envelopes may be taken now. */
  stateChanged(): void {
    this.dirty = true;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path; with nothing waiting a drain finds nothing and only re-runs quietIfDrained()
    if (this.mailbox.depth > 0) this.schedule();
  }

  // ---- answers -----------------------------------------------------------------------

  /** An answer the machine gave during a transition; it reaches the caller after the transition commits. */
  answer(to: { id: string | undefined } | undefined, ok: boolean, value: unknown): void {
    this.turns.queueAnswer(to, ok, value);
  }

  /** Whether the request `to` names (absent: the current turn) is open and its caller still waits. */
  awaitsAnswer(to: { id: string | undefined } | undefined): boolean {
    // Stryker disable next-line ConditionalExpression: a fast path; turns.get(undefined) finds no turn (turn ids are strings)
    const env = to ? (to.id === undefined ? undefined : this.turns.get(to.id)) : this.turns.current;
    return env !== undefined && !env.settled;
  }

  /** Delivers the answers queued during the transition that just committed. */
  flushAnswers(): void {
    for (const a of this.turns.takeAnswers()) {
      // Stryker disable next-line ConditionalExpression: a fast path; turns.get(undefined) finds no turn (turn ids are strings)
      const env = a.to === undefined ? undefined : this.turns.get(a.to);
      if (env) this.closeTurn(env, a.ok, a.value);
    }
  }

  /** Ends an open turn with the machine's answer (or a terminal emitted event). */
  closeTurn(env: Envelope, ok: boolean, value: unknown): void {
    const host = this.host;
    this.turns.end(env);
    this.finish(env);
    const ms = host.clock.now() - env.deliveredAt;
    host.counters.countReplied(ms);
    host.publish('turn.replied', { id: env.id, ok, processingMs: ms });
    host.endTurnTasks(env);
    // A caller already answered (it cancelled, or its stream's subscriber left) hears nothing more: nothing is built for it.
    if (!env.settled) {
      if (ok) settle(env, undefined, value);
      else settle(env, isInterlockError(value) ? value : errors.turnFailed(host.address, value));
    }
    this.quietIfDrained();
  }

  /** Ends every open turn with the error `why` builds, once, only if a turn is open (the actor is torn down). The mailbox is kept. */
  endTurns(why: () => InterlockError): void {
    if (this.turns.size === 0) return void this.turns.takeAll();
    const err = why();
    for (const env of this.turns.takeAll()) {
      this.finish(env);
      // The terminal record of a turn the runtime ended, not the machine.
      this.host.publish('turn.replied', { id: env.id, ok: false, code: err.code });
      settle(env, err);
    }
    this.quietIfDrained();
  }

  /** The machine visibly took the envelope being delivered (it emitted, answered, crashed, started work). */
  noteTaken(): void {
    if (this.delivering && !this.deliveredPublished) this.markDelivered(this.delivering);
  }

  /** Rejects everything waiting with `err`. */
  rejectAll(why: () => InterlockError): void {
    if (this.mailbox.depth === 0) return;
    const err = why();
    for (const env of this.mailbox.takeAll()) this.reject(env, err.code, () => err);
    this.quietIfDrained();
  }

  // ---- draining ----------------------------------------------------------------------

  /** A drain in progress takes what arrives meanwhile (and reschedules itself when it yields), so none is scheduled during one. */
  schedule(): void {
    if (this.drainScheduled || this.draining || this.host.status !== 'running') return;
    this.drainScheduled = true;
    scheduleDrain(this);
  }

  /** @internal called by the drain queue */
  drain(): void {
    this.drainScheduled = false;
    // Stryker disable next-line ConditionalExpression: the loop below runs only while running; without this a late drain only re-runs quietIfDrained()
    if (this.host.status !== 'running') return;
    this.draining = true;
    let budget = DRAIN_BUDGET;
    try {
      while (this.host.status === 'running') {
        const env = this.next();
        if (!env) break;
        this.deliver(env);
        if (--budget === 0) {
          setImmediate(() => this.schedule());
          break;
        }
      }
    } finally {
      this.draining = false;
    }
    this.quietIfDrained();
  }

  /**
   * Nothing waits and no turn is open: tells the host (a shutdown's drain may be done). Called
   * after every change that can leave the actor drained; the runtime re-checks every actor on
   * each call, so a call at any other moment finds what the last check found.
   */
  private quietIfDrained(): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: an extra quiet() only repeats the runtime's last check (see above); the ->false variants die with the EqualityOperator ones
    if (this.mailbox.depth === 0 && this.turns.size === 0) this.host.quiet();
  }

  /** Postponed envelopes first (one head per type, oldest first) after a state change, then the lanes. */
  private next(): Envelope | undefined {
    const snapshot = this.host.snapshot;
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: each offers the heads again with nothing changed: a new snapshot, a restart, a head taken or withdrawn all set `dirty`, and can() reads only snapshot and event (guards are pure)
    if (this.dirty && this.mailbox.postponed > 0 && snapshot) {
      // Stryker disable next-line BooleanLiteral: as above
      this.dirty = false;
      for (const head of this.mailbox.postponedHeads()) {
        if (snapshot.can(head.event)) {
          this.mailbox.remove(head);
          this.dirty = true;
          return head;
        }
      }
    }
    for (;;) {
      const env = this.mailbox.dequeue();
      if (!env) return undefined;
      if (env.cancels) return env;
      // Same-type envelopes never overtake a postponed one.
      if (this.mailbox.hasPostponed(env.event.type)) this.postpone(env);
      else return env;
    }
  }

  /** The one place an envelope reaches the machine. */
  private deliver(env: Envelope): void {
    const host = this.host;
    const now = host.clock.now();
    if (now >= env.deadline) return this.expire(env, env.deadline - env.enqueuedAt);
    if (env.cancels && !this.cancelStillWanted(env)) return;
    const actor = host.actor!;
    const before = host.snapshot!;
    env.state = 'running';
    env.deliveredAt = now;
    const prevTurn = env.reply ? this.turns.begin(env) : undefined;
    this.delivering = env;
    this.deliveredPublished = false;
    try {
      send(actor, env.event);
    } finally {
      this.delivering = undefined;
    }
    if (host.actor !== actor) {
      // The machine crashed or stopped on this envelope (a crash recorded its delivery; the teardown ended an ask's turn).
      this.finish(env);
      return;
    }
    if (!this.deliveredPublished) {
      if (!before.can(env.event)) {
        // Not accepted in this state: postpone. Nothing ran, so nothing to undo but the turn.
        if (env.reply) this.turns.undo(env, prevTurn);
        this.postpone(env);
        return;
      }
      this.markDelivered(env);
    }
    if (!env.reply) this.finish(env);
  }

  /** The door for internal events (`runTask` outcomes): see {@link sendInternalEvent}. */
  sendInternal(event: EventObject): void {
    sendInternalEvent(this.host, event);
  }

  /** A runtime cancel is dropped once its turn ended, and waits (postponed) while the state cannot take it. */
  private cancelStillWanted(env: Envelope): boolean {
    const target = env.cancels!;
    if (!this.turns.isOpen(target)) {
      this.finish(env);
      this.host.publish('mailbox.dropped', { id: env.id, type: env.event.type, reason: 'turn-ended' });
      return false;
    }
    if (!this.host.snapshot!.can(env.event)) {
      this.postpone(env);
      return false;
    }
    return true;
  }

  private markDelivered(env: Envelope): void {
    this.deliveredPublished = true;
    const wait = env.deliveredAt - env.enqueuedAt;
    this.host.counters.countDelivered(wait);
    this.host.publish('mailbox.delivered', { id: env.id, type: env.event.type, waitMs: wait });
  }

  /** An envelope's one ending: done, its deadline timer and the caller's abort listener released. Idempotent. */
  private finish(env: Envelope): void {
    // Stryker disable next-line StringLiteral: nothing compares a state with 'done' (abort() and Mailbox.remove() ask for 'queued', 'postponed', 'running')
    env.state = 'done';
    clearEnvelope(env, this.host.clock);
  }

  private postpone(env: Envelope): void {
    this.mailbox.postpone(env);
    this.host.publish('mailbox.postponed', { id: env.id, type: env.event.type, postponed: this.mailbox.postponed });
  }

  // ---- caller-side endings -----------------------------------------------------------

  /**
   * The caller's signal fired, its deadline passed, or (`'left'`) a stream's subscriber
   * unsubscribed. A queued envelope is withdrawn; a running turn is answered and sent the
   * kind's cancel event. A caller that left is not there to be told, so no error is built
   * for it (each is a stack trace; a mass disconnect builds thousands).
   */
  abort(env: Envelope, why: 'cancelled' | 'deadline' | 'left', timeoutMs = 0): void {
    const host = this.host;
    if (env.state === 'queued' || env.state === 'postponed') {
      const wasPostponed = env.state === 'postponed';
      this.mailbox.remove(env);
      if (why === 'deadline') this.reject(env, 'INTERLOCK_DEADLINE_EXCEEDED', () => errors.deadlineExceeded(host.address, 'queued', timeoutMs));
      else this.reject(env, 'INTERLOCK_CANCELLED', () => errors.cancelled(host.address, 'queued'), why === 'cancelled');
      // Stryker disable next-line ConditionalExpression: '→ true' only re-offers unchanged heads (a cost); '→ false' is killed by caller-abort.test.ts
      if (wasPostponed) {
        // The envelope behind it may head its type now: offer the postponed again. (A queued
        // one leaving changes no postponed head, so a mass withdrawal re-offers nothing.)
        this.dirty = true;
        this.schedule();
      }
      this.quietIfDrained();
    } else if (env.state === 'running' && env.reply) {
      clearEnvelope(env, host.clock);
      if (why === 'left') dismiss(env);
      else if (!env.settled) {
        settle(env, why === 'cancelled' ? errors.cancelled(host.address, 'running') : errors.deadlineExceeded(host.address, 'running', timeoutMs));
      }
      if (host.kind.cancelEvent && host.status === 'running') {
        this.enqueue({ type: host.kind.cancelEvent, requestId: env.id } as EventObject, undefined, undefined, env);
      }
    }
  }

  private expire(env: Envelope, timeoutMs: number): void {
    env.timer = undefined;
    this.abort(env, 'deadline', timeoutMs);
  }

  /** Ends a waiting envelope with a coded error; `tell` false: its caller left, so the error is not built. */
  private reject(env: Envelope, code: InterlockError['code'], make: () => InterlockError, tell = true): void {
    this.finish(env);
    this.host.counters.countRejected();
    this.host.publish('mailbox.rejected', { id: env.id, type: env.event.type, code });
    if (tell) settle(env, make());
    else dismiss(env);
  }
}
