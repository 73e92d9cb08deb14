import type { EventObject } from 'xstate';
import type { TaskContext } from './TaskSet.js';

/** What a machine's turn helpers reach through `self`. Implemented by the activation. @internal */
export interface TurnHost {
  /** The actor's address (`kind/key`). */
  readonly address: string;
  /** The id of the envelope being delivered right now, if any. */
  deliveringId(): string | undefined;
  /** Queues an answer; it reaches the caller after the current transition commits. `to` absent: the current turn. */
  answer(to: { id: string | undefined } | undefined, ok: boolean, value: unknown): void;
  /** Whether the request `to` names (absent: the current turn) is open and its caller still waits for the answer. */
  awaitsAnswer(to: { id: string | undefined } | undefined): boolean;
  startTask(
    id: string | undefined,
    run: (ctx: TaskContext) => unknown,
    done: (output: unknown) => EventObject,
    error: (err: unknown) => EventObject,
    forRequest?: { id: string | undefined },
  ): void;
  abortTask(id: string): void;
  fenceTask(id: string): void;
  heartbeat(): void;
  /** Enqueues an event in the actor's own mailbox (postponed, lanes, capacity as for any tell). */
  tellSelf(event: EventObject): void;
}

/** A symbol-keyed slot on the XState actor: cheaper per actor than a WeakMap entry. Symbol.for, so that two copies of this module (two bundles) still agree. */
// Stryker disable next-line StringLiteral: any key gives the same behaviour in a run, since every copy of the module reads the same one; the name only has to be one no other library uses
const HOST = Symbol.for('interlock.host');

/** @internal */
export function registerHost(actor: object, host: TurnHost): void {
  (actor as { [HOST]?: TurnHost })[HOST] = host;
}

/** @internal */
export function hostOf(self: unknown): TurnHost | undefined {
  return typeof self === 'object' && self !== null ? (self as { [HOST]?: TurnHost })[HOST] : undefined;
}
