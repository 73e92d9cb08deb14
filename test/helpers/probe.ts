import { assign, setup, type AnyActorRef } from 'xstate';
import { abortTask, fail, reply, runTask } from '../../src/index.js';

/**
 * How a probe request behaves:
 * - `ok`: its task settles when the test lets it, then the probe replies `{ n }`;
 * - `fail`: its task rejects, the probe answers with `fail` (INTERLOCK_TURN_FAILED);
 * - `throw`: the transition that accepts it throws in an action (a crash at delivery);
 * - `reject-throw`: its task rejects into a transition that throws (a crash mid-turn);
 * - `hang`: its task never settles (until the actor is torn down and the signal aborts).
 */
export type Mode = 'ok' | 'fail' | 'throw' | 'reject-throw' | 'hang';

export type ProbeEvent =
  | { type: 'req'; n: number; mode: Mode; sleepMs?: number }
  | { type: 'ping'; n: number }
  | { type: 'boom'; n: number }
  | { type: '@done'; n: number; task: number }
  | { type: '@failed'; n: number; task: number }
  | { type: 'cancel'; requestId?: string };

/** One event the machine accepted (its actions ran), in order. */
export interface Receipt {
  /** The XState actor instance (one per activation incarnation) that accepted it. */
  actor: number;
  key: string;
  type: ProbeEvent['type'];
  n: number;
  state: string;
  task?: number;
}

/** The runtime's id of the task started for request `n` (unique among running tasks: `n` is). */
export const taskId = (n: number): string => `req-${n}`;

/** One `runTask` started by the probe. */
export interface TaskRecord {
  id: number;
  /** The id the runtime knows the task by (`task.started` / `task.settled` records). */
  runtimeId: string;
  actor: number;
  key: string;
  n: number;
  mode: Mode;
  sleepMs: number | undefined;
  signal: AbortSignal;
  /** The work promise settled (resolved or rejected). */
  finished: boolean;
  /** The task's outcome (done/failed) reached the machine. */
  delivered: boolean;
}

export interface ProbeLog {
  receipts: Receipt[];
  tasks: TaskRecord[];
  /** Running tasks per actor instance, and the most ever seen at once. */
  active: Map<number, number>;
  maxActive: Map<number, number>;
  /**
   * Running tasks per key (across incarnations), and the most ever seen at once: above 1
   * when stale work of a torn-down incarnation still runs beside the new one (allowed).
   */
  activeByKey: Map<string, number>;
  maxActiveByKey: Map<string, number>;
  /** Anything the probe saw that must never happen, as sentences. */
  violations: string[];
}

export function newProbeLog(): ProbeLog {
  return {
    receipts: [],
    tasks: [],
    active: new Map(),
    maxActive: new Map(),
    activeByKey: new Map(),
    maxActiveByKey: new Map(),
    violations: [],
  };
}

/** What the test does for a task: resolve when the scheduler (or the clock) says so. */
export type Wait = (task: TaskRecord) => Promise<void>;

export interface ProbeOptions {
  log: ProbeLog;
  wait: Wait;
  /** Declared as `meta.stallAfterMs` on `busy` and `cancelling`. */
  stallAfterMs?: number;
}

interface Ctx {
  key: string;
  /** The request the current (or cancelled) turn is about. */
  n: number;
  mode: Mode;
}

const actorIds = new WeakMap<object, number>();
let nextActorId = 0;

/** A stable number per XState actor instance (a restart or reactivation makes a new one). */
export function actorId(self: AnyActorRef): number {
  let id = actorIds.get(self);
  if (id === undefined) {
    id = ++nextActorId;
    actorIds.set(self, id);
  }
  return id;
}

function bump(map: Map<unknown, number>, max: Map<unknown, number>, k: unknown, by: number): void {
  const v = (map.get(k) ?? 0) + by;
  map.set(k, v);
  if (v > (max.get(k) ?? 0)) max.set(k, v);
}

/**
 * A probe machine: `idle` accepts `req` and moves to `busy` while one task runs; `busy`
 * does not accept `req` (so later ones are postponed by the runtime) and answers the
 * request from the task's outcome; `cancel` (the kind's cancel event, sent when the
 * caller aborted or timed out) aborts the task (`abortTask`: its signal fires, its outcome
 * still comes back) and moves to `cancelling`, which waits for that outcome and then
 * closes the turn with `fail('cancelled')` — the turn stays open until then, because the
 * runtime fences (drops) the outcome of a task whose turn already closed.
 * So one incarnation never runs two tasks at once. Each task emits two data-plane
 * chunks `{ type: 'chunk', n, part }` (at its start and when its work ends). `ping` is accepted in every state.
 * Every accepted event is logged with the actor instance that accepted it.
 */
