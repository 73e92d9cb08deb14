/**
 * The worker (seed 003): takes one item at a time, heartbeats while it works, and is
 * restarted by the supervisor when it stalls.
 *
 *   idle ──item──▶ working (meta.stallAfterMs) ──@item.done / @item.error──▶ idle
 *
 * `working` declares a progress deadline. The item's work heartbeats through its task
 * context; a worker that shows no progress past the deadline is crashed with a stall,
 * its work is aborted and fenced (its late result is dropped), the caller of that item
 * gets INTERLOCK_ACTOR_STALLED, and queued items are delivered after the restart. Fed by
 * `pollDirectory`, the stalled item is offered again because its hand-off was rejected.
 */
import { assign, setup } from 'xstate';
import { errors, fail, reply, runTask, type KindConfig, type TaskContext } from '../src/index.js';

export interface WorkerOptions<TItem = unknown, TOutput = unknown> {
  process(item: TItem, ctx: TaskContext): Promise<TOutput>;
  /** Progress deadline of one item. Default 30 s. */
  stallAfterMs?: number;
}

/** What callers send a worker. */
export type WorkerEvent = { type: 'item'; item: unknown; name?: string };

/** Task outcomes: only the worker's own task produces them. */
export type WorkerInternalEvent =
  | { type: '@item.done'; output: unknown }
  | { type: '@item.error'; error: unknown };

export interface WorkerContext {
  processed: number;
  failed: number;
  current: string | undefined;
}

export function workerMachine<TItem = unknown, TOutput = unknown>(options: WorkerOptions<TItem, TOutput>) {
  const stallAfterMs = options.stallAfterMs ?? 30_000;
  if (!(typeof stallAfterMs === 'number' && stallAfterMs > 0)) throw errors.invalidConfig(`\`stallAfterMs\` must be a positive number, got ${String(stallAfterMs)}`, 'workerMachine options');
  if (typeof options.process !== 'function') throw errors.invalidConfig('`process` must be a function (item, ctx) => Promise', 'workerMachine options');
  return setup({
    types: {} as { context: WorkerContext; events: WorkerEvent | WorkerInternalEvent; input: WorkerCarry | undefined },
    actions: {
      take: assign(({ event }) => ({ current: (event as { name?: string }).name })),
      work: runTask<WorkerContext, WorkerEvent | WorkerInternalEvent, TOutput>(({ event, signal, emit, heartbeat }) =>
        options.process((event as { item: TItem }).item, { signal, emit, heartbeat }),
      {
        done: (output) => ({ type: '@item.done', output }),
        error: (error) => ({ type: '@item.error', error }),
      }),
      answer: reply(({ event }: { event: WorkerEvent | WorkerInternalEvent }) => (event as { output: unknown }).output),
      failItem: fail(({ event }: { event: WorkerEvent | WorkerInternalEvent }) => (event as { error: unknown }).error),
      countDone: assign(({ context }) => ({ processed: context.processed + 1, current: undefined })),
      countFailed: assign(({ context }) => ({ failed: context.failed + 1, current: undefined })),
    },
  }).createMachine({
    id: 'worker',
    // Health counters survive a supervisor restart (see workerRestartInput).
    context: ({ input }: { input: WorkerCarry | undefined }) => ({ processed: input?.processed ?? 0, failed: input?.failed ?? 0, current: undefined }),
    initial: 'idle',
    states: {
      idle: { on: { item: { target: 'working', actions: ['take', 'work'] } } },
      working: {
        meta: { stallAfterMs },
        on: {
          '@item.done': { target: 'idle', actions: ['countDone', 'answer'] },
          '@item.error': { target: 'idle', actions: ['countFailed', 'failItem'] },
        },
      },
    },
  });
}

export type WorkerMachine = ReturnType<typeof workerMachine>;

/** A worker answers every item (with process's output or its error). */
const WORKER_ANSWERS: readonly string[] = ['item'];

/** What a worker keeps across a supervisor restart: its health counters. */
export interface WorkerCarry {
  processed: number;
  failed: number;
}

/**
 * `supervision.restartInput` for worker kinds: the counters survive a stall or crash
 * restart, and the item that was in progress when it happened counts as failed.
 */
export function workerRestartInput(last: { value: unknown; context: WorkerContext }): WorkerCarry {
  return { processed: last.context.processed, failed: last.context.failed + (last.value === 'working' ? 1 : 0) };
}

/**
 * The recommended kind for a worker: restarts that keep its counters, and `item` (its only
 * event) answered, so an ask of any other type is refused with INTERLOCK_NOT_ANSWERED
 * instead of waiting, postponed, for its deadline. `answers` is the machine's, not a policy.
 */
export function workerKind<TItem = unknown, TOutput = unknown>(
  options: WorkerOptions<TItem, TOutput>,
  policies: Omit<KindConfig<WorkerMachine>, 'machine' | 'answers'> = {},
): KindConfig<ReturnType<typeof workerMachine<TItem, TOutput>>> {
  return {
    ...policies,
    answers: WORKER_ANSWERS,
    machine: workerMachine(options),
    supervision: { restartInput: workerRestartInput, ...policies.supervision },
  };
}
