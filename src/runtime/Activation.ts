import { createActor, type AnyActor, type AnyMachineSnapshot, type EventObject } from 'xstate';
import type { Bus } from '../bus/Bus.js';
import type { Channel } from '../bus/Channel.js';
import type { RecordType } from '../bus/records.js';
import type { Clock } from '../clock.js';
import { errors, isInterlockError, type InterlockError } from '../errors.js';
import type { Kind } from '../kinds.js';
import {
  clearEnvelope,
  createEnvelope,
  LANE_CONTROL,
  PRIORITY_LANE,
  settle,
  type Envelope,
  type Priority,
  type ReplyChannel,
} from '../mailbox/envelope.js';
import { Mailbox } from '../mailbox/Mailbox.js';
import { Supervisor, type SupervisedHost } from '../supervisor/Supervisor.js';
import { Watchdog } from '../supervisor/Watchdog.js';
import { scheduleDrain } from './drainQueue.js';
import { registerHost, type TurnHost } from './registry.js';
import { TaskSet, type TaskContext, type TaskHost } from './TaskSet.js';
import { Turns } from './Turns.js';
import { AddressCounters, type KindStats } from './stats.js';

/** What an activation needs from its runtime. @internal */
export interface RuntimeContext {
  readonly clock: Clock;
  readonly random: () => number;
  readonly bus: Bus;
  nextId(): string;
  passivated(activation: Activation, persisted: unknown): void;
  quiet(): void;
}

export interface EnqueueOptions {
  priority?: Priority;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type ActivationStatus = 'loading' | 'running' | 'restarting' | 'failed' | 'stopped';

/** Deliveries per drain before yielding to I/O with setImmediate. */
const DRAIN_BUDGET = 4096;

/**
 * One live actor at one address: its XState actor, its mailbox, its turns and its
 * supervision. Every envelope reaches the machine through {@link deliver}, the single
 * choke point that also feeds the bus.
 * @internal
 */
export class Activation implements TurnHost, TaskHost, SupervisedHost {
  status: ActivationStatus = 'loading';
  readonly mailbox: Mailbox;
  readonly channel: Channel;
  readonly counters: AddressCounters;
  actor: AnyActor | undefined;
  snapshot: AnyMachineSnapshot | undefined;
  /** Bumped on every (re)start; task results from an older incarnation are dropped. */
  incarnation = 0;
  private readonly turns = new Turns();
  /** Async work started by turns; created on first use. */
  private tasks: TaskSet | undefined;
  private delivering: Envelope | undefined;
  private deliveredPublished = false;
  private drainScheduled = false;
  private draining = false;
  /** The state changed since postponed envelopes were last offered. */
  private dirty = false;
  /** Created at the first crash. */
  private supervisor: Supervisor | undefined;
  /** Only for kinds that passivate or declare stall deadlines. */
  private readonly watchdog: Watchdog | undefined;

  constructor(
    private readonly rt: RuntimeContext,
    readonly kind: Kind,
    readonly address: string,
    readonly epoch: number,
    private readonly stats: KindStats,
  ) {
    this.mailbox = new Mailbox(kind.capacity);
    this.counters = new AddressCounters(stats);
    this.channel = rt.bus.channel(address, epoch, kind.replay);
    this.watchdog = kind.idleAfterMs !== undefined || kind.hasStallStates ? new Watchdog(this, rt.clock) : undefined;
  }

  /** The key part of the address (not stored: one string less per actor). */
  get key(): string {
    return this.address.slice(this.kind.name.length + 1);
  }

  // ---- lifecycle ---------------------------------------------------------------------

  /** Starts the actor from a persisted snapshot (or fresh) and delivers what queued while loading. */
  start(persisted: unknown): void {
    if (this.status !== 'loading') return;
    this.stats.activations++;
    this.publish('lifecycle.activated', { restored: persisted !== undefined });
    this.startActor(persisted);
  }

