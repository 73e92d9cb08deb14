import { open, stat, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { systemClock, type Clock } from '../clock.js';
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

/** Second argument of `onChange`. */
export interface FileChangeInfo {
  path: string;
  /**
   * `ino:size:mtimeNs`: changes with every atomic replace and with any write the file
   * system's timestamp granularity can see (docs/sources.md, limits).
   */
  version: string;
  size: number;
  mtimeMs: number;
}

export interface PollFileOptions {
  /** Delay between the end of one poll and the start of the next (default 1000). */
  intervalMs?: number;
  clock?: Clock;
  /**
   * Called with the parsed JSON of each new version. The version counts as seen only once
   * the returned promise resolves; if it throws or rejects, the then-current version is
   * offered again on the next poll. The value is not validated: check its shape here.
   */
  onChange(value: unknown, info: FileChangeInfo): void | Promise<void>;
  /** Failures other than a missing or half-written file. Without it they go to `process.emitWarning`. */
  onError?(error: unknown, info: SourceErrorInfo): void;
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

/** Counters for a health endpoint or a heartbeat check. */
export interface PollFileStats extends PollLoopStats {
  /** onChange calls that resolved. */
  changes: number;
  /** Reads that found invalid JSON (a partial write, or a corrupt file); each is retried. */
  invalid: number;
  /** Errors passed to onError (or emitted as warnings). */
  errors: number;
}

export interface FileSource {
  /** Clears the timer and resolves once an in-flight poll and its callback settled. Idempotent. */
  stop(): Promise<void>;
  /** Polls now (after an in-flight poll, never alongside it) and resolves when that poll settled. */
  pollNow(): Promise<void>;
  /** Resolves when no poll is in flight (at once if none is). */
  whenIdle(): Promise<void>;
  stats(): PollFileStats;
}

/**
 * Watches one JSON file by polling it inside the event loop (seed 003: file-watcher
 * threads deadlocked the event loop). Every `intervalMs`, measured from the end of the
 * previous poll, it stats the file and, when its version (inode, size, mtime) changed,
 * reads and parses it and calls `onChange`. A missing file is waited for; a file holding
 * partial or invalid JSON is retried on the next poll without calling `onChange`; an
 * atomic replace (new inode, as `writeJsonAtomic` does) is a new version. Polls
 * never overlap: the next is scheduled only after the previous one and its `onChange`
 * settled. The first poll runs on the next turn of the clock (`setTimeout(0)`).
 */
export function pollFile(path: string, options: PollFileOptions): FileSource {
  const { intervalMs = 1000, clock = systemClock, onChange, onError } = options;
  assertInterval('pollFile', intervalMs);
  const counts = { changes: 0, invalid: 0, errors: 0 };
  let seen: string | undefined;
  const invalid: InvalidVersions = new Map();

  const report = (error: unknown, phase: SourceErrorPhase) => {
    counts.errors++;
    reportSourceError(onError, error, { path, phase });
  };

  const loop = startPollLoop(clock, intervalMs, async () => {
    // A cheap stat first: an unchanged version costs no read.
    const current = await statVersion(path);
    if (current === undefined || current === seen) return;
    const read = await readJsonVersion(path);
    if (read.kind === 'missing' || read.kind === 'unstable') return;
    if (read.kind === 'other') throw readFailed(path, new Error('not a regular file'));
    if (read.version === seen) return;
    if (read.kind === 'invalid') {
      counts.invalid++;
      if (noteInvalid(invalid, path, read.version)) report(invalidJsonError(path, read.error), 'parse');
      return;
    }
    try {
      await onChange(read.value, { path, version: read.version, size: read.size, mtimeMs: read.mtimeMs });
    } catch (error) {
      report(error, 'deliver');
      return;
    }
    seen = read.version;
    counts.changes++;
  }, (error) => report(error, 'read'));

  return {
    stop: loop.stop,
    pollNow: loop.pollNow,
    whenIdle: loop.whenIdle,
    stats: () => ({ ...loop.stats(), ...counts }),
  };
}

// ---------------------------------------------------------------------------------------
// Shared by pollDirectory. Kept here, not exported from the barrel.

/** @internal The result of reading one version of a JSON file. */
export type JsonRead =
  | { kind: 'missing' }
  /** The file changed while it was being read; try again next poll. */
  | { kind: 'unstable' }
  | { kind: 'invalid'; version: string; error: unknown }
  | { kind: 'ok'; version: string; value: unknown; size: number; mtimeMs: number }
  /** Not a regular file (a directory or a device). */
  | { kind: 'other' };

/** @internal `ino:size:mtimeNs` of `path`, undefined if it does not exist. Throws INTERLOCK_SOURCE_FAILED otherwise. */
export async function statVersion(path: string): Promise<string | undefined> {
  try {
    return versionOf(await stat(path, { bigint: true }));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw readFailed(path, error);
  }
}

/**
 * @internal Reads a file through one handle, so content and version belong to the same
 * inode even if the path is renamed over meanwhile; a second fstat catches a writer that
 * changed the file during the read. Throws INTERLOCK_SOURCE_FAILED for anything but a
 * missing file.
 */
export async function readJsonVersion(path: string): Promise<JsonRead> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const before = await handle.stat({ bigint: true });
    if (!before.isFile()) return { kind: 'other' };
    const text = await handle.readFile('utf8');
    const after = await handle.stat({ bigint: true });
    const version = versionOf(after);
    if (version !== versionOf(before)) return { kind: 'unstable' };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { kind: 'invalid', version, error };
    }
    return { kind: 'ok', version, value, size: Number(after.size), mtimeMs: Number(after.mtimeMs) };
  } catch (error) {
    if (isMissing(error)) return { kind: 'missing' };
    throw readFailed(path, error);
  } finally {
    await handle?.close().catch(() => {
      // A read-only handle has nothing to flush; the read's outcome stands.
    });
  }
}

