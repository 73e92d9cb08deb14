import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InterlockError } from '../errors.js';

/** Options of {@link writeJsonAtomic}. */
export interface WriteJsonAtomicOptions {
  /**
   * Flush the file and its directory to disk before resolving (default `true`). Turn it
   * off only for data you can lose on a power cut; atomicity does not depend on it.
   */
  fsync?: boolean;
}

/** Which step of the recipe failed, in `error.details.step`. */
export type WriteJsonAtomicStep = 'serialize' | 'open' | 'write' | 'fsync' | 'close' | 'rename' | 'fsync-dir';

// `.<base>.<pid>.<12 hex>.tmp`: a dotfile that does not end in `.json`, so pollers skip it twice over.
const TEMP_NAME = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;

/** True for the temp files {@link writeJsonAtomic} writes before renaming (an orphan may survive a crash). */
export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Writes `value` as JSON to `path` so that a reader sees either the old file or the whole
 * new one, never a prefix (seed 003: partial JSON writes corrupted files). The recipe:
 * write a temp file in the same directory (a rename is only atomic within a file
 * system), fsync it, rename it over the target, fsync the directory so the rename itself
 * is durable. Concurrent calls on one path each use their own temp file; the last rename
 * wins and the file is always one writer's complete value. If any step fails the temp
 * file is removed and an `INTERLOCK_SOURCE_FAILED` error names the step.
 *
 * The new file gets default permissions (0o666 minus the umask), not the old file's.
 */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  { fsync = true }: WriteJsonAtomicOptions = {},
): Promise<void> {
  const text = serialize(path, value);
  const dir = dirname(path);
  const tempPath = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let step: WriteJsonAtomicStep = 'open';
  let handle: FileHandle | undefined;
  try {
    // 'wx': never reuse an existing file, even on a (practically impossible) name collision.
    handle = await open(tempPath, 'wx');
    step = 'write';
    await handle.writeFile(text); // a string is written as UTF-8
    if (fsync) {
      step = 'fsync';
      await handle.sync();
    }
    step = 'close';
    const closing = handle;
    handle = undefined;
    await closing.close();
    step = 'rename';
    await rename(tempPath, path);
  } catch (cause) {
    await handle?.close().catch(() => {
      // The write already failed; that error is the one to report. The descriptor is
      // released by the runtime either way.
    });
    await unlink(tempPath).catch(() => {
      // ENOENT: open failed, nothing was created. Anything else leaves an orphan that
      // isTempFileName() recognises and pollers skip; the original error matters more.
    });
    throw failure(path, step, cause, tempPath);
  }
  if (fsync) await syncDirectory(path, dir);
}

function serialize(path: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw failure(path, 'serialize', cause);
  }
  // JSON.stringify returns undefined for undefined, functions and symbols.
  if (text === undefined) throw failure(path, 'serialize', new TypeError(`${typeof value} is not JSON`));
  return `${text}\n`;
}

/** Best effort: makes the rename durable where the platform lets a directory be fsynced. */
async function syncDirectory(path: string, dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (cause) {
    // Windows cannot open a directory (EISDIR/EPERM) and some file systems refuse to
    // fsync one (EINVAL/ENOTSUP/EBADF); there durability of the rename is the OS's call
    // and the file is already complete. A real I/O error (EIO) is still reported.
    if (!UNSUPPORTED_DIR_SYNC.has((cause as NodeJS.ErrnoException).code)) {
      throw failure(path, 'fsync-dir', cause);
    }
  } finally {
    await handle?.close().catch(() => {
      // Closing a read-only directory handle has nothing to flush; a failure here loses nothing.
    });
  }
}

// With undefined in its type, so an error without a code is looked up as it is (and is not one of them).
const UNSUPPORTED_DIR_SYNC: ReadonlySet<string | undefined> = new Set([
  'EISDIR',
  'EPERM',
  'EACCES',
  'EINVAL',
  'ENOTSUP',
  'EBADF',
]);

function failure(path: string, step: WriteJsonAtomicStep, cause: unknown, tempPath?: string): InterlockError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const fix =
    step === 'serialize'
      ? 'Pass a JSON-serializable value (no BigInt, cycles, functions or undefined).'
      : step === 'fsync-dir'
        ? 'The file holds the new value, but the rename may not survive a power cut; check the disk.'
        : 'Check that the directory exists, is writable and has space; the target was left untouched.';
  return new InterlockError(
    'INTERLOCK_SOURCE_FAILED',
    `writeJsonAtomic could not write '${path}' (step '${step}'): ${reason}. ${fix}`,
    { cause, details: { path, step, ...(tempPath === undefined ? {} : { tempPath }) } },
  );
}
