import type { EventObject } from 'xstate';
import { errors } from '../errors.js';
import { isReservedType } from '../events.js';
import { PRIORITY_LANE } from '../mailbox/envelope.js';
import type { EnqueueOptions } from '../mailbox/Delivery.js';

/** Checks an event and its options at the runtime's edge, with coded errors. */
export function validateSend(address: string, event: unknown, options: unknown): asserts event is EventObject {
  if (typeof event !== 'object' || event === null || typeof (event as EventObject).type !== 'string') {
    throw errors.invalidEvent(address, 'an event must be an object with a string `type`');
  }
  const type = (event as EventObject).type;
  if (isReservedType(type)) {
    throw errors.invalidEvent(
      address,
      type === '' ? 'the event type is empty' : `event type '${type}' is reserved ('@…' is internal to the runtime and its tasks, 'xstate.…' to XState)`,
    );
  }
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw errors.invalidEvent(address, 'options must be an object');
  const o = options as EnqueueOptions;
  if (o.priority !== undefined && !Object.hasOwn(PRIORITY_LANE, o.priority)) {
    throw errors.invalidEvent(address, `priority must be 'high', 'normal' or 'low', got ${String(o.priority)}`);
  }
  // Number.isFinite is false for every non-number (it does not coerce), so no typeof check.
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0 && Number.isFinite(o.timeoutMs))) {
    throw errors.invalidEvent(address, `timeoutMs must be a positive finite number, got ${String(o.timeoutMs)}`);
  }
  if (o.signal !== undefined && !isAbortSignal(o.signal)) throw errors.invalidEvent(address, 'signal must be an AbortSignal');
}

/**
 * What delivery uses of a signal: `aborted`, and adding and removing the abort listener. A
 * duck type, so a signal from another realm or a polyfill passes; reading a property of a
 * string or number is harmless (undefined), only null needs its own check.
 */
function isAbortSignal(value: unknown): boolean {
  if (value === null) return false;
  const s = value as Partial<AbortSignal>;
  return typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function';
}
