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
import type { TaskContext } from '../src/runtime/TaskSet.js';
import { fail, reply, runTask } from '../src/runtime/helpers.js';

export interface WorkerOptions<TItem = unknown, TOutput = unknown> {
  process(item: TItem, ctx: TaskContext): Promise<TOutput>;
  /** Progress deadline of one item. Default 30 s. */
  stallAfterMs?: number;
}

export type WorkerEvent =
  | { type: 'item'; item: unknown; name?: string }
  | { type: '@item.done'; output: unknown }
  | { type: '@item.error'; error: unknown };

export interface WorkerContext {
  processed: number;
  failed: number;
  current: string | undefined;
}

export function workerMachine<TItem = unknown, TOutput = unknown>(options: WorkerOptions<TItem, TOutput>) {
  const stallAfterMs = options.stallAfterMs ?? 30_000;
  if (!(stallAfterMs > 0)) throw new RangeError('stallAfterMs must be > 0');
  return setup({
    types: {} as { context: WorkerContext; events: WorkerEvent },
    actions: {
      take: assign(({ event }) => ({ current: (event as { name?: string }).name })),
      work: runTask<WorkerContext, WorkerEvent, TOutput>(({ event, signal, emit, heartbeat }) =>
        options.process((event as { item: TItem }).item, { signal, emit, heartbeat }),
      {
        done: (output) => ({ type: '@item.done', output }),
        error: (error) => ({ type: '@item.error', error }),
      }),
      answer: reply(({ event }: { event: WorkerEvent }) => (event as { output: unknown }).output),
      failItem: fail(({ event }: { event: WorkerEvent }) => (event as { error: unknown }).error),
      countDone: assign(({ context }) => ({ processed: context.processed + 1, current: undefined })),
      countFailed: assign(({ context }) => ({ failed: context.failed + 1, current: undefined })),
    },
  }).createMachine({
    id: 'worker',
    context: { processed: 0, failed: 0, current: undefined },
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
