import { Observable, type Subscriber } from 'rxjs';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { parseAddress } from '../address.js';
import type {
  ActorHandle,
  ActorView,
  AskOptions,
  EventForAddress,
  HandleForAddress,
  KindInfo,
  Kinds,
  TellOptions,
} from './handles.js';
import { Bus } from '../bus/Bus.js';
import type { BusRecord, ResumePoint } from '../bus/records.js';
import type { Clock } from '../clock.js';
import { errors } from '../errors.js';
import type { Kind } from '../kinds.js';
import type { Envelope } from '../mailbox/envelope.js';
import { Persistence } from '../store/Persistence.js';
import type { SnapshotStore } from '../store/SnapshotStore.js';
import { Activation, type RuntimeContext } from './Activation.js';
import { KindStats, type RuntimeStats } from './stats.js';
import { collectStats } from './statsReport.js';
import { eachValue } from './eachValue.js';
import { StreamReply } from './StreamReply.js';
import { validateSend } from './validate.js';
import { Inspection } from '../inspect/Inspection.js';
import { machineGraph, type MachineGraph } from '../inspect/machineGraph.js';
import { mailboxView, type MailboxView } from '../inspect/mailboxView.js';

export interface ShutdownOptions {
  /** Let queued and running work finish first (default true). */
  drain?: boolean;
  /** How long draining may take before the rest is rejected (default 10,000 ms). */
  timeoutMs?: number;
}

/** @internal */
export interface RuntimeDeps {
  kinds: Map<string, Kind>;
  clock: Clock;
  store: SnapshotStore;
  random: () => number;
  /** 'watched': every subscriber to an address's records (or to all) also turns its inspection on. */
  inspect: 'off' | 'watched';
}

/**
 * The directory of live actors: routes each envelope to the activation of its address,
 * activating on demand and forgetting passivated ones. Delivery and supervision live in
 * {@link Activation}; records flow through the {@link Bus}.
 */
export class Runtime<K extends Kinds = Kinds> {
  /** Every record of every actor. */
  readonly events$: Observable<BusRecord>;
  private readonly bus: Bus;
  private readonly activations = new Map<string, Activation>();
  /** Live activations per kind, for `maxActive`. */
  private readonly liveByKind = new Map<string, number>();
  private readonly kindStats = new Map<string, KindStats>();
  private readonly persistence: Persistence;
  private readonly ctx: RuntimeContext;
  private readonly inspection: Inspection;
  private epochs = 0;
  private ids = 0;
  private closing = false;
  private shutdownPromise: Promise<void> | undefined;
  private drainWaiter: (() => void) | undefined;

  /** @internal */
  constructor(private readonly deps: RuntimeDeps) {
    this.persistence = new Persistence(deps.store);
    this.bus = new Bus(deps.clock);
    this.inspection = new Inspection((address, fn) => {
      if (address === undefined) for (const a of this.activations.values()) fn(a);
      else {
        const a = this.activations.get(address);
        if (a) fn(a);
      }
    });
    const all$ = this.bus.all$.asObservable();
    this.events$ = deps.inspect === 'watched' ? this.inspection.while(all$, undefined) : all$;
    for (const name of deps.kinds.keys()) this.kindStats.set(name, new KindStats());
    this.ctx = {
      clock: deps.clock,
      random: deps.random,
      bus: this.bus,
      nextId: () => (++this.ids).toString(36),
      inspected: (address) => this.inspection.has(address),
      passivated: (a, persisted, discard) => this.onPassivated(a, persisted, discard),
      quiet: () => this.onQuiet(),
    };
  }

  ref<A extends string>(address: A): HandleForAddress<K, A>;
  ref<N extends keyof K & string>(kind: N, key: string): HandleForAddress<K, `${N}/${string}`>;
  ref(kindOrAddress: string, key?: string): ActorHandle<any, any, any> {
    const address = key === undefined ? kindOrAddress : `${kindOrAddress}/${key}`;
    const { kind } = parseAddress(address);
    if (!this.deps.kinds.has(kind)) throw errors.unknownKind(address, kind, [...this.deps.kinds.keys()]);
    return {
      address,
      tell: (event, options) => this.tell(address, event, options),
      ask: (event, options) => this.ask(address, event, options),
      stream: (event, options) => this.stream(address, event, options),
      iterate: (event, options) => eachValue(this.stream(address, event, options)),
      events: (options) => this.events(address, options),
      snapshot: () => this.activations.get(address)?.snapshot,
    };
  }

