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
  // Stryker disable next-line ConditionalExpression,LogicalOperator: TaskSet sends only a live task's outcome; an actor not running has no actor (send() throws below) and crash() ignores it
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
  // XState 5's Actor.send() throws only for a string event, which the check above refuses, and reports
  // errors in transitions as a crash: the catch is unreachable today. It stays so that a throw from a
  // later XState crashes the actor instead of escaping into the task's promise chain.
  try {
    send(actor, event);
  } catch (/* Stryker disable next-line BlockStatement: unreachable with XState 5, see above */ err) {
    host.crash(err);
  }
}
