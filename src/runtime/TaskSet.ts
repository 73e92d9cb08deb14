import type { EventObject } from 'xstate';
import { errors } from '../errors.js';
import type { Envelope } from '../mailbox/envelope.js';
import type { RecordType } from '../bus/records.js';
import { SmallMap } from '../mailbox/SmallMap.js';

/** What a task may do while it runs. */
export interface TaskContext {
  /** Fires when the task is aborted (its turn ended, the machine aborted or fenced it, the actor stopped). */
  signal: AbortSignal;
  /**
   * Data plane: sends an event to the stream of the request this task belongs to and onto
   * the bus, without a machine transition (a token chunk, say). Dropped once fenced.
   */
  emit<E extends EventObject>(event: E): void;
  /** Marks progress for stall detection. */
  heartbeat(): void;
}

/** @internal */
export interface TaskHost {
  readonly incarnation: number;
  isRunning(): boolean;
  publish(type: RecordType, data: unknown): void;
  /** Delivers a task's completion event to the machine (not through the mailbox). */
  sendInternal(event: EventObject): void;
  emitFor(turn: Envelope | undefined, event: EventObject): void;
  heartbeat(): void;
}

/**
 * One task, and the context its work sees. A class so that `signal` is a prototype getter:
 * an object literal with a getter costs ~30x more to create, once per request.
 */
class Task implements TaskContext {
  /** Created on first use of `signal`: most tasks never look at it, and an AbortController is costly. */
  controller: AbortController | undefined = undefined;
  aborted = false;
  reason: unknown = undefined;
  fenced = false;
  dropped = 0;
  readonly incarnation: number;

  constructor(
    readonly id: string,
    readonly turn: Envelope | undefined,
    private readonly set: TaskSet,
    private readonly host: TaskHost,
  ) {
    this.incarnation = host.incarnation;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  // Fields, not methods: work destructures them (`({ emit }) => ...`).
  readonly emit = <E extends EventObject>(event: E): void => {
    if (this.isLive()) this.host.emitFor(this.turn, event);
    else this.dropped++;
  };

  readonly heartbeat = (): void => {
    if (this.isLive()) this.host.heartbeat();
  };

  isLive(): boolean {
    // Stryker disable next-line ConditionalExpression: the incarnation check is defence in depth: every restart is preceded by a teardown that fences every task (TaskSet.stopAll), so `fenced` already says false for a task of an older incarnation
    return !this.fenced && this.incarnation === this.host.incarnation && this.host.isRunning();
  }
}

/**
 * The async work an actor's turns started with `runTask`. A task is *aborted* (its signal
 * fires, its completion event still comes back, so the machine can wait for cleanup) or
 * *fenced* (aborted, and everything it emits or returns afterwards is dropped). Ending a
 * turn fences its tasks; stopping the actor fences all.
 * @internal
 */
export class TaskSet {
  private readonly tasks = new SmallMap<string, Task>();
  private auto = 0;

  constructor(private readonly host: TaskHost) {}

  get size(): number {
    return this.tasks.size;
  }

  start(
    id: string | undefined,
    turn: Envelope | undefined,
    run: (ctx: TaskContext) => unknown,
    done: (output: unknown) => EventObject,
    error: (err: unknown) => EventObject,
  ): void {
    const taskId = id ?? `task-${++this.auto}`;
    if (this.tasks.has(taskId)) throw errors.invalidConfig(`task '${taskId}' is already running; give each task a unique id`, 'runTask call');
    const task = new Task(taskId, turn, this, this.host);
    this.tasks.set(taskId, task);
    const requestId = turn?.id;
    this.host.publish('task.started', { task: taskId, requestId });
    const settle = (ok: boolean, value: unknown) => {
      if (this.tasks.get(taskId) === task) this.tasks.delete(taskId);
      const live = task.isLive();
      this.host.publish('task.settled', { task: taskId, requestId, ok, ...(live ? {} : { fenced: true, dropped: task.dropped }) });
      if (live) this.host.sendInternal(ok ? done(value) : error(value));
    };
    // Never inside the transition that started it.
    queueMicrotask(() => {
      if (!task.isLive()) return settle(false, task.reason);
      let result: unknown;
      try {
        result = run(task);
      } catch (err) {
        return settle(false, err);
      }
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        (result as PromiseLike<unknown>).then(
          (v) => settle(true, v),
          (e: unknown) => settle(false, e),
        );
      } else settle(true, result);
    });
  }

  /** Fires the task's signal; its completion event still reaches the machine. */
  abort(id: string, reason: () => unknown): void {
    const task = this.tasks.get(id);
    if (task) fire(task, reason);
  }

  /** Aborts the task and drops whatever it emits or returns from now on. */
  fence(id: string, reason: () => unknown): void {
    const task = this.tasks.get(id);
    if (!task) return;
    task.fenced = true;
    this.tasks.delete(id);
    fire(task, reason);
  }

  endTurn(turn: Envelope, reason: () => unknown): void {
    // Stryker disable next-line ConditionalExpression: a fast path for the common turn without tasks; the loop finds none
    if (this.tasks.size === 0) return;
    for (const task of this.tasks.values()) if (task.turn === turn) this.fence(task.id, reason);
  }

  stopAll(reason: () => unknown): void {
    for (const task of this.tasks.values()) {
      // Stryker disable next-line BooleanLiteral: the only caller (Activation.teardown) bumps the host's incarnation first, so isLive() is already false for every task here
      task.fenced = true;
      fire(task, reason);
    }
    this.tasks.clear();
  }
}

/** Aborts once; the reason (an Error, costly to build) is only made when someone can see it. */
function fire(task: Task, reason: () => unknown): void {
  if (task.aborted) return;
  task.aborted = true;
  if (task.controller) task.controller.abort(reason());
  else task.reason = reason();
}
