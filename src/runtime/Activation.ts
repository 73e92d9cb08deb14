import { createActor, type AnyActor, type AnyMachineSnapshot, type EventObject } from 'xstate';
import type { Bus } from '../bus/Bus.js';
import type { Channel } from '../bus/Channel.js';
import type { RecordType } from '../bus/records.js';
import type { Clock } from '../clock.js';
import { errors, type InterlockError } from '../errors.js';
import { isReservedType } from '../events.js';
import type { Kind } from '../kinds.js';
import type { Envelope } from '../mailbox/envelope.js';
import type { Mailbox } from '../mailbox/Mailbox.js';
import { Supervisor, type SupervisedHost } from '../supervisor/Supervisor.js';
import { Watchdog } from '../supervisor/Watchdog.js';
import { Delivery, type DeliveryHost } from '../mailbox/Delivery.js';
import { tapActor, type Tap, type TapHost } from '../inspect/tap.js';
import { registerHost, type TurnHost } from './hostSlot.js';
import { TaskSet, type TaskContext, type TaskHost } from './TaskSet.js';
import { AddressCounters, type KindStats } from './stats.js';

/** What an activation needs from its runtime. @internal */
export interface RuntimeContext {
  readonly clock: Clock;
  readonly random: () => number;
  readonly bus: Bus;
  nextId(): string;
  /** Whether the actor at `address` is inspected now (see src/inspect/Inspection.ts). */
  inspected(address: string): boolean;
  passivated(activation: Activation, persisted: unknown, discard: boolean): void;
  quiet(): void;
}


export type ActivationStatus = 'loading' | 'running' | 'restarting' | 'failed' | 'stopped';

/**
 * One live actor at one address: its XState actor and the bridge its machine's helpers
 * use (turns, tasks, answers). The mailbox side is {@link Delivery}, supervision is the
 * {@link Supervisor}, passivation and stalls the {@link Watchdog}.
 * @internal
 */
export class Activation implements TurnHost, TaskHost, SupervisedHost, DeliveryHost, TapHost {
  status: ActivationStatus = 'loading';
  readonly channel: Channel;
  readonly counters: AddressCounters;
  actor: AnyActor | undefined;
  snapshot: AnyMachineSnapshot | undefined;
  /** Bumped on every (re)start; task results from an older incarnation are dropped. */
  incarnation = 0;
  /** The mailbox side and the turn table: every envelope from admission to its ending. */
  readonly delivery: Delivery;
  /** Async work started by turns; created on first use. */
  private tasks: TaskSet | undefined;
  /** Created at the first crash. */
  private supervisor: Supervisor | undefined;
  /** Only for kinds that passivate or declare stall deadlines. */
  private readonly watchdog: Watchdog | undefined;
  /** The inspection observer on the actor's system, only while the actor is inspected. */
  private tap: Tap | undefined;
  /** `counters.delivered` when the actor last started from scratch; -1 after a start from a persisted snapshot. */
  private deliveredAtStart = -1;

  constructor(
    private readonly rt: RuntimeContext,
    readonly kind: Kind,
    readonly address: string,
    readonly epoch: number,
    private readonly stats: KindStats,
  ) {
    this.counters = new AddressCounters(stats);
    this.delivery = new Delivery(this);
    this.channel = rt.bus.channel(address, epoch, kind.replay);
    // Stryker disable next-line ConditionalExpression: `→ true` gives every kind a Watchdog whose methods then only stamp times no one reads or return early (its own idleAfterMs / hasStallStates guards, judged equivalent in Watchdog.ts); `→ false` is killed by the passivation tests
    this.watchdog = kind.idleAfterMs !== undefined || kind.hasStallStates ? new Watchdog(this, rt.clock) : undefined;
  }

  /** The key part of the address (not stored: one string less per actor). */
  get key(): string {
    return this.address.slice(this.kind.name.length + 1);
  }

  // ---- lifecycle ---------------------------------------------------------------------

