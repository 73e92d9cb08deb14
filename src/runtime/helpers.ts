import type { AnyActorRef, EventObject } from 'xstate';
import { hostOf, type TurnHost } from './hostSlot.js';
import type { InternalEventOf } from '../events.js';
import type { TaskContext } from './TaskSet.js';

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
type Value<TArgs> = ((args: TArgs, params: any) => unknown) | {} | null | undefined;

export interface AnswerOptions<TArgs> {
  /** The request to answer; default: the current turn. Returning undefined answers nobody. */
  to?: (args: TArgs) => string | undefined;
}

/** The address (`kind/key`) of the actor running the machine; outside a runtime, `self.id`. */
export function addressOf(self: AnyActorRef | { id: string }): string {
  return hostOf(self)?.address ?? self.id;
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
  return function interlockReply(args: TurnArgs<TContext, TEvent>, params?: unknown): void {
    hosted(args.self, 'reply')?.answer(options?.to ? { id: options.to(args) } : undefined, true, resolve(output, args, params));
  };
}

/**
 * Rejects the request's `ask` (and errors its `stream`): an InterlockError is passed
 * through as is (e.g. INTERLOCK_SUPERSEDED), anything else becomes INTERLOCK_TURN_FAILED
 * with it as the cause. A function `error` is called only when the request's caller still
 * waits (not when it already cancelled or left): an error is a stack trace to build.
 */
export function fail<TContext = any, TEvent extends EventObject = any>(
  error: Value<TurnArgs<TContext, TEvent>>,
  options?: AnswerOptions<TurnArgs<TContext, TEvent>>,
) {
  return function interlockFail(args: TurnArgs<TContext, TEvent>, params?: unknown): void {
    const host = hosted(args.self, 'fail');
    if (!host) return;
    const to = options?.to ? { id: options.to(args) } : undefined;
    host.answer(to, false, host.awaitsAnswer(to) ? resolve(error, args, params) : undefined);
  };
}

/**
 * Starts a turn's async work without a child actor per request: `run` starts on the
 * next microtask (never inside the transition) and gets a {@link TaskContext}: a signal
 * that fires when the task is aborted or fenced, the actor stops, crashes or restarts, or
 * the request's turn ends; `emit` for data-plane events (token chunks) that go to the
 * request's stream without a transition; and `heartbeat`. The outcome comes back as the
 * `done` or `error` event — unless the task was fenced or belongs to an earlier
 * incarnation, in which case it is dropped. Each task shows on the bus as `task.started`
 * / `task.settled`. Give `id` to abort or fence the task later from the machine.
 */
export function runTask<TContext = any, TEvent extends EventObject = any, TOutput = unknown>(
  run: (args: TurnArgs<TContext, TEvent> & TaskContext) => Promise<TOutput> | TOutput,
  events: {
    done: (output: TOutput) => NoInfer<InternalEventOf<TEvent>>;
    error: (err: unknown) => NoInfer<InternalEventOf<TEvent>>;
    /** Names the task so the machine can abort or fence it. */
    id?: (args: TurnArgs<TContext, TEvent>) => string;
    /**
     * The request the task works for (its emits go to its stream; its end fences the task).
     * Default: the request being delivered — none when that is a tell — or, when started by
     * an internal event, the current turn.
     */
    for?: (args: TurnArgs<TContext, TEvent>) => string | undefined;
  },
) {
  return function interlockTask(args: TurnArgs<TContext, TEvent>): void {
    const { context, event, self } = args;
    hosted(self, 'runTask')?.startTask(
      events.id?.(args),
      (ctx) => run(new RunArgs(context, event, self, ctx)),
      events.done as (output: unknown) => EventObject,
      events.error,
      events.for ? { id: events.for(args) } : undefined,
    );
  };
}

/** Fires a task's signal; its `done`/`error` event still comes back (wait for cleanup). */
export function abortTask<TContext = any, TEvent extends EventObject = any>(id: (args: TurnArgs<TContext, TEvent>) => string | undefined) {
  return function interlockAbortTask(args: TurnArgs<TContext, TEvent>): void {
    const taskId = id(args);
    // Stryker disable next-line ConditionalExpression: no task is keyed undefined (TaskSet names an unnamed task task-<n>), so abortTask(undefined) finds none and does nothing
    if (taskId !== undefined) hostOf(args.self)?.abortTask(taskId);
  };
}

/** Aborts a task and drops everything it emits or returns from now on. */
export function fenceTask<TContext = any, TEvent extends EventObject = any>(id: (args: TurnArgs<TContext, TEvent>) => string | undefined) {
  return function interlockFenceTask(args: TurnArgs<TContext, TEvent>): void {
    const taskId = id(args);
    // Stryker disable next-line ConditionalExpression: no task is keyed undefined (TaskSet names an unnamed task task-<n>), so fenceTask(undefined) finds none and does nothing
    if (taskId !== undefined) hostOf(args.self)?.fenceTask(taskId);
  };
}

/**
 * Sends `event` to the actor's own mailbox, as an in-process `tell` would: it waits its
 * turn, may be postponed, and travels in the control lane when its type is listed there.
 * For work that learns something later (a task's backend reports a failure). Reserved
 * (`@…`) types are refused; outside a runtime it does nothing.
 */
export function tellSelf<E extends EventObject>(self: AnyActorRef | { id: string }, event: E): void {
  hostOf(self)?.tellSelf(event);
}

/** Marks progress for stall detection without changing the snapshot. */
export function heartbeat() {
  return function interlockHeartbeat(args: { self: AnyActorRef }): void {
    hostOf(args.self)?.heartbeat();
  };
}

let warned = false;

/**
 * The turn host of `self`, or undefined outside a runtime — where the helper does nothing.
 * That is silent by design in production, but a machine unit-tested with plain
 * `createActor` would see its `reply`/`runTask` vanish: warn once (process warning
 * `INTERLOCK_NO_RUNTIME`) unless NODE_ENV is 'production'.
 */
function hosted(self: AnyActorRef, helper: string): TurnHost | undefined {
  const host = hostOf(self);
  if (host === undefined && !warned) {
    const proc = (globalThis as { process?: { env?: Record<string, string | undefined>; emitWarning?: (m: string, o: object) => void } }).process;
    if (proc?.env?.NODE_ENV !== 'production' && typeof proc?.emitWarning === 'function') {
      warned = true;
      proc.emitWarning(
        `${helper}() ran in an actor no Interlock runtime hosts (plain createActor?), so it did nothing. Run the machine in createRuntime({ kinds }) to test its answers and tasks.`,
        { code: 'INTERLOCK_NO_RUNTIME' },
      );
    }
  }
  return host;
}

/** A value, or the function's result for the action's args and (XState) params. */
function resolve<TArgs>(v: Value<TArgs>, args: TArgs, params: unknown): unknown {
  return typeof v === 'function' ? (v as (a: TArgs, p: unknown) => unknown)(args, params) : v;
}

/** What a task's work gets: the action's args and its task context (`signal` stays lazy). */
class RunArgs<TContext, TEvent extends EventObject> implements TurnArgs<TContext, TEvent>, TaskContext {
  readonly emit: TaskContext['emit'];
  readonly heartbeat: TaskContext['heartbeat'];

  constructor(
    readonly context: TContext,
    readonly event: TEvent,
    readonly self: AnyActorRef,
    private readonly ctx: TaskContext,
  ) {
    this.emit = ctx.emit;
    this.heartbeat = ctx.heartbeat;
  }

  get signal(): AbortSignal {
    return this.ctx.signal;
  }
}
