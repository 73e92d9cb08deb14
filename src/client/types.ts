/** The public types of `interlock/client`. */
import type { Observable } from 'rxjs';
import type { AnyEventObject, AnyStateMachine, EventFromLogic, EventObject } from 'xstate';
import type { Clock } from '../clock.js';
import type { PublicEvent } from '../events.js';
import type { EventForAddress, Kinds } from '../runtime/handles.js';
import type { ResumeFrom, ResumeMap, WirePriority } from '../transport/protocol.js';
import type { WebSocketConstructor } from './socket.js';

/** One record of an actor's stream, as it crossed the wire (the kind's public view only). */
export interface ClientRecord<T = unknown> {
  readonly address: string;
  /** One activation of the address; `seq` is gapless within it. */
  readonly epoch: number;
  readonly seq: number;
  /** `snapshot`, `emitted`, `mailbox.*`, `turn.replied`, `lifecycle.*`, … (see docs/runtime.md). */
  readonly type: string;
  readonly data: T;
  readonly ts?: number;
  /**
   * False on a record the server sent instead of records it no longer buffered (the
   * current state): records were missed between the previous one and this.
   */
  readonly recovered?: false;
  /**
   * True on a snapshot record that replaced earlier snapshot records while this client read
   * too slowly: `seq` jumps over them (only over snapshots) and this is the newer state.
   */
  readonly coalesced?: true;
}

/** Reconnect delays: exponential, capped, jittered; `attempts` in a row before giving up. */
export interface ReconnectBackoff {
  /** First delay. Default 250 ms. */
  initialMs?: number;
  /** Largest delay. Default 10,000 ms. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Fraction of each delay randomised (0..1), so many clients do not come back in lockstep. Default 0.5. */
  jitter?: number;
  /** Failed attempts in a row (none acknowledged) before subscriptions and requests fail. Default Infinity. */
  attempts?: number;
}

export interface ClientOptions {
  /** Sent in `connection_init` (and, where the WebSocket takes headers, as `Authorization: Bearer`). */
  token?: string;
  /**
   * Also put the token in the URL (`?token=`): the server authenticates the upgrade, and
   * browsers cannot set headers on a WebSocket. Default: false in Node (the token goes in
   * `Authorization: Bearer`), true in browsers. Query strings may end up in access logs.
   */
  tokenInQuery?: boolean;
  /** The WebSocket constructor. Default: `ws` in Node, `globalThis.WebSocket` in browsers. */
  WebSocket?: WebSocketConstructor;
  /**
   * Open the socket on the first subscription or request and close it `idleMs` after the
   * last one ends (default true). False: connect now and stay connected (reconnecting).
   */
  lazy?: boolean;
  /** How long a lazy socket stays open with nothing to do. Default 0 (closed on the next tick). */
  idleMs?: number;
  backoff?: ReconnectBackoff;
  /** How long to wait for `connection_ack` before trying again. Default 10,000 ms. */
  ackTimeoutMs?: number;
  /** Ping period; a server silent for a whole period is given up on (and reconnected). Default: the server's `heartbeatMs`; 0: off. */
  keepAliveMs?: number;
  /** Timeout of an `ask` or `send` that gives none. Default 30,000 ms. */
  requestTimeoutMs?: number;
  /**
   * How long past its timeout a request that reached the server waits for the server's own
   * answer (its INTERLOCK_DEADLINE_EXCEEDED) before the client gives up with
   * INTERLOCK_CLIENT_TIMEOUT. Default 1,000 ms.
   */
  timeoutGraceMs?: number;
  /** Timers; tests pass a SimulatedClock. */
  clock?: Clock;
  /** Jitter source (0 ≤ x < 1). Default Math.random. */
  random?: () => number;
  /** Lifecycle callbacks (logging, tests). Called after the client has acted on the event. */
  on?: ClientListeners;
}