  /** Starts the actor from a persisted snapshot (or fresh) and delivers what queued while loading. */
  start(persisted: unknown): void {
    // Stryker disable next-line ConditionalExpression: the runtime calls start() once per activation (the store load's callback, and only while the address still maps to this activation); the guard is defence in depth
    if (this.status !== 'loading') return;
    this.stats.activations++;
    this.publish('lifecycle.activated', { restored: persisted !== undefined });
    this.startActor(persisted);
  }

  startActor(persisted: unknown, input?: { value: unknown }): void {
    // Every start follows a lifecycle record (activated, restarted, revived), and a bus
    // subscriber may stop the actor on that record: a stopped actor stays stopped.
    if (this.status === 'stopped') return;
    // Stryker disable next-line UpdateOperator: incarnations only need to differ from the last one while a task of it is alive, and none is: teardown fences every task (TaskSet.stopAll sets fenced before firing) before the next startActor, so Task.isLive is false by the fence whatever the count says
    this.incarnation++;
    this.snapshot = undefined;
    this.deliveredAtStart = persisted === undefined ? this.counters.delivered : -1;
    // Only the keys that are set: every extra option key costs each XState actor ~250 B
    // (measured). Machines get their address from addressOf(self), not self.id.
    const options: { clock: Clock; snapshot?: AnyMachineSnapshot; input?: unknown } = { clock: this.rt.clock };
    // Stryker disable next-line ConditionalExpression: XState reads `options?.snapshot ?? options?.state`, so an explicit undefined snapshot is the same as none (only the ~250 B per actor noted above differs)
    if (persisted !== undefined) options.snapshot = persisted as AnyMachineSnapshot;
    const inputValue = input ? input.value : this.kind.input?.(this.key);
    // Stryker disable next-line ConditionalExpression: XState reads `options.input` (getInitialSnapshot, the init event), so an explicit undefined input is the same as none
    if (inputValue !== undefined) options.input = inputValue;
    const actor = createActor(this.kind.machine, options);
    this.actor = actor;
    registerHost(actor, this);
    this.tap = this.rt.inspected(this.address) ? tapActor(this, actor, true) : undefined;
    actor.on('*', (event: EventObject) => {
      // Stryker disable next-line ConditionalExpression: an actor is replaced only after teardown stopped it, and a stopped XState actor emits nothing (checked with XState 5: stop() only completes observers, emit() after a self-stop is dropped)
      if (this.actor === actor) this.onEmitted(event);
    });
    actor.subscribe({
      next: (snapshot: AnyMachineSnapshot) => {
        // Stryker disable next-line ConditionalExpression: as above, a stopped XState actor sends no snapshot
        if (this.actor === actor) this.onSnapshot(snapshot);
      },
      error: (err: unknown) => {
        // Stryker disable next-line ConditionalExpression: a stopped actor can still report an error (an action that stops it mid-transition, then throws), but this.actor is cleared only by teardown, and every status that follows one is not 'running', so crash() returns at its own status guard
        if (this.actor === actor) this.crash(err);
      },
    });
    this.status = 'running';
    actor.start();
    this.watchdog?.armIdle();
    this.delivery.started();
  }

  /** Turns the inspection tap on or off (see src/inspect/). A restarting actor is tapped when it starts. */
  setInspected(on: boolean): void {
    if (on) {
      // Stryker disable next-line ConditionalExpression: `this.actor` is set only while running (every status change away from 'running' is followed synchronously by teardown, which clears it first, with no callback in between; Supervisor.crash tears down before it changes the status)
      if (!this.tap && this.actor && this.status === 'running') this.tap = tapActor(this, this.actor, false);
    } else {
      this.tap?.unsubscribe();
      this.tap = undefined;
    }
  }

  /** Supervisor restarts so far (not counting a revive). */
  get restarts(): number {
    return this.supervisor?.restarts ?? 0;
  }

  /** Restarts a failed actor with a fresh budget. */
  revive(): boolean {
    if (this.status !== 'failed') return false;
    // Stryker disable next-line OptionalChaining: only the Supervisor sets 'failed', so a failed activation has one
    this.supervisor?.reset();
    this.publish('lifecycle.revived', {});
    this.startActor(undefined);
    return true;
  }

