import { open, stat, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { InterlockError } from '../errors.js';

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
    // Decoded here rather than by readFile('utf8'): the same text, and a file too long to be
    // one string fails the read (INTERLOCK_SOURCE_FAILED) rather than the parse below.
    const text = (await handle.readFile()).toString('utf8');
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

/** `error` is a rejection of a node:fs/promises call, always an Error object. */
function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
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