  startActor(persisted: unknown, input?: { value: unknown }): void {
    this.incarnation++;
    this.snapshot = undefined;
    this.dirty = true;
    // Only the keys that are set: every extra option key costs each XState actor ~250 B
    // (measured). Machines get their address from addressOf(self), not self.id.
    const options: { clock: Clock; snapshot?: AnyMachineSnapshot; input?: unknown } = { clock: this.rt.clock };
    if (persisted !== undefined) options.snapshot = persisted as AnyMachineSnapshot;
    const inputValue = input ? input.value : this.kind.input?.(this.key);
    if (inputValue !== undefined) options.input = inputValue;
    const actor = createActor(this.kind.machine, options);
    this.actor = actor;
    registerHost(actor, this);
    actor.on('*', (event: EventObject) => {
      if (this.actor === actor) this.onEmitted(event);
    });
    actor.subscribe({
      next: (snapshot: AnyMachineSnapshot) => {
        if (this.actor === actor) this.onSnapshot(snapshot);
      },
      error: (err: unknown) => {
        if (this.actor === actor) this.crash(err);
      },
    });
    this.status = 'running';
    actor.start();
    this.watchdog?.armIdle();
    this.scheduleDrain();
  }

  /** Restarts a failed actor with a fresh budget. */
  revive(): boolean {
    if (this.status !== 'failed') return false;
    this.supervisor?.reset();
    this.publish('lifecycle.revived', {});
    this.startActor(undefined);
    return true;
  }

  /** Stops for good: everything waiting or running is rejected with `reason`. Returns the last snapshot. */
  stop(reason: string): unknown {
    if (this.status === 'stopped') return undefined;
    const persisted = this.status === 'running' ? this.actor?.getPersistedSnapshot() : undefined;
    this.status = 'stopped';
    this.teardown(errors.stopped(this.address, reason));
    for (const env of this.mailbox.takeAll()) this.reject(env, errors.stopped(this.address, reason));
    this.publish('lifecycle.stopped', { reason });
    return persisted;
  }

  /** Passivates if quiet: snapshot handed to the runtime for its store, actor stopped. */
  passivate(): boolean {
    if (this.status !== 'running' || !this.isQuiet()) return false;
    const persisted = this.actor?.getPersistedSnapshot();
    this.status = 'stopped';
    this.teardown(errors.stopped(this.address, 'passivated'));
    this.stats.passivations++;
    this.publish('lifecycle.passivated', {});
    this.rt.passivated(this, persisted);
    return true;
  }

  /** Nothing queued, postponed, running, scheduled or spawned. */
  isQuiet(): boolean {
    if (this.mailbox.depth > 0 || this.turns.size > 0 || (this.tasks?.size ?? 0) > 0) return false;
    const snap = this.snapshot;
    if (snap && Object.keys(snap.children).length > 0) return false;
    const scheduled = (this.actor?.system as { getSnapshot?: () => { _scheduledEvents?: object } } | undefined)?.getSnapshot?.()
      ._scheduledEvents;
    return !scheduled || Object.keys(scheduled).length === 0;
  }

  /** Mailbox empty and no turn open: what shutdown({ drain }) waits for. */
  isDrained(): boolean {
    return this.mailbox.depth === 0 && this.turns.size === 0;
  }

  get inFlight(): number {
    return this.turns.size;
  }

  // ---- enqueue -----------------------------------------------------------------------

