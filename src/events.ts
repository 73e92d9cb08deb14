import type { EventObject } from 'xstate';

/**
 * Event namespaces. A type that starts with `@` is *internal*: only the runtime and the
 * tasks a machine starts (`runTask` outcomes such as `@work.done`) produce it, and it
 * reaches the machine through the runtime's one door for internal events. Callers
 * (in-process, HTTP, WebSocket) can never send one: `tell`/`ask`/`stream` refuse it with
 * INTERLOCK_INVALID_EVENT before it is queued. `xstate.*` is XState's own and reserved too.
 */
export const INTERNAL_PREFIX = '@';

/** An event only the runtime or a task may send (`@`-prefixed type). */
export interface InternalEvent {
  type: `@${string}`;
  [key: string]: any;
}

/** The events of a union that callers may send: everything but the `@` namespace. */
export type PublicEvent<E extends EventObject> = Exclude<E, { type: `@${string}` }>;

/**
 * The internal (`@`) events of a union: what `runTask`'s `done` / `error` may produce. When
 * the union has none (an inline action sees only the event that triggered it, or the union
 * is a bare `EventObject`), any internal event: the `@` prefix is still checked.
 */
export type InternalEventOf<E extends EventObject> = string extends E['type']
  ? InternalEvent
  : [Extract<E, { type: `@${string}` }>] extends [never]
    ? InternalEvent
    : Extract<E, { type: `@${string}` }>;

export function isInternalType(type: string): boolean {
  return type.charCodeAt(0) === 64; // '@'
}

/** Internal, XState's own, or empty: never accepted from a caller. */
export function isReservedType(type: string): boolean {
  return type === '' || isInternalType(type) || type.startsWith('xstate.');
}