  /** Stops for good: everything waiting or running is rejected with `reason`. Returns the last snapshot. */
  stop(reason: string): unknown {
    // Stryker disable next-line ConditionalExpression,StringLiteral: stop() runs once per activation: shutdown() is idempotent and stops each live activation once, a failed store load forgets the activation as it stops it, and a passivated one is forgotten by onPassivated; so stop() never sees 'stopped'
    if (this.status === 'stopped') return undefined;
    // Stryker disable next-line ConditionalExpression,OptionalChaining: `→ true` and `this.actor.` differ only when not running, and the actor is undefined whenever the status is not 'running' (teardown clears it; loading has none), so both give undefined; `→ false` is killed by activation-quiet.test.ts (the snapshot saved at shutdown)
    const persisted = this.status === 'running' ? this.actor?.getPersistedSnapshot() : undefined;
    this.status = 'stopped';
    // Errors are built only if someone is waiting for them (a stack trace each).
    const why = () => errors.stopped(this.address, reason);
    this.teardown(why);
    this.delivery.rejectAll(why);
    this.publish('lifecycle.stopped', { reason });
    return persisted;
  }

  /**
   * Passivates if quiet: snapshot handed to the runtime for its store, actor stopped.
   * `discard`: no snapshot is built or saved, and the one stored for the address is deleted.
   */
  passivate(discard = false): boolean {
    if (this.status !== 'running' || !this.isQuiet()) return false;
    // A discarded actor's snapshot is not built: nothing saves it.
    // Stryker disable next-line OptionalChaining,ConditionalExpression: passivate() gets here only while running, and a running activation always has its actor; → false only builds the snapshot anyway (→ true, saving nothing ever, fails the persistence tests, but one directive covers both)
    const persisted = discard ? undefined : this.actor?.getPersistedSnapshot();
    this.status = 'stopped';
    // Stryker disable next-line ArrowFunction,StringLiteral: isQuiet() just held (no open turn, no task), and teardown builds `why` only for an open turn or a task, so it is never called here
    this.teardown(() => errors.stopped(this.address, 'passivated'));
    this.stats.passivations++;
    this.publish('lifecycle.passivated', {});
    this.rt.passivated(this, persisted, discard);
    return true;
  }

  /** Nothing queued, postponed, running, scheduled or spawned. */
  isQuiet(): boolean {
    if (this.mailbox.depth > 0 || this.delivery.turns.size > 0 || (this.tasks?.size ?? 0) > 0) return false;
    const snap = this.snapshot;
    if (snap && Object.keys(snap.children).length > 0) return false;
    // XState internal (not public API), pinned by test/unit/xstate-internals.test.ts: re-check on every XState upgrade.
    // Stryker disable next-line OptionalChaining: isQuiet() is called by passivate() only while running (so the actor is set), and XState's system always has getSnapshot (pinned by test/unit/xstate-internals.test.ts)
    const scheduled = (this.actor?.system as { getSnapshot?: () => { _scheduledEvents?: object } } | undefined)?.getSnapshot?.()
      ._scheduledEvents;
    return !scheduled || Object.keys(scheduled).length === 0;
  }

  /** Mailbox empty and no turn open: what shutdown({ drain }) waits for. */
  isDrained(): boolean {
    return this.mailbox.depth === 0 && this.delivery.turns.size === 0;
  }

  get inFlight(): number {
    return this.delivery.turns.size;
  }

  // ---- mailbox (see Delivery) -------------------------------------------------------

  get mailbox(): Mailbox {
    return this.delivery.mailbox;
  }

  /** An event the machine (or one of its tasks) sends to its own mailbox, like an in-process tell. */
  tellSelf(event: EventObject): void {
    if (isReservedType(event.type)) throw errors.invalidEvent(this.address, `'${event.type}' is a reserved type; an actor cannot mail itself one`);
    this.delivery.enqueue(event, undefined, undefined);
  }

  nextId(): string {
    return this.rt.nextId();
  }

  get clock(): Clock {
    return this.rt.clock;
  }

  failure(): unknown {
    // Stryker disable next-line OptionalChaining: failure() is read only for a failed actor (Delivery.enqueue), and only the Supervisor sets 'failed'; `{}` is killed by activation-helpers.test.ts
    return this.supervisor?.lastError;
  }