function versionOf(s: BigIntStats): string {
  return `${s.ino}:${s.size}:${s.mtimeNs}`;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // ENOTDIR: a path component is a file, which for a poller means "not there (yet)".
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** @internal */
export function readFailed(path: string, cause: unknown): InterlockError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new InterlockError(
    'INTERLOCK_SOURCE_FAILED',
    `Polling source could not read '${path}': ${reason}. Check the path and its permissions; polling continues.`,
    { cause, details: { path } },
  );
}

/** @internal name → the version that last failed to parse, and on how many polls in a row. */
export type InvalidVersions = Map<string, { version: string; polls: number }>;

/**
 * @internal Records that `version` of `name` failed to parse. True exactly once per
 * version: on its second failing poll, when it is no longer plausibly a write in progress.
 */
export function noteInvalid(invalid: InvalidVersions, name: string, version: string): boolean {
  const prev = invalid.get(name);
  const polls = prev?.version === version ? prev.polls + 1 : 1;
  invalid.set(name, { version, polls });
  return polls === 2;
}

/** @internal */
export function invalidJsonError(path: string, cause: unknown): InterlockError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new InterlockError(
    'INTERLOCK_SOURCE_FAILED',
    `'${path}' has held invalid JSON for two polls (${reason}), so it is not a write in progress. Write it with writeJsonAtomic or fix its content; it is retried every poll.`,
    { cause, details: { path } },
  );
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
  let timer: unknown;
  let timerSet = false;
  // The in-flight poll including its rescheduling step; undefined when idle.
  let running: Promise<void> | undefined;

  const schedule = (ms: number) => {
    timerSet = true;
    timer = clock.setTimeout(() => {
      timerSet = false;
      void cycle();
    }, ms);
  };

  const clearTimer = () => {
    if (timerSet) clock.clearTimeout(timer);
    timerSet = false;
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
    clearTimer();
    await cycle();
  };

  const whenIdle = async (): Promise<void> => {
    while (running) await running;
  };

  const stop = async (): Promise<void> => {
    if (!stats.stopped) {
      stats.stopped = true;
      abort.abort();
      clearTimer();
    }
    await whenIdle();
  };

  schedule(0);
  return { stop, pollNow, whenIdle, stats: () => ({ ...stats }) };
}