export interface ClientListeners {
  /** A socket was acknowledged (`epoch` is the server process's). */
  connected?(ack: { epoch: number; heartbeatMs: number }): void;
  /** A socket closed; `retryable` says whether the client reconnects (if it still has work). */
  closed?(info: { code: number; reason: string; retryable: boolean; httpStatus?: number }): void;
  /** A server `error` that names no request or subscription (a frame it could not take). */
  error?(error: { code: string; message: string }): void;
}

export interface SubscribeOptions {
  /**
   * Resume instead of starting live: for an address, after this record (`{ epoch, seq }`);
   * for a pattern, after each named address's record (`{ 'session/a': { epoch, seq }, … }`,
   * at most 1,000; live matching actors not named start with their snapshot). What came
   * after is replayed first.
   */
  since?: ResumeFrom | ResumeMap;
}

export interface RequestOptions {
  /** Mailbox lane of the event. Default `normal`. */
  priority?: WirePriority;
  /**
   * Give up after this long (from the call, waiting for a connection included). For `ask`
   * the server gets the time left as its deadline. Default: `requestTimeoutMs`.
   */
  timeoutMs?: number;
}

/** What to subscribe to: `'session/abc'` or `'session/*'` (a string with `*` is a pattern), or explicitly. */
export type SubscribeTarget = string | { address: string } | { pattern: string };

/**
 * The events a caller may send, from a machine (`typeof machine`), a machine factory
 * (`typeof sessionMachine`) or an event union: everything but the internal `@` events.
 */
export type EventsOf<T> = T extends AnyStateMachine
  ? PublicEvent<EventFromLogic<T>>
  : T extends (...args: any[]) => infer M
    ? M extends AnyStateMachine
      ? PublicEvent<EventFromLogic<M>>
      : never
    : T extends EventObject
      ? PublicEvent<T>
      : never;

/** The events the client takes for address `A`: typed by the server's kinds `K` when given, else any `{ type }` object. */
export type ClientEventFor<K extends Kinds, A> = Kinds extends K ? AnyEventObject : EventForAddress<K, A>;

/** One actor seen through the client, its events typed. */
export interface RemoteActor<TEvent extends EventObject = AnyEventObject> {
  readonly address: string;
  ask<TOutput = unknown>(event: TEvent, options?: RequestOptions): Promise<TOutput>;
  send(event: TEvent, options?: RequestOptions): Promise<void>;
  /** The actor's records; `since` is one record's `{ epoch, seq }` (an address takes no per-address map). */
  subscribe(options?: { since?: ResumeFrom }): Observable<ClientRecord>;
}

/**
 * A connection to an Interlock server's `/ws`. `K` (the server's kinds, `typeof kinds`)
 * types events by address, as `runtime.ref()` does; without it events are any
 * `{ type, ... }` and `actor<typeof machine>(address)` types one actor.
 */
export interface InterlockClient<K extends Kinds = Kinds> {
  /**
   * The records of an address or a pattern. Reconnects with backoff on a retryable close
   * and resumes where it was, per address (no gap, no duplicate); errors with a coded error
   * on a terminal close or a server refusal; unsubscribing sends `complete`.
   */
  subscribe(target: SubscribeTarget, options?: SubscribeOptions): Observable<ClientRecord>;
  /** Resolves with the actor's reply, or rejects with a coded error (the server's or the client's). */
  ask<TOutput = unknown, A extends string = string>(address: A, event: ClientEventFor<K, A>, options?: RequestOptions): Promise<TOutput>;
  /** Resolves once the server accepted the event (queued in the actor's mailbox). */
  send<A extends string>(address: A, event: ClientEventFor<K, A>, options?: RequestOptions): Promise<void>;
  /** One actor, typed by `T` (a machine, a machine factory, an event union) or else by `K` and the address. */
  actor<T = never, A extends string = string>(address: A): RemoteActor<[T] extends [never] ? ClientEventFor<K, A> : EventsOf<T>>;
  /** Completes every subscription, rejects every pending request, closes the socket. Idempotent. */
  close(): Promise<void>;
}