  touched(): void {
    this.watchdog?.touch();
  }

  // ---- what the machine does ---------------------------------------------------------

  private onSnapshot(snapshot: AnyMachineSnapshot): void {
    // A new snapshot or a queued answer means the machine took the event being delivered.
    const turns = this.delivery.turns;
    if (snapshot !== this.snapshot || turns.hasAnswers) this.delivery.noteTaken();
    if (snapshot !== this.snapshot) {
      this.snapshot = snapshot;
      // The view (a user function) runs only for a record someone will read.
      if (this.channel.wanted) {
        this.publish('snapshot', { value: snapshot.value, status: snapshot.status, context: this.publicContext(snapshot) });
      } else {
        // Stryker disable next-line StringLiteral: here the channel is not wanted, and Channel.publish then only counts the seq (the same check, with nothing in between), never reading the type
        this.channel.publish('snapshot', undefined);
      }
      this.watchdog?.progress(snapshot);
      if (snapshot.status === 'done') queueMicrotask(() => this.restartAfterDone());
      else this.delivery.stateChanged();
    }
    // Stryker disable next-line ConditionalExpression: flushAnswers() with no queued answer takes an empty list and closes nothing
    if (turns.hasAnswers) this.delivery.flushAnswers();
  }

  private onEmitted(event: EventObject): void {
    this.delivery.noteTaken();
    const explicit = (event as { requestId?: unknown }).requestId;
    const turns = this.delivery.turns;
    const env = typeof explicit === 'string' ? turns.get(explicit) : turns.current;
    this.emitFor(env, event);
    // A terminal event ends a *stream*; an ask waits for the machine's reply or fail.
    // Stryker disable next-line OptionalChaining: env comes from the open turns, and a turn is opened only for an envelope with a reply (Delivery: `env.reply ? turns.begin(env)`)
    if (env && env.reply?.mode === 'stream' && this.kind.terminal.has(event.type)) this.delivery.closeTurn(env, true, event);
  }

  /** The context as the kind lets it leave the actor (its `view`; the context itself by default). */
  publicContext(snapshot: AnyMachineSnapshot): unknown {
    const view = this.kind.view;
    if (!view) return snapshot.context;
    try {
      return view(snapshot.context);
    } catch (err) {
      // A throwing view must neither crash the actor nor fall back to the raw context (secrets).
      return { viewError: err instanceof Error ? err.message : String(err) };
    }
  }

  deliveringId(): string | undefined {
    return this.delivery.delivering?.id;
  }

  noteTaken(): void {
    this.delivery.noteTaken();
  }

  openTurns(): Envelope[] {
    return this.delivery.turns.openTurns();
  }

  answer(to: { id: string | undefined } | undefined, ok: boolean, value: unknown): void {
    // Bound now, flushed after the transition commits (never mid-transition).
    this.delivery.answer(to, ok, value);
  }

  awaitsAnswer(to: { id: string | undefined } | undefined): boolean {
    return this.delivery.awaitsAnswer(to);
  }

  endTurnTasks(turn: Envelope): void {
    this.tasks?.endTurn(turn, () => errors.stopped(this.address, 'turn ended'));
  }

  startTask(
    id: string | undefined,
    run: (ctx: TaskContext) => unknown,
    done: (o: unknown) => EventObject,
    error: (e: unknown) => EventObject,
    forRequest?: { id: string | undefined },
  ): void {
    // The delivery that started the task is recorded before the task is.
    this.delivery.noteTaken();
    // Default owner: the request being delivered (none for a tell), or, for work started by
    // an internal event (a task's completion), the current turn.
    const delivering = this.delivery.delivering;
    const turns = this.delivery.turns;
    const turn = forRequest
      ? turns.get(forRequest.id)
      : delivering
        ? delivering.reply
          ? delivering
          : undefined
        : turns.current;
    (this.tasks ??= new TaskSet(this)).start(id, turn, run, done, error);
  }

  abortTask(id: string): void {
    this.tasks?.abort(id, () => errors.cancelled(this.address, 'running', 'machine'));
  }

  fenceTask(id: string): void {
    this.tasks?.fence(id, () => errors.cancelled(this.address, 'running', 'machine'));
  }