export function probeMachine(options: ProbeOptions) {
  const { log, wait, stallAfterMs } = options;
  const meta = stallAfterMs === undefined ? undefined : { stallAfterMs };
  const receive =
    (state: string) =>
    ({ context, event, self }: { context: Ctx; event: ProbeEvent; self: AnyActorRef }) => {
      const n = 'n' in event ? event.n : -1;
      const r: Receipt = { actor: actorId(self), key: context.key, type: event.type, n, state };
      if ('task' in event) r.task = event.task;
      log.receipts.push(r);
    };
  /** A task outcome must come from a task this very actor instance started for this request. */
  const checkOwn = ({ context, event, self }: { context: Ctx; event: ProbeEvent; self: AnyActorRef }) => {
    if (event.type !== '@done' && event.type !== '@failed') return;
    const task = log.tasks[event.task - 1];
    const me = actorId(self);
    if (!task) return void log.violations.push(`unknown task ${event.task} reached actor ${me}`);
    task.delivered = true;
    if (task.actor !== me) {
      log.violations.push(`task ${task.id} of actor ${task.actor} (n=${task.n}) reached actor ${me}: an unfenced stale result`);
    }
    if (task.n !== context.n) log.violations.push(`task ${task.id} for n=${task.n} reached the turn of n=${context.n}`);
  };
  const boom = (what: string) => () => {
    throw new Error(`probe: ${what}`);
  };

  return setup({
    types: {} as { context: Ctx; events: ProbeEvent; input: { key: string } },
  }).createMachine({
    id: 'probe',
    context: ({ input }) => ({ key: input.key, n: -1, mode: 'ok' as Mode }),
    initial: 'idle',
    on: {
      ping: { actions: receive('any') },
      // A crash in any state, also while a task is running (its work then goes stale).
      boom: { actions: [receive('any'), boom('boom')] },
    },
    states: {
      idle: {
        on: {
          req: [
            { guard: ({ event }) => event.mode === 'throw', actions: [receive('idle'), boom('action threw')] },
            {
              target: 'busy',
              actions: [
                receive('idle'),
                assign({ n: ({ event }) => event.n, mode: ({ event }) => event.mode }),
                runTask(
                  async ({ context, event, self, signal, emit }) => {
                    const e = event as Extract<ProbeEvent, { type: 'req' }>;
                    const task: TaskRecord = {
                      id: log.tasks.length + 1,
                      runtimeId: taskId(e.n),
                      actor: actorId(self),
                      key: context.key,
                      n: e.n,
                      mode: e.mode,
                      sleepMs: e.sleepMs,
                      signal,
                      finished: false,
                      delivered: false,
                    };
                    log.tasks.push(task);
                    bump(log.active, log.maxActive, task.actor, 1);
                    bump(log.activeByKey, log.maxActiveByKey, task.key, 1);
                    // Data plane: a chunk at the start and one at the end, for the request's stream.
                    emit({ type: 'chunk', n: e.n, part: 0 });
                    try {
                      await wait(task);
                      emit({ type: 'chunk', n: e.n, part: 1 });
                    } catch (cause) {
                      // Clock-paced and hanging work gives up when its signal fires.
                      throw Object.assign(new Error(`n=${e.n} aborted`), { task, cause });
                    } finally {
                      bump(log.active, log.maxActive, task.actor, -1);
                      bump(log.activeByKey, log.maxActiveByKey, task.key, -1);
                      task.finished = true;
                    }
                    if (e.mode === 'fail' || e.mode === 'reject-throw') throw Object.assign(new Error(`n=${e.n} failed`), { task });
                    return task;
                  },
                  {
                    id: ({ event }) => taskId((event as { n: number }).n),
                    done: (t) => ({ type: '@done', n: (t as TaskRecord).n, task: (t as TaskRecord).id }),
                    error: (err) => {
                      const t = (err as { task?: TaskRecord }).task;
                      return { type: '@failed', n: t?.n ?? -1, task: t?.id ?? 0 };
                    },
                  },
                ),
              ],
            },
          ],
        },
      },
      busy: {
        meta,
        on: {
          '@done': { target: 'idle', actions: [receive('busy'), checkOwn, reply(({ event }) => ({ n: (event as { n: number }).n }))] },
          '@failed': [
            { guard: ({ context }) => context.mode === 'reject-throw', actions: [receive('busy'), checkOwn, boom('failure handler threw')] },
            { target: 'idle', actions: [receive('busy'), checkOwn, fail(({ event }) => `probe failed n=${(event as { n: number }).n}`)] },
          ],
          // The caller is gone (its ask already rejected): abort the work (its signal fires, its
          // outcome still comes back) and keep the turn open until it has settled.
          cancel: { target: 'cancelling', actions: [receive('busy'), abortTask(({ context }) => taskId(context.n))] },
        },
      },
      cancelling: {
        meta,
        on: {
          '@done': { target: 'idle', actions: [receive('cancelling'), checkOwn, fail('cancelled')] },
          '@failed': { target: 'idle', actions: [receive('cancelling'), checkOwn, fail('cancelled')] },
        },
      },
    },
  });
}
