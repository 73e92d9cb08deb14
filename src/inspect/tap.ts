/**
 * The adapter from XState v5 inspection events to the runtime's records. While an actor is
 * inspected, an observer on its XState system (`actor.system.inspect`) turns each macrostep
 * of the root actor (`@xstate.microstep`s, closed by its `@xstate.snapshot`) into one
 * `transition` record on the actor's channel: the event that caused it (as
 * {@link shownEvent} allows), the state before and after, and every transition taken, with
 * its source and target state ids, so a page can light states and flash edges.
 *
 * What it does not map, and why: `@xstate.event` and `@xstate.actor` of the root are
 * already on the bus as `mailbox.*` and `lifecycle.*` records; child actors and
 * `@xstate.action` are not published (a child's context is not under the kind's `view`).
 * Nothing of the context is in a transition record: the `snapshot` record before it carries
 * the kind's view.
 *
 * Zero cost when off: no observer is attached, and XState's inspection returns at once
 * when a system has none.
 */
import type { AnyActor, EventObject, InspectionEvent, StateValue } from 'xstate';
import type { Channel } from '../bus/Channel.js';
import type { Kind } from '../kinds.js';
import { shownEvent, type ShownEvent } from './publicEvent.js';

/** One transition XState took within the macrostep. */
export interface TakenTransition {
  /** Id of the state it left (`session.streaming`), as in the machine graph. */
  readonly source: string;
  /** Ids of the states it entered; empty for a targetless transition. */
  readonly targets: readonly string[];
  /** '' for an eventless (`always`) transition, else the event type it was taken on. */
  readonly event: string;
}

/** The data of a `transition` record. */
export interface TransitionData {
  /** The event that started the macrostep (`xstate.init` when the actor started). */
  readonly event: ShownEvent;
  /** The state value before; null at the actor's start. */
  readonly from: StateValue | null;
  readonly to: StateValue | null;
  readonly status: string;
  /** In the order taken; eventless follow-ups included (cancelling → settled → streaming). */
  readonly transitions: readonly TakenTransition[];
  /** The envelope being delivered, when a caller's event caused it (its `mailbox.delivered` precedes). */
  readonly requestId?: string;
}

/** What the tap needs from the actor it watches. @internal */
export interface TapHost {
  readonly kind: Kind;
  readonly channel: Channel;
  /** The machine took the envelope being delivered: `mailbox.delivered` goes out before this record. */
  noteTaken(): void;
  deliveringId(): string | undefined;
}

interface TransitionLike {
  eventType: string;
  source: { id: string };
  target?: readonly { id: string }[];
}

export interface Tap {
  unsubscribe(): void;
}

/**
 * Attaches to `actor`'s system. Attached before `start()`, the first record is the start
 * (`from: null`); attached to a running actor, records begin with its next macrostep.
 * @internal
 */
export function tapActor(host: TapHost, actor: AnyActor, beforeStart: boolean): Tap {
  let taken: TakenTransition[] = [];
  let from: StateValue | null = beforeStart ? null : (actor.getSnapshot() as { value: StateValue }).value;
  let started = !beforeStart;
  return actor.system.inspect((ev: InspectionEvent) => {
    if (ev.actorRef !== actor) return;
    if (ev.type === '@xstate.microstep') {
      // `_transitions` is XState's, always an array on a microstep (pinned by test/unit/xstate-internals.test.ts).
      for (const t of (ev as unknown as { _transitions: readonly TransitionLike[] })._transitions) {
        taken.push({ source: t.source.id, targets: (t.target ?? []).map((n) => n.id), event: t.eventType });
      }
      return;
    }
    if (ev.type !== '@xstate.snapshot') return;
    const snapshot = ev.snapshot as { value?: StateValue; status: string };
    const steps = taken;
    taken = [];
    const first = !started;
    started = true;
    if (steps.length === 0 && !first) return;
    const before = from;
    from = snapshot.value ?? null;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: steps are empty here only for the start record (an empty later macrostep returned above), and the actor's new start snapshot already made Activation.onSnapshot call noteTaken(), which is idempotent (it marks the delivery published once)
    if (steps.length > 0) host.noteTaken();
    const channel = host.channel;
    // Stryker disable next-line ConditionalExpression,StringLiteral: a fast path that cannot be taken today: the tap is attached only while Inspection.while() holds a subscription to this address's records or to all records (subscribed before retain, unsubscribed after release), so the channel is watched; and an unwatched publish only counts the seq, never reading the type
    if (!channel.wanted) return channel.publish('transition', undefined);
    const requestId = host.deliveringId();
    const data: TransitionData = {
      event: shownEvent(host.kind, ev.event as EventObject),
      from: before,
      to: snapshot.value ?? null,
      status: snapshot.status,
      transitions: steps,
      ...(requestId === undefined ? {} : { requestId }),
    };
    channel.publish('transition', data);
  });
}
