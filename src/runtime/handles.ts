import type { Observable } from 'rxjs';
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine, EmittedFrom, EventFromLogic, EventObject, SnapshotFrom } from 'xstate';
import type { BusRecord, ResumePoint } from '../bus/records.js';
import type { PublicEvent } from '../events.js';
import type { KindConfig } from '../kinds.js';
import type { Priority } from '../mailbox/envelope.js';

/** The types callers use: kinds, send options, the typed handle `runtime.ref()` returns, and what leaves the process. */

export type Kinds = Record<string, KindConfig<any>>;

export interface TellOptions {
  priority?: Priority;
  /** The envelope is rejected (never delivered) if still queued this long after enqueue. */
  timeoutMs?: number;
}

export interface AskOptions extends TellOptions {
  /** Aborting removes a queued envelope, or sends the kind's cancel event to the running turn. */
  signal?: AbortSignal;
}

type KindOfAddress<A> = A extends `${infer N}/${string}` ? N : never;
/** The events a caller may send to address `A`: its machine's events minus the internal (`@`) ones. */
export type EventForAddress<K extends Kinds, A> = [KindOfAddress<A>] extends [never]
  ? AnyEventObject
  : KindOfAddress<A> extends keyof K
    ? PublicEvent<EventFromLogic<K[KindOfAddress<A>]['machine']>>
    : AnyEventObject;

/** The machine of the kind named by address `A` (any machine when it cannot be told). */
type MachineForAddress<K extends Kinds, A> = [KindOfAddress<A>] extends [never]
  ? AnyStateMachine
  : KindOfAddress<A> extends keyof K
    ? K[KindOfAddress<A>]['machine']
    : AnyStateMachine;

/** The handle `runtime.ref(A)` returns: events, emitted events and snapshot typed from the kind's machine. */
export type HandleForAddress<K extends Kinds, A> = ActorHandle<
  EventForAddress<K, A>,
  EmittedFrom<MachineForAddress<K, A>>,
  SnapshotFrom<MachineForAddress<K, A>>
>;

/**
 * A virtual reference: nothing is activated until the first message. Typed from the
 * kind's machine: `tell`/`ask` take its public events, `stream` yields what it emits,
 * `snapshot()` is its snapshot type. What `ask` resolves with is whatever the machine's
 * `reply(...)` gives, which XState's types do not carry: pass it as `ask<Output>(...)`.
 */
export interface ActorHandle<
  TEvent extends EventObject = EventObject,
  TEmitted extends EventObject = EventObject,
  TSnapshot = AnyMachineSnapshot,
> {
  readonly address: string;
  tell(event: TEvent, options?: TellOptions): void;
  ask<TOutput = unknown>(event: TEvent, options?: AskOptions): Promise<TOutput>;
  stream<E extends EventObject = TEmitted>(event: TEvent, options?: AskOptions): Observable<E>;
  /** `stream` as an async iterator: `for await (const e of ref.iterate(ev))`; leaving the loop cancels. */
  iterate<E extends EventObject = TEmitted>(event: TEvent, options?: AskOptions): AsyncIterableIterator<E>;
  events(options?: { since?: ResumePoint }): Observable<BusRecord>;
  snapshot(): TSnapshot | undefined;
}

/** What a kind lets the outside know about it (for transports and the inspector). */
export interface KindInfo {
  readonly name: string;
  /** Event types remote callers may send. */
  readonly publicEvents: readonly string[];
  /** Event types an ask or stream may carry (the kind's `answers`); undefined: any. */
  readonly answers: readonly string[] | undefined;
  readonly cancelEvent: string | undefined;
  readonly terminal: readonly string[];
  readonly maxActive: number | undefined;
}

/** An actor as it may be shown outside the process: its context through the kind's `view`. */
export interface ActorView {
  readonly address: string;
  readonly kind: string;
  readonly epoch: number;
  /** The seq of this activation's latest record: the view reflects every record up to it. */
  readonly seq: number;
  readonly status: 'loading' | 'running' | 'restarting' | 'failed' | 'stopped';
  /** The snapshot value (state), undefined while loading. */
  readonly state: unknown;
  readonly context: unknown;
  readonly depth: number;
  readonly postponed: number;
  readonly inFlight: number;
  /** Supervisor restarts of this activation so far. */
  readonly restarts: number;
}

