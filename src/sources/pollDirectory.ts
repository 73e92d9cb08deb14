import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { assertInterval, reportSourceError, startPollLoop, type PollLoopStats, type SourceErrorInfo, type SourceErrorPhase } from './pollLoop.js';
import { invalidJsonError, noteInvalid, readFailed, readJsonVersion, statVersion, type InvalidVersions } from './readJsonVersion.js';
import { isTempFileName } from './writeJsonAtomic.js';

/** One version of one file, offered to `onItem`. */
export interface DirectoryItem {
  /** File name inside the directory, e.g. `task-0001.json`. */
  name: string;
  /** `join(dir, name)`. */
  path: string;
  /** The parsed JSON, not validated: check its shape in `onItem`. */
  value: unknown;
  /**
   * `ino:size:mtimeNs` of the version read. With `name` it identifies the item; a
   * consumer that must survive its own restart can use it as an idempotency key.
   */
  version: string;
}

export interface PollDirectoryOptions {
  /** Delay between the end of one poll and the start of the next (default 1000). */
  intervalMs?: number;
  clock?: Clock;
  /** Narrows the files considered, after the built-in rules (`*.json`, no dotfiles, no temp files). */
  filter?(name: string): boolean;
  /**
   * Takes one item. It is handed off when the returned promise resolves and is then never
   * offered again. If it throws or rejects, the poll ends there and the item is offered
   * again first on the next poll (at-least-once; later files wait, so name order holds).
   * The consumer is expected to move or delete the file once it has processed it.
   */
  onItem(item: DirectoryItem): void | Promise<void>;
  /** Failures other than a missing or half-written file. Without it they go to `process.emitWarning`. */
  onError?(error: unknown, info: SourceErrorInfo): void;
}

export interface PollDirectoryStats extends PollLoopStats {
  /** Items whose onItem resolved. */
  handedOff: number;
  /** onItem throws or rejections; each of those items was offered again. */
  rejected: number;
  /** Reads that found invalid JSON (a partial write, or a corrupt file); each is retried. */
  invalid: number;
  /** Errors passed to onError (or emitted as warnings), rejections included. */
  errors: number;
  /** Versions remembered as handed off: files handed off that are still in the directory. */
  tracked: number;
}

export interface DirectorySource {
  /**
   * Clears the timer, ends the current poll after the item being handed off (the rest
   * wait for the next poller) and resolves once that hand-off settled. Idempotent.
   */
  stop(): Promise<void>;
  /** Polls now (after an in-flight poll, never alongside it) and resolves when that poll settled. */
  pollNow(): Promise<void>;
  /** Resolves when no poll is in flight (at once if none is). */
  whenIdle(): Promise<void>;
  stats(): PollDirectoryStats;
}

/**
 * Feeds the JSON files of a directory to a consumer by polling inside the event loop
 * (seed 003). Each poll lists `*.json` files in name order and hands each new file
 * version to `onItem`, one at a time. A version is identified by name, inode, size and
 * mtime: once handed off it is never offered again, while a rewrite, an atomic replace,
 * or a delete and re-create is a new item. A file that does not parse yet (a partial
 * write) is skipped and retried on a later poll. Polls never overlap, and the first runs
 * on the next turn of the clock (`setTimeout(0)`).
 *
 * Memory: a handed-off version is remembered while its file stays in the directory, so
 * the consumer should move or delete processed files (the worker's job, not the source's).
 */
export function pollDirectory(dir: string, options: PollDirectoryOptions): DirectorySource {
  const { intervalMs = 1000, clock = systemClock, filter, onItem, onError } = options;
  assertInterval('pollDirectory', intervalMs);
  const counts = { handedOff: 0, rejected: 0, invalid: 0, errors: 0 };
  // name → version handed off; pruned when the file leaves the directory.
  const handed = new Map<string, string>();
  const invalid: InvalidVersions = new Map();

  const report = (error: unknown, path: string, phase: SourceErrorPhase) => {
    counts.errors++;
    reportSourceError(onError, error, { path, phase });
  };

  const list = async (): Promise<string[]> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      // A missing directory is reported too (likely a wrong path) but polling goes on,
      // so a directory created later by its producer is picked up.
      throw readFailed(dir, error);
    }
    const wanted = names.filter(
      (name) => name.endsWith('.json') && !name.startsWith('.') && !isTempFileName(name) && (filter?.(name) ?? true),
    );
    // The default sort: UTF-16 code-unit order, not localeCompare, so the same on every machine.
    return wanted.sort();
  };

  // Resolves 'end-poll' when the poll must end at this item (onItem refused it), else nothing.
  const offer = async (name: string): Promise<'end-poll' | undefined> => {
    const path = join(dir, name);
    // A cheap stat first: a handed-off file costs no read on later polls.
    const current = await statVersion(path);
    if (current === undefined || current === handed.get(name)) return;
    const read = await readJsonVersion(path);
    if (read.kind === 'missing' || read.kind === 'unstable' || read.kind === 'other') return;
    if (read.version === handed.get(name)) return;
    if (read.kind === 'invalid') {
      counts.invalid++;
      if (noteInvalid(invalid, name, read.version)) report(invalidJsonError(path, read.error), path, 'parse');
      return;
    }
    invalid.delete(name);
    try {
      await onItem({ name, path, value: read.value, version: read.version });
    } catch (error) {
      counts.rejected++;
      report(error, path, 'deliver');
      return 'end-poll';
    }
    handed.set(name, read.version);
    counts.handedOff++;
    return undefined;
  };

  const loop = startPollLoop(
    clock,
    intervalMs,
    async (signal) => {
      const names = await list();
      const present = new Set(names);
      for (const name of handed.keys()) if (!present.has(name)) handed.delete(name);
      for (const name of invalid.keys()) if (!present.has(name)) invalid.delete(name);
      for (const name of names) {
        if (signal.aborted) return;
        try {
          if ((await offer(name)) === 'end-poll') return;
        } catch (error) {
          // One unreadable file (EACCES) must not hide the others: report it, go on.
          report(error, join(dir, name), 'read');
        }
      }
    },
    (error) => report(error, dir, 'read'),
  );

  return {
    stop: loop.stop,
    pollNow: loop.pollNow,
    whenIdle: loop.whenIdle,
    stats: () => ({ ...loop.stats(), ...counts, tracked: handed.size }),
  };
}
