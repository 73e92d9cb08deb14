import type { Clock } from '../clock.js';
import { InterlockError } from '../errors.js';

/** What a source was doing when it reported an error. */
export type SourceErrorPhase = 'read' | 'parse' | 'deliver';

/** Second argument of every source's `onError`. */
export interface SourceErrorInfo {
  /** The file (or, for a listing failure, the directory) concerned. */
  path: string;
  /**
   * `read`: the file system refused (an `INTERLOCK_SOURCE_FAILED` error); `parse`: the
   * same file version held invalid JSON on two polls in a row, so it is not a write in
   * progress (reported once per version, still retried); `deliver`: your callback threw
   * or rejected (your error, as thrown; the value is offered again on the next poll).
   */
  phase: SourceErrorPhase;
}

/**
 * Liveness of a source's poll loop, by its clock. A health check can flag a source that has
 * been `polling` since a `lastPollStartedAt` several intervals old: its callback is stuck.
 */
export interface PollLoopStats {
  /** Polls started. */
  polls: number;
  polling: boolean;
  stopped: boolean;
  lastPollStartedAt: number | undefined;
  lastPollEndedAt: number | undefined;
}

/** @internal Calls onError; an error with nowhere to go, or thrown by onError, becomes a process warning. */
export function reportSourceError(
  onError: ((error: unknown, info: SourceErrorInfo) => void) | undefined,
  error: unknown,
  info: SourceErrorInfo,
): void {
  if (onError) {
    try {
      const result: unknown = onError(error, info);
      // An async onError that rejects would otherwise be an unhandled rejection.
      if (result instanceof Promise) result.catch((thrown: unknown) => warn(thrown, info));
      return;
    } catch (thrown) {
      error = thrown;
    }
  }
  warn(error, info);
}

function warn(error: unknown, info: SourceErrorInfo): void {
  // An Error keeps its own name and code in the warning; anything else gets a type.
  if (error instanceof Error) process.emitWarning(error);
  else process.emitWarning(String(error), { type: 'InterlockSourceWarning', detail: `${info.phase} ${info.path}` });
}

/** @internal */
export function assertInterval(source: string, intervalMs: number): void {
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
    throw new InterlockError(
      'INTERLOCK_INVALID_CONFIG',
      `${source}: intervalMs must be a positive finite number of milliseconds, got ${String(intervalMs)}.`,
    );
  }
}

/** @internal */
export interface PollLoop {
  stop(): Promise<void>;
  pollNow(): Promise<void>;
  whenIdle(): Promise<void>;
  stats(): PollLoopStats;
}

/**
 * @internal Runs `poll` on the clock, one at a time: the next timer is set only after the
 * previous poll settled, so two polls never overlap however slow one is. `poll` receives
 * a signal that aborts when `stop()` is called, to end a long hand-off early. A throw
 * from `poll` goes to `onUnexpected` and polling goes on.
 */
export function startPollLoop(
  clock: Clock,
  intervalMs: number,
  poll: (signal: AbortSignal) => Promise<void>,
  onUnexpected: (error: unknown) => void,
): PollLoop {
  const abort = new AbortController();
  const stats: PollLoopStats = {
    polls: 0,
    polling: false,
    stopped: false,
    lastPollStartedAt: undefined,
    lastPollEndedAt: undefined,
  };
  // Always a handle: schedule(0) below arms the first timer before anything can clear it.
  // Clearing a handle that already fired or was cleared does nothing (the Clock contract,
  // as for the global clearTimeout), so no flag tracks whether it is live.
  let timer: unknown;
  // The in-flight poll including its rescheduling step; undefined when idle.
  let running: Promise<void> | undefined;

  const schedule = (ms: number) => {
    timer = clock.setTimeout(() => void cycle(), ms);
  };

  // Callers guarantee nothing is running (the timer only exists while idle; pollNow waits).
  const cycle = (): Promise<void> => {
    stats.polls++;
    stats.polling = true;
    stats.lastPollStartedAt = clock.now();
    // The executor runs `poll` synchronously and turns a synchronous throw into a rejection.
    const whole = new Promise<void>((resolve) => resolve(poll(abort.signal)))
      .catch((error: unknown) => {
        try {
          onUnexpected(error);
        } catch {
          // onUnexpected is reportSourceError, which already turns its own failures into
          // warnings; this guard only keeps the loop alive if that ever changes.
        }
      })
      .then(() => {
        stats.polling = false;
        stats.lastPollEndedAt = clock.now();
        running = undefined;
        if (!stats.stopped) schedule(intervalMs);
      });
    running = whole;
    return whole;
  };

  const pollNow = async (): Promise<void> => {
    // Loop, not `if`: another pollNow may start a poll while this one waits.
    while (running) await running;
    if (stats.stopped) return;
    clock.clearTimeout(timer);
    await cycle();
  };

  const whenIdle = async (): Promise<void> => {
    while (running) await running;
  };

  // Idempotent without a guard: each step is (abort() on an aborted controller and clearing
  // a spent handle do nothing, and no timer is armed once stopped).
  const stop = async (): Promise<void> => {
    stats.stopped = true;
    abort.abort();
    clock.clearTimeout(timer);
    await whenIdle();
  };

  schedule(0);
  return { stop, pollNow, whenIdle, stats: () => ({ ...stats }) };
}
