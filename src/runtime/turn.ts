import type { AnyActorRef, EventObject } from 'xstate';
import { hostOf } from './registry.js';

/**
 * Helpers a machine uses to answer the request (envelope) it is handling. They are plain
 * XState actions and work only in actors run by an Interlock runtime (elsewhere they do
 * nothing). A request's "turn" opens when its envelope is delivered and closes when the
 * machine answers it with `reply` or `fail`, or when a terminal event is emitted for it.
 *
 * Simple machines never name a request: the answer goes to the current turn, the last
 * request delivered that is still open. Machines that accept a new request while another
 * is open (a session interrupting a stream) keep ids: `assign({ req: requestId })` on
 * delivery and `reply(..., { to: ({ context }) => context.req })` later.
 */
export interface TurnArgs<TContext = any, TEvent extends EventObject = any> {
  context: TContext;
  event: TEvent;
  self: AnyActorRef;
}

/** A value, or a function of the action's args. (`{}` rather than `unknown` keeps the function contextually typed.) */
type Value<TArgs> = ((args: TArgs) => unknown) | {} | null | undefined;

export interface AnswerOptions<TArgs> {
  /** The request to answer; default: the current turn. */
  to?: (args: TArgs) => string | undefined;
}

/** The id of the request being delivered, for `assign`: `assign({ req: requestId })`. */
export function requestId(args: { self: AnyActorRef }): string | undefined {
  return hostOf(args.self)?.deliveringId();
}

/** Resolves the request's `ask` (and completes its `stream`) with `output`. */
export function reply<TContext = any, TEvent extends EventObject = any>(
  output?: Value<TurnArgs<TContext, TEvent>>,
  options?: AnswerOptions<TurnArgs<TContext, TEvent>>,
) {
  return function interlockReply(args: TurnArgs<TContext, TEvent>): void {
    hostOf(args.self)?.answer(options?.to?.(args), true, resolve(output, args));
  };
}

/** Rejects the request's `ask` (and errors its `stream`) with INTERLOCK_TURN_FAILED carrying `error`. */
export function fail<TContext = any, TEvent extends EventObject = any>(
  error: Value<TurnArgs<TContext, TEvent>>,
  options?: AnswerOptions<TurnArgs<TContext, TEvent>>,
) {
  return function interlockFail(args: TurnArgs<TContext, TEvent>): void {
    hostOf(args.self)?.answer(options?.to?.(args), false, resolve(error, args));
  };
}

/**
 * Starts a turn's async work without a child actor per request: `run` starts on the
 * next microtask (never inside the transition), gets an AbortSignal that fires when the
 * actor stops, crashes or restarts, and its outcome comes back as the `done` or `error`
 * event. Results from an earlier incarnation of the actor are dropped (fenced). Each
 * task shows on the bus as `task.started` / `task.settled`.
 */
export function runTask<TContext = any, TEvent extends EventObject = any, TOutput = unknown>(
  run: (args: TurnArgs<TContext, TEvent> & { signal: AbortSignal }) => Promise<TOutput> | TOutput,
  events: { done: (output: TOutput) => EventObject; error: (err: unknown) => EventObject },
) {
  return function interlockTask(args: TurnArgs<TContext, TEvent>): void {
    const { context, event, self } = args;
    hostOf(self)?.startTask(
      async (signal) => run({ context, event, self, signal }),
      events.done as (output: unknown) => EventObject,
      events.error,
    );
  };
}

/** Marks progress for stall detection without changing the snapshot. */
export function heartbeat() {
  return function interlockHeartbeat(args: { self: AnyActorRef }): void {
    hostOf(args.self)?.heartbeat();
  };
}

function resolve<TArgs>(v: Value<TArgs>, args: TArgs): unknown {
  return typeof v === 'function' ? (v as (a: TArgs) => unknown)(args) : v;
}
