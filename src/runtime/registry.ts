import type { EventObject } from 'xstate';
import type { TaskContext } from './TaskSet.js';

/** What a machine's turn helpers reach through `self`. Implemented by the activation. @internal */
export interface TurnHost {
  /** The id of the envelope being delivered right now, if any. */
  deliveringId(): string | undefined;
  /** Queues an answer; it reaches the caller after the current transition commits. `to` absent: the current turn. */
  answer(to: { id: string | undefined } | undefined, ok: boolean, value: unknown): void;
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
}

const hosts = new WeakMap<object, TurnHost>();

/** @internal */
export function registerHost(actor: object, host: TurnHost): void {
  hosts.set(actor, host);
}

/** @internal */
export function hostOf(self: unknown): TurnHost | undefined {
  return typeof self === 'object' && self !== null ? hosts.get(self) : undefined;
}