  /** Enqueues and returns. Throws a coded error if the envelope cannot be accepted. */
  tell<A extends string>(address: A, event: EventForAddress<K, A>, options?: TellOptions): void {
    this.route(address, this.admit(address, event, options, false)).delivery.enqueue(event as EventObject, options, undefined);
  }

  /** Resolves with the machine's correlated reply, or rejects with a coded error. */
  ask<TOutput = unknown, A extends string = string>(address: A, event: EventForAddress<K, A>, options?: AskOptions): Promise<TOutput> {
    return new Promise<TOutput>((resolve, reject) => {
      const kind = this.admit(address, event, options, true);
      if (options?.signal?.aborted) throw errors.cancelled(address, 'queued');
      this.route(address, kind).delivery.enqueue(event as EventObject, options, { mode: 'ask', resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /**
   * The events the actor emits for this request, completing when the machine replies or
   * emits a terminal event. Subscribing sends the request; unsubscribing early cancels it.
   */
  stream<TEmitted extends EventObject = EventObject, A extends string = string>(
    address: A,
    event: EventForAddress<K, A>,
    options?: AskOptions,
  ): Observable<TEmitted> {
    return new Observable<TEmitted>((subscriber) => {
      let activation: Activation;
      let env: Envelope;
      try {
        const kind = this.admit(address, event, options, true);
        if (options?.signal?.aborted) throw errors.cancelled(address, 'queued');
        activation = this.route(address, kind);
        env = activation.delivery.enqueue(event as EventObject, options, new StreamReply(subscriber as Subscriber<EventObject>));
      } catch (err) {
        subscriber.error(err);
        return undefined;
      }
      return () => {
        // The subscriber left: the request is cancelled, and nobody is there to hear an error.
        if (!env.settled) activation.delivery.abort(env, 'left');
      };
    });
  }

  /** Records of one address, resuming after `since` when the replay buffer still has them. */
  events(address: string, options?: { since?: ResumePoint }): Observable<BusRecord> {
    parseAddress(address);
    const records = this.bus.events(address, () => this.activations.get(address)?.channel, options?.since);
    return this.deps.inspect === 'watched' ? this.inspection.while(records, address) : records;
  }

  /**
   * For transports resuming many addresses under one subscription to `events$`: the records
   * of `address` after `since` still in its replay buffer, oldest first, or undefined when
   * some are gone (another epoch, overwritten, not live). Subscribes to nothing, so called
   * synchronously with a subscription to `events$` nothing falls between the two.
   * @internal
   */
  replay(address: string, since: ResumePoint): readonly BusRecord[] | undefined {
    return this.bus.replay(this.activations.get(address)?.channel, since);
  }

  /**
   * Records of every actor (or of one address) with inspection on while subscribed: each
   * actor's stream then also carries `transition` records (the event, the state before and
   * after, the transitions taken), for this subscriber and anyone else watching. Nothing is
   * observed or built for an actor nobody inspects. See docs/inspector.md.
   */
  inspect(options?: { address?: string }): Observable<BusRecord> {
    const address = options?.address;
    if (address === undefined) return this.inspection.while(this.bus.all$.asObservable(), undefined);
    this.kindOf(address);
    // Stryker disable next-line ArrowFunction,OptionalChaining: Bus.events calls current() only to resume after `since`, and inspect() passes none
    return this.inspection.while(this.bus.events(address, () => this.activations.get(address)?.channel), address);
  }

  /** The mailbox of an active actor: running turns, queued and postponed envelopes (event types only, unless the kind's `eventView` says more). Does not activate. */
  mailbox(address: string): MailboxView | undefined {
    const a = this.activations.get(address);
    return a && mailboxView(a, this.deps.clock.now());
  }

  /**
   * Cancels what an active actor is running for its callers, as if each had aborted: every
   * open turn's caller gets INTERLOCK_CANCELLED and the kind's `cancelEvent` (if it has one)
   * is sent to the turn in the control lane. Returns the ids of the turns cancelled.
   */
  cancel(address: string): string[] {
    const a = this.activations.get(address);
    // Stryker disable next-line ConditionalExpression: a fast path; an actor not running has no open turn (turns open on delivery to a running actor, and teardown ends them all)
    if (!a || a.status !== 'running') return [];
    const turns = a.openTurns();
    for (const env of turns) a.delivery.abort(env, 'cancelled');
    return turns.map((env) => env.id);
  }

  /** A kind's machine as a statechart graph: nested states, initial and final states, transitions labelled by event. */
  machine(kind: string): MachineGraph {
    const k = this.deps.kinds.get(kind);
    if (!k) throw errors.unknownKind(`${kind}/*`, kind, [...this.deps.kinds.keys()]);
    return machineGraph(k);
  }

  /** The current snapshot of an active actor, or undefined. Does not activate. */
  snapshot(address: string): AnyMachineSnapshot | undefined {
    return this.activations.get(address)?.snapshot;
  }

  /** The kinds this runtime runs, as transports may describe them. */
  kinds(): KindInfo[] {
    return [...this.deps.kinds.values()].map((k) => ({
      name: k.name,
      publicEvents: [...k.publicEvents],
      answers: k.answers && [...k.answers],
      cancelEvent: k.cancelEvent,
      terminal: [...k.terminal],
      maxActive: k.maxActive,
    }));
  }

  /**
   * For transports: throws INTERLOCK_EVENT_NOT_PUBLIC unless the event's type is one of the
   * kind's `publicEvents` (and the address and event are well formed). Call it before
   * `tell` / `ask` / `stream` for anything that came over the wire.
   */
  checkPublic(address: string, event: unknown): void {
    const kind = this.kindOf(address);
    validateSend(address, event, undefined);
    if (!kind.publicEvents.has(event.type)) throw errors.eventNotPublic(address, event.type, [...kind.publicEvents]);
  }

  /** An active actor as it may leave the process (context through the kind's view), or undefined. Does not activate. */
  view(address: string): ActorView | undefined {
    const a = this.activations.get(address);
    if (!a) return undefined;
    const snap = a.snapshot;
    return {
      address,
      kind: a.kind.name,
      epoch: a.epoch,
      seq: a.channel.seq,
      status: a.status,
      state: snap?.value,
      context: snap ? a.publicContext(snap) : undefined,
      depth: a.mailbox.depth,
      postponed: a.mailbox.postponed,
      inFlight: a.inFlight,
      restarts: a.restarts,
    };
  }

  /** Addresses of live actors, of one kind or all, in activation order. */
  addresses(kind?: string): string[] {
    const out: string[] = [];
    for (const a of this.activations.values()) if (kind === undefined || a.kind.name === kind) out.push(a.address);
    return out;
  }

  /** Restarts a failed actor. Returns false when the address is not failed. */
  revive(address: string): boolean {
    return this.activations.get(address)?.revive() ?? false;
  }

  /**
   * Passivates an actor now if it is quiet. Returns whether it did. `discard`: its state is
   * dropped: not saved, and the snapshot the store holds for it is deleted (after any save
   * of it still in flight), so its next envelope starts it fresh.
   */
  passivate(address: string, options?: { discard?: boolean }): boolean {
    return this.activations.get(address)?.passivate(options?.discard === true) ?? false;
  }

  /** Number of live activations. */
  get size(): number {
    return this.activations.size;
  }

  stats(options?: { address?: string; addresses?: boolean }): RuntimeStats {
    return collectStats(this.activations.values(), this.kindStats, options);
  }

  /**
   * Refuses new envelopes, lets queued and running work finish (when `drain`), then
   * rejects what is left with INTERLOCK_ACTOR_STOPPED and stops every actor. Idempotent.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    this.closing = true;
    const drain = options.drain ?? true;
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.shutdownPromise = (async () => {
      if (drain) await this.drained(timeoutMs);
      const saves: unknown[] = this.persistence.inFlight();
      for (const a of this.activations.values()) {
        const persisted = a.stop('shutdown');
        if (persisted !== undefined) saves.push(this.persistence.save(a.address, persisted));
      }
      this.activations.clear();
      this.liveByKind.clear();
      await Promise.allSettled(saves);
      this.bus.complete();
    })();
    return this.shutdownPromise;
  }

  private kindOf(address: string): Kind {
    const { kind: kindName } = parseAddress(address);
    const kind = this.deps.kinds.get(kindName);
    if (!kind) throw errors.unknownKind(address, kindName, [...this.deps.kinds.keys()]);
    return kind;
  }

  /**
   * Checks an envelope at the edge (event, options, the kind's own validation, and for an
   * ask or stream that the kind answers its type); activates and queues nothing.
   */
  private admit(address: string, event: unknown, options: unknown, asked: boolean): Kind {
    validateSend(address, event, options);
    const kind = this.activations.get(address)?.kind ?? this.kindOf(address);
    if (kind.validate) {
      const why = kind.validate(event);
      if (why !== undefined) throw errors.invalidEvent(address, why);
    }
    // An ask nobody answers would hold its caller (and a draining shutdown) until its deadline.
    if (asked && kind.answers && !kind.answers.has(event.type)) throw errors.notAnswered(address, kind.name, event.type, [...kind.answers]);
    return kind;
  }

  private route(address: string, kind: Kind): Activation {
    if (this.closing) throw errors.shuttingDown(address);
    const live = this.activations.get(address);
    if (live) return live;
    const count = this.liveByKind.get(kind.name) ?? 0;
    const max = kind.maxActive ?? Infinity;
    if (count >= max) throw errors.actorLimit(address, kind.name, max);
    const a = new Activation(this.ctx, kind, address, ++this.epochs, this.kindStats.get(kind.name)!);
    this.activations.set(address, a);
    this.liveByKind.set(kind.name, count + 1);
    this.persistence.load(
      address,
      (persisted) => {
        // Stryker disable next-line ConditionalExpression: one no longer in the map was stopped (by shutdown or a failed load), and start() ignores an activation that is not loading
        if (this.activations.get(address) === a) a.start(persisted);
      },
      (err) => {
        // A snapshot we cannot read must not be replaced by a fresh actor silently.
        // Stryker disable next-line ConditionalExpression: 'false' only (the test of a failed load kills 'true'): a loading activation leaves the map only by shutdown, which stops it and lets no other take its address, so forget() and stop() would change nothing
        if (this.activations.get(address) !== a) return;
        this.forget(a);
        a.stop(errors.storeFailed(address, 'load', err).message);
      },
    );
    return a;
  }

  private forget(a: Activation): void {
    this.activations.delete(a.address);
    this.liveByKind.set(a.kind.name, (this.liveByKind.get(a.kind.name) ?? 1) - 1);
  }

  /** `a` was running, so it is the activation of its address, and `persisted` is its actor's snapshot. */
  private onPassivated(a: Activation, persisted: unknown, discard: boolean): void {
    this.forget(a);
    const stored = discard ? this.persistence.delete(a.address) : this.persistence.save(a.address, persisted);
    stored?.catch((err: { message: string }) => {
      a.publish('lifecycle.failed', { error: err.message });
    });
    this.onQuiet();
  }

  private drained(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.deps.clock.setTimeout(() => finish(), timeoutMs, 'guard');
      const finish = () => {
        this.drainWaiter = undefined;
        this.deps.clock.clearTimeout(timer);
        resolve();
      };
      this.drainWaiter = () => {
        // A failed actor is drained: its turns ended when it crashed, fail() rejected its mailbox, and it refuses new envelopes.
        for (const a of this.activations.values()) if (!a.isDrained()) return;
        finish();
      };
      this.drainWaiter();
    });
  }

  private onQuiet(): void {
    this.drainWaiter?.();
  }
}
