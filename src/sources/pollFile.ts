import { systemClock, type Clock } from '../clock.js';
import { assertInterval, reportSourceError, startPollLoop, type PollLoopStats, type SourceErrorInfo, type SourceErrorPhase } from './pollLoop.js';
import { invalidJsonError, noteInvalid, readFailed, readJsonVersion, statVersion, type InvalidVersions } from './readJsonVersion.js';

export type { SourceErrorInfo, SourceErrorPhase, PollLoopStats } from './pollLoop.js';

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
