import type { AnyActor, EventObject } from 'xstate';
import { errors } from '../errors.js';
import { isInternalType } from '../events.js';
import type { DeliveryHost } from './Delivery.js';

/** Where every event enters an XState actor: caller envelopes from Delivery's deliver(), internal events from {@link sendInternalEvent}. @internal */
export function send(actor: AnyActor, event: EventObject): void {
  actor.send(event);
}

/**
 * The door for internal events (`runTask` outcomes): they do not queue behind callers'
 * envelopes, but they reach the machine only here, and only in the `@` namespace that
 * callers can never send (see events.ts). An outcome outside it is a bug in the machine:
 * the actor crashes with a coded error naming the type, rather than let a caller forge it.
 * @internal
 */
export function sendInternalEvent(host: DeliveryHost, event: EventObject): void {
  const actor = host.actor;
  if (!actor || host.status !== 'running') return;
  const type = (event as EventObject | undefined)?.type;
  if (typeof type !== 'string' || !isInternalType(type)) {
    host.crash(
      errors.invalidEvent(
        host.address,
        `a task outcome must be an internal event whose type starts with '@' (got ${JSON.stringify(type)}); callers could forge any other type`,
      ),
    );
    return;
  }
  try {
    send(actor, event);
  } catch (err) {
    // send() does not throw for machine errors (they arrive as a crash); this is a bad event object.
    host.crash(err);
  }
}