  isRunning(): boolean {
    // Stryker disable next-line ConditionalExpression: Task.isLive asks this after its fence and incarnation checks, and every way out of 'running' tears down (fencing every task) with no callback in between, so a task that is not fenced never sees another status
    return this.status === 'running';
  }

  sendInternal(event: EventObject): void {
    this.delivery.sendInternal(event);
  }

  emitFor(turn: Envelope | undefined, event: EventObject): void {
    // Stryker disable next-line ConditionalExpression: callers pass an open turn or none: onEmitted takes it from the open turns, and a task's turn ending fences the task (closeTurn calls endTurnTasks; teardown stops all), so a task's emit never gets here with a closed turn
    const env = turn && this.delivery.turns.isOpen(turn) ? turn : undefined;
    // Per token on a stream: the record's data is built only if someone will receive or buffer it (its seq counts either way).
    const channel = this.channel;
    channel.publish('emitted', channel.wanted ? { event, requestId: env?.id } : undefined);
    // Stryker disable next-line OptionalChaining: env is an open turn, and turns are opened only for envelopes with a reply
    if (env?.reply?.next && !env.settled) env.reply.next(event);
  }

  heartbeat(): void {
    this.watchdog?.heartbeat();
  }

  // ---- supervision -------------------------------------------------------------------

  /** A machine error or a stall: the supervisor answers the open turns, then restarts per policy or fails. */
  crash(cause: unknown, stall?: { state: string; stallAfterMs: number }): void {
    // Stryker disable next-line ConditionalExpression: every caller checks first: the error observer only for the current actor (see startActor), Delivery.sendInternal and the Watchdog's stall check only while running
    if (this.status !== 'running') return;
    // The machine took the envelope it crashed on: its action or guard ran.
    this.delivery.noteTaken();
    (this.supervisor ??= new Supervisor(this, this.rt.clock, this.rt.random, this.stats)).crash(cause, stall);
  }

  private restartAfterDone(): void {
    if (this.status !== 'running') return;
    // Stryker disable next-line ConditionalExpression,OptionalChaining: `→ false` and `this.snapshot.` differ only for a running actor whose snapshot is not done (or absent) when this microtask runs; one done snapshot queues one call, and nothing else brings a done actor back to running within a microtask (revive needs 'failed', a supervisor restart a crash and a clock timer), and a running actor always has a snapshot (actor.start() emits it synchronously); `→ true` is killed by activation-final-state.test.ts
    if (this.snapshot?.status !== 'done') return;
    // Started from scratch and final before taking any envelope: a fresh start would finish
    // the same way, without end. A crash instead, so the supervisor's backoff and budget decide.
    if (this.deliveredAtStart === this.counters.delivered) {
      return this.crash(new Error('its machine reached a final state before taking any envelope, and restarting it would do the same again'));
    }
    this.teardown(() => errors.stopped(this.address, 'machine reached a final state'));
    this.publish('lifecycle.restarted', { attempt: 0, delayMs: 0, reason: 'done' });
    this.startActor(undefined);
  }

  rejectWaiting(err: InterlockError): void {
    this.delivery.rejectAll(() => err);
  }

  quiet(): void {
    this.rt.quiet();
  }

  /** Stops the XState actor and its tasks; open turns get the error `why` builds (only built if one is open). The mailbox is kept. */
  teardown(why: () => InterlockError): void {
    // A teardown during a delivery comes from the machine's own code for that envelope (an
    // action that passivated or stopped its actor): it took the envelope, and says so first.
    this.delivery.noteTaken();
    const actor = this.actor;
    this.actor = undefined;
    this.tap?.unsubscribe();
    this.tap = undefined;
    // Stryker disable next-line UpdateOperator: as in startActor, teardown fences every live task, so incarnation numbers never decide alone
    this.incarnation++;
    this.watchdog?.stop();
    this.supervisor?.cancelRestart();
    this.tasks?.stopAll(why);
    this.tasks = undefined;
    this.delivery.endTurns(why);
    actor?.stop();
  }

  publish(type: RecordType, data: unknown): void {
    this.channel.publish(type, data);
  }
}