  /** Accepts an envelope or throws a coded error. Never blocks, never drops silently. */
  enqueue(event: EventObject, options: EnqueueOptions | undefined, reply: ReplyChannel | undefined, cancels?: Envelope): Envelope {
    if (this.status === 'failed') throw errors.failed(this.address, this.supervisor?.lastError);
    if (this.status === 'stopped') throw errors.stopped(this.address, 'stopped');
    // A runtime-generated cancel must reach a running turn even when the mailbox is full.
    if (!cancels && this.mailbox.isFull) {
      this.counters.countRefused();
      this.publish('mailbox.rejected', { type: event.type, code: 'INTERLOCK_MAILBOX_FULL' });
      throw errors.mailboxFull(this.address, this.kind.capacity);
    }
    const now = this.rt.clock.now();
    const timeoutMs = options?.timeoutMs ?? (reply ? this.kind.defaultTimeoutMs : undefined);
    const lane = cancels || this.kind.control.has(event.type) ? LANE_CONTROL : PRIORITY_LANE[options?.priority ?? 'normal'];
    const deadline = timeoutMs === undefined ? Infinity : now + timeoutMs;
    const env = createEnvelope(this.rt.nextId(), event, lane, now, deadline, reply, cancels);
    this.mailbox.enqueue(env);
    this.counters.countEnqueued();
    this.publish('mailbox.enqueued', { id: env.id, type: event.type, lane: env.lane, depth: this.mailbox.depth });
    if (timeoutMs !== undefined) env.timer = this.rt.clock.setTimeout(() => this.expire(env, timeoutMs), timeoutMs);
    const signal = options?.signal;
    if (signal) {
      const onAbort = () => this.abort(env, 'cancelled');
      signal.addEventListener('abort', onAbort, { once: true });
      env.unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    this.watchdog?.touch();
    this.scheduleDrain();
    return env;
  }

  // ---- delivery ----------------------------------------------------------------------

  private scheduleDrain(): void {
    if (this.drainScheduled || this.status !== 'running') return;
    this.drainScheduled = true;
    scheduleDrain(this);
  }

  /** @internal called by the drain queue */
  drain(): void {
    this.drainScheduled = false;
    if (this.status !== 'running' || this.draining) return;
    this.draining = true;
    let budget = DRAIN_BUDGET;
    try {
      while (this.status === 'running') {
        const env = this.next();
        if (!env) break;
        this.deliver(env);
        if (--budget === 0) {
          setImmediate(() => this.scheduleDrain());
          break;
        }
      }
    } finally {
      this.draining = false;
    }
    if (this.isDrained()) this.rt.quiet();
  }

  /** Postponed envelopes first (one head per type, oldest first) after a state change, then the lanes. */
  private next(): Envelope | undefined {
    if (this.dirty && this.mailbox.postponed > 0 && this.snapshot) {
      this.dirty = false;
      for (const head of this.mailbox.postponedHeads()) {
        if (this.snapshot.can(head.event)) {
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
    const now = this.rt.clock.now();
    if (now >= env.deadline) {
      // The mailbox changed: postponed envelopes behind this one must be offered again.
      this.dirty = true;
      return this.expire(env, env.deadline - env.enqueuedAt);
    }
    if (env.cancels && !this.cancelStillWanted(env)) return;
    const actor = this.actor!;
    const before = this.snapshot!;
    env.state = 'running';
    env.deliveredAt = now;
    const prevTurn = env.reply ? this.turns.begin(env) : undefined;
    this.delivering = env;
    this.deliveredPublished = false;
    try {
      actor.send(env.event);
    } finally {
      this.delivering = undefined;
    }
    if (this.actor !== actor || this.status !== 'running') {
      // The machine crashed on this envelope (crash() recorded its delivery and answered its caller).
      if (!env.reply) this.finishTell(env);
      return;
    }
    if (!this.deliveredPublished) {
      if (this.snapshot === before && !before.can(env.event)) {
        // Not accepted in this state: postpone. Nothing ran, so nothing to undo but the turn.
        if (env.reply) {
          this.turns.undo(env, prevTurn);
        }
        this.postpone(env);
        return;
      }
      this.markDelivered(env);
    }
    if (!env.reply) this.finishTell(env);
  }

  /** A runtime cancel is dropped once its turn ended, and waits (postponed) while the state cannot take it. */
  private cancelStillWanted(env: Envelope): boolean {
    const target = env.cancels!;
    if (target.state !== 'running' || !this.turns.isOpen(target)) {
      env.state = 'done';
      this.publish('mailbox.dropped', { id: env.id, type: env.event.type, reason: 'turn-ended' });
      return false;
    }
    if (!this.snapshot!.can(env.event)) {
      this.postpone(env);
      return false;
    }
    return true;
  }

  private markDelivered(env: Envelope): void {
    this.deliveredPublished = true;
    const wait = env.deliveredAt - env.enqueuedAt;
    this.counters.countDelivered(wait);
    this.publish('mailbox.delivered', { id: env.id, type: env.event.type, waitMs: wait });
  }

  private finishTell(env: Envelope): void {
    env.state = 'done';
    clearEnvelope(env, this.rt.clock);
  }

  private postpone(env: Envelope): void {
    this.mailbox.postpone(env);
    this.publish('mailbox.postponed', { id: env.id, type: env.event.type, postponed: this.mailbox.postponed });
  }

  // ---- what the machine does ---------------------------------------------------------

  private onSnapshot(snapshot: AnyMachineSnapshot): void {
    // A new snapshot or a queued answer means the machine took the event being delivered.
    if (this.delivering && !this.deliveredPublished && (snapshot !== this.snapshot || this.turns.hasAnswers)) {
      this.markDelivered(this.delivering);
    }
    if (snapshot !== this.snapshot) {
      this.snapshot = snapshot;
      this.dirty = true;
      this.publish('snapshot', { value: snapshot.value, status: snapshot.status, context: snapshot.context });
      this.watchdog?.progress(snapshot);
      if (snapshot.status === 'done') queueMicrotask(() => this.restartAfterDone());
      else if (!this.draining && this.mailbox.depth > 0) this.scheduleDrain();
    }
    if (this.turns.hasAnswers) this.flushAnswers();
  }

  private onEmitted(event: EventObject): void {
    if (this.delivering && !this.deliveredPublished) this.markDelivered(this.delivering);
    const explicit = (event as { requestId?: unknown }).requestId;
    const env = typeof explicit === 'string' ? this.turns.get(explicit) : this.turns.current;
    this.emitFor(env, event);
    if (env && this.kind.terminal.has(event.type)) this.closeTurn(env, true, event);
  }

  deliveringId(): string | undefined {
    return this.delivering?.id;
  }

  answer(to: { id: string | undefined } | undefined, ok: boolean, value: unknown): void {
    // Bound now, flushed after the transition commits (never mid-transition).
    this.turns.queueAnswer(to, ok, value);
  }

  private flushAnswers(): void {
    for (const a of this.turns.takeAnswers()) {
      const env = a.to === undefined ? undefined : this.turns.get(a.to);
      if (env) this.closeTurn(env, a.ok, a.value);
    }
  }

  private closeTurn(env: Envelope, ok: boolean, value: unknown): void {
    this.turns.end(env);
    env.state = 'done';
    const ms = this.rt.clock.now() - env.deliveredAt;
    this.counters.countReplied(ms);
    this.publish('turn.replied', { id: env.id, ok, processingMs: ms });
    clearEnvelope(env, this.rt.clock);
    this.tasks?.endTurn(env, () => errors.stopped(this.address, 'turn ended'));
    if (ok) settle(env, undefined, value);
    else settle(env, isInterlockError(value) ? value : errors.turnFailed(this.address, value));
    if (this.mailbox.depth > 0) this.scheduleDrain();
    else if (this.isDrained()) this.rt.quiet();
  }

  startTask(
    id: string | undefined,
    run: (ctx: TaskContext) => unknown,
    done: (o: unknown) => EventObject,
    error: (e: unknown) => EventObject,
    forRequest?: { id: string | undefined },
  ): void {
    // The delivery that started the task is recorded before the task is.
    if (this.delivering && !this.deliveredPublished) this.markDelivered(this.delivering);
    // Default owner: the request being delivered (none for a tell), or, for work started by
    // an internal event (a task's completion), the current turn.
    const delivering = this.delivering;
    const turn = forRequest
      ? forRequest.id === undefined
        ? undefined
        : this.turns.get(forRequest.id)
      : delivering
        ? delivering.reply
          ? delivering
          : undefined
        : this.turns.current;
    (this.tasks ??= new TaskSet(this)).start(id, turn, run, done, error);
  }

  abortTask(id: string): void {
    this.tasks?.abort(id, () => errors.cancelled(this.address, 'running'));
  }

  fenceTask(id: string): void {
    this.tasks?.fence(id, () => errors.cancelled(this.address, 'running'));
  }

  isRunning(): boolean {
    return this.status === 'running';
  }

  sendInternal(event: EventObject): void {
    try {
      this.actor!.send(event);
    } catch (err) {
      // send() itself does not throw for machine errors (they arrive as crash()); this is a bad event object.
      this.crash(err);
    }
  }

  emitFor(turn: Envelope | undefined, event: EventObject): void {
    const env = turn && this.turns.isOpen(turn) ? turn : undefined;
    this.publish('emitted', { event, requestId: env?.id });
    if (env?.reply?.next && !env.settled) env.reply.next(event);
  }

  heartbeat(): void {
    this.watchdog?.heartbeat();
  }

  // ---- caller-side endings -----------------------------------------------------------

  /** The caller's signal fired, or its deadline passed. */
  abort(env: Envelope, why: 'cancelled' | 'deadline', timeoutMs = 0): void {
    if (env.state === 'queued' || env.state === 'postponed') {
      this.mailbox.remove(env);
      const err = why === 'cancelled' ? errors.cancelled(this.address, 'queued') : errors.deadlineExceeded(this.address, 'queued', timeoutMs);
      this.reject(env, err);
      if (this.isDrained()) this.rt.quiet();
    } else if (env.state === 'running' && env.reply) {
      clearEnvelope(env, this.rt.clock);
      if (!env.settled) {
        settle(env, why === 'cancelled' ? errors.cancelled(this.address, 'running') : errors.deadlineExceeded(this.address, 'running', timeoutMs));
      }
      if (this.kind.cancelEvent && this.status === 'running') {
        this.enqueue({ type: this.kind.cancelEvent, requestId: env.id } as EventObject, undefined, undefined, env);
      }
    }
  }

  private expire(env: Envelope, timeoutMs: number): void {
    env.timer = undefined;
    this.abort(env, 'deadline', timeoutMs);
  }

  /** Ends a waiting envelope with a coded error. */
  private reject(env: Envelope, err: InterlockError): void {
    env.state = 'done';
    clearEnvelope(env, this.rt.clock);
    this.counters.countRejected();
    this.publish('mailbox.rejected', { id: env.id, type: env.event.type, code: err.code });
    settle(env, err);
  }

  // ---- supervision -------------------------------------------------------------------

  /** A machine error or a stall: the supervisor answers the open turns, then restarts per policy or fails. */
  crash(cause: unknown, stall?: { state: string; stallAfterMs: number }): void {
    if (this.status !== 'running') return;
    // The machine took the envelope it crashed on: its action or guard ran.
    if (this.delivering && !this.deliveredPublished) this.markDelivered(this.delivering);
    (this.supervisor ??= new Supervisor(this, this.rt.clock, this.rt.random, this.stats)).crash(cause, stall);
  }

  private restartAfterDone(): void {
    if (this.status !== 'running' || this.snapshot?.status !== 'done') return;
    this.teardown(errors.stopped(this.address, 'machine reached a final state'));
    this.publish('lifecycle.restarted', { attempt: 0, delayMs: 0, reason: 'done' });
    this.startActor(undefined);
  }

  rejectWaiting(err: InterlockError): void {
    for (const env of this.mailbox.takeAll()) this.reject(env, err);
  }

  quiet(): void {
    this.rt.quiet();
  }

  /** Stops the XState actor and its tasks; open turns get `err`. The mailbox is kept. */
  teardown(err: InterlockError): void {
    const actor = this.actor;
    this.actor = undefined;
    this.incarnation++;
    this.watchdog?.stop();
    this.supervisor?.cancelRestart();
    this.tasks?.stopAll(() => err);
    this.tasks = undefined;
    for (const env of this.turns.takeAll()) {
      env.state = 'done';
      clearEnvelope(env, this.rt.clock);
      // The terminal record of a turn the runtime ended, not the machine.
      this.publish('turn.replied', { id: env.id, ok: false, code: err.code });
      settle(env, err);
    }
    actor?.stop();
  }

  publish(type: RecordType, data: unknown): void {
    this.channel.publish(type, data);
  }
}

