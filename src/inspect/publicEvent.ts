/**
 * What the inspector may show of one event: its type always; its payload only for a type in
 * the kind's `publicEvents`, and then only what the kind's `eventView` returns (nothing by
 * default). Internal (`@…`) task outcomes, timers and anything else are shown by type only.
 */
import type { EventObject } from 'xstate';
import { isReservedType } from '../events.js';
import type { Kind } from '../kinds.js';

export interface ShownEvent {
  readonly type: string;
  /** An `@…` task outcome or an `xstate.…` event (timers, init): never sendable from outside. */
  readonly internal: boolean;
  /** Present only when the kind's `eventView` returned something for a public type. */
  readonly payload?: unknown;
}

/** @internal */
export function shownEvent(kind: Pick<Kind, 'publicEvents' | 'eventView'>, event: EventObject): ShownEvent {
  const type = event.type;
  const internal = isReservedType(type);
  const view = kind.eventView;
  if (!view || internal || !kind.publicEvents.has(type)) return { type, internal };
  let payload: unknown;
  try {
    payload = view(event);
  } catch (err) {
    // A throwing eventView must not fall back to the raw event (it may hold secrets).
    payload = { viewError: err instanceof Error ? err.message : String(err) };
  }
  return payload === undefined ? { type, internal } : { type, internal, payload };
}
