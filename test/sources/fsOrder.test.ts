import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isInterlockError, type InterlockError } from '../../src/errors.js';
import { readJsonVersion } from '../../src/sources/readJsonVersion.js';
import { isTempFileName, writeJsonAtomic } from '../../src/sources/index.js';

/**
 * The sources' file-system calls, spied on and faulted through a mock of
 * node:fs/promises that wraps the real module: every call still reaches the disk, and the
 * test sees the sequence (open, write, fsync, close, rename, fsync of the directory) and
 * can make one step fail or run code in the middle of a read.
 */
const fs = vi.hoisted(() => ({
  dir: '',
  ops: [] as string[],
  /** Operation (as logged in `ops`, e.g. 'fsync temp') → the errno code it fails with. */
  faults: {} as Record<string, string>,
  /** Runs inside readFile, after the content was read and before the handle's second stat. */
  duringRead: undefined as (() => Promise<void>) | undefined,
}));

/** Logs `op`, then fails it if a fault is set for it. */
function step(op: string): void {
  fs.ops.push(op);
  const code = fs.faults[op];
  if (code !== undefined) throw Object.assign(new Error(`${code}: injected fault, ${op}`), { code });
}

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const label = (p: unknown): string => {
    const s = String(p);
    if (s === fs.dir) return 'dir';
    return isTempFileName(basename(s)) ? 'temp' : basename(s);
  };
  const wrap = (h: FileHandle, name: string): FileHandle =>
    new Proxy(h, {
      get(target, key) {
        const value = Reflect.get(target, key, target) as unknown;
        if (key === 'writeFile') {
          return async (...args: Parameters<FileHandle['writeFile']>) => {
            step(`write ${name}`);
            return target.writeFile(...args);
          };
        }
        if (key === 'sync') {
          return async () => {
            step(`fsync ${name}`);
            return target.sync();
          };
        }
        if (key === 'close') {
          return async () => {
            await target.close(); // closed even when the close is made to fail: no descriptor leaks
            step(`close ${name}`);
          };
        }
        if (key === 'readFile') {
          return async (...args: Parameters<FileHandle['readFile']>) => {
            const text = await target.readFile(...args);
            await fs.duringRead?.();
            return text;
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return {
    ...real,
    open: async (path: Parameters<typeof real.open>[0], flags?: string, mode?: number) => {
      step(`open ${label(path)} ${flags ?? 'r'}`);
      return wrap(await real.open(path, flags, mode), label(path));
    },
    rename: async (from: string, to: string) => {
      step(`rename ${label(from)} -> ${label(to)}`);
      return real.rename(from, to);
    },
  };
});

beforeEach(async () => {
  fs.dir = await mkdtemp(join(tmpdir(), 'interlock-fs-order-'));
  fs.ops = [];
  fs.faults = {};
  fs.duringRead = undefined;
});

afterEach(async () => {
  await rm(fs.dir, { recursive: true, force: true });
});

describe('writeJsonAtomic on the file system', () => {
  it('opens, writes and fsyncs the temp file, renames it over the target, then fsyncs the directory', async () => {
    const path = join(fs.dir, 'state.json');
    await writeJsonAtomic(path, { a: 1 });
    expect(fs.ops).toEqual([
      'open temp wx',
      'write temp',
      'fsync temp',
      'close temp',
      'rename temp -> state.json',
      'open dir r',
      'fsync dir',
      'close dir',
    ]);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n');
  });

  it('skips both fsyncs, and only them, when fsync is off', async () => {
    const path = join(fs.dir, 'state.json');
    await writeJsonAtomic(path, { a: 1 }, { fsync: false });
    expect(fs.ops).toEqual(['open temp wx', 'write temp', 'close temp', 'rename temp -> state.json']);
  });
});

const UNTOUCHED = 'Check that the directory exists, is writable and has space; the target was left untouched.';
const NOT_DURABLE = 'The file holds the new value, but the rename may not survive a power cut; check the disk.';

/** The rejection of `p`, or undefined if it fulfils (which every check below then fails). */
const rejection = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('writeJsonAtomic when a step fails', () => {
  const beforeRename = [
    { step: 'open', fault: 'open temp wx', code: 'EACCES', ops: ['open temp wx'] },
    { step: 'write', fault: 'write temp', code: 'ENOSPC', ops: ['open temp wx', 'write temp', 'close temp'] },
    { step: 'fsync', fault: 'fsync temp', code: 'EIO', ops: ['open temp wx', 'write temp', 'fsync temp', 'close temp'] },
    { step: 'close', fault: 'close temp', code: 'EIO', ops: ['open temp wx', 'write temp', 'fsync temp', 'close temp'] },
    {
      step: 'rename',
      fault: 'rename temp -> state.json',
      code: 'EXDEV',
      ops: ['open temp wx', 'write temp', 'fsync temp', 'close temp', 'rename temp -> state.json'],
    },
  ];

  it.each(beforeRename)(
    'names step $step, says the target was left untouched, and removes the temp file ($code)',
    async ({ step, fault, code, ops }) => {
      const path = join(fs.dir, 'state.json');
      await writeFile(path, '{"old":true}\n');
      fs.faults = { [fault]: code };
      const err = await rejection(writeJsonAtomic(path, { a: 2 }));

      expect(isInterlockError(err, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
      const { message, details, cause } = err as InterlockError;
      expect(message).toBe(
        `writeJsonAtomic could not write '${path}' (step '${step}'): ${code}: injected fault, ${fault}. ${UNTOUCHED}`,
      );
      expect((cause as NodeJS.ErrnoException).code).toBe(code);
      const tempPath = (details as { tempPath: string }).tempPath;
      expect(isTempFileName(basename(tempPath))).toBe(true);
      expect(details).toStrictEqual({ path, step, tempPath });
      expect(fs.ops).toEqual(ops);
      expect(await readFile(path, 'utf8')).toBe('{"old":true}\n');
      expect(await readdir(fs.dir)).toEqual(['state.json']);
    },
  );

  it.each([
    { fault: 'open dir r', ops: ['open dir r'] },
    { fault: 'fsync dir', ops: ['open dir r', 'fsync dir', 'close dir'] },
  ])('reports an I/O error at $fault as step fsync-dir, the file already replaced, with no tempPath', async ({ fault, ops }) => {
    const path = join(fs.dir, 'state.json');
    fs.faults = { [fault]: 'EIO' };
    const err = await rejection(writeJsonAtomic(path, { a: 3 }));

    expect(isInterlockError(err, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
    const { message, details } = err as InterlockError;
    expect(message).toBe(`writeJsonAtomic could not write '${path}' (step 'fsync-dir'): EIO: injected fault, ${fault}. ${NOT_DURABLE}`);
    expect(details).toStrictEqual({ path, step: 'fsync-dir' });
    expect(fs.ops.slice(5)).toEqual(ops);
    expect(await readFile(path, 'utf8')).toBe('{"a":3}\n');
  });

  // Windows cannot open a directory (EISDIR, EPERM, EACCES); some file systems refuse to fsync one.
  const unsupported = ['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF'].flatMap((code) => [
    { code, fault: 'open dir r', ops: ['open dir r'] },
    { code, fault: 'fsync dir', ops: ['open dir r', 'fsync dir', 'close dir'] },
  ]);
  it.each(unsupported)('resolves when the platform refuses the directory fsync with $code at $fault', async ({ code, fault, ops }) => {
    const path = join(fs.dir, 'state.json');
    fs.faults = { [fault]: code };
    await writeJsonAtomic(path, { a: 4 });
    expect(fs.ops.slice(5)).toEqual(ops);
    expect(await readFile(path, 'utf8')).toBe('{"a":4}\n');
  });
});

describe('readJsonVersion on the file system', () => {
  it('answers unstable when the file changes during the read, and reads the new version next time', async () => {
    const path = join(fs.dir, 'job.json');
    await writeFile(path, '{"v":1}');
    fs.duringRead = async () => {
      fs.duringRead = undefined;
      await writeFile(path, '{"v":2,"longer":true}'); // same inode, new size and mtime
    };
    expect(await readJsonVersion(path)).toEqual({ kind: 'unstable' });
    expect(await readJsonVersion(path)).toMatchObject({ kind: 'ok', value: { v: 2, longer: true } });
  });

  it('closes the handle it read through, whatever the outcome', async () => {
    const path = join(fs.dir, 'job.json');
    await writeFile(path, 'not json');
    expect(await readJsonVersion(path)).toMatchObject({ kind: 'invalid' });
    expect(fs.ops).toEqual(['open job.json r', 'close job.json']);
  });
});
