import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isInterlockError } from '../../src/errors.js';
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
  /** Label of a handle whose sync() fails with EIO. */
  failSync: undefined as string | undefined,
  /** Runs inside readFile, after the content was read and before the handle's second stat. */
  duringRead: undefined as (() => Promise<void>) | undefined,
}));

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
            fs.ops.push(`write ${name}`);
            return target.writeFile(...args);
          };
        }
        if (key === 'sync') {
          return async () => {
            fs.ops.push(`fsync ${name}`);
            if (fs.failSync === name) throw Object.assign(new Error(`EIO: i/o error, fsync`), { code: 'EIO' });
            return target.sync();
          };
        }
        if (key === 'close') {
          return async () => {
            fs.ops.push(`close ${name}`);
            return target.close();
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
      fs.ops.push(`open ${label(path)} ${flags ?? 'r'}`);
      return wrap(await real.open(path, flags, mode), label(path));
    },
    rename: async (from: string, to: string) => {
      fs.ops.push(`rename ${label(from)} -> ${label(to)}`);
      return real.rename(from, to);
    },
  };
});

beforeEach(async () => {
  fs.dir = await mkdtemp(join(tmpdir(), 'interlock-fs-order-'));
  fs.ops = [];
  fs.failSync = undefined;
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

  it('leaves the target untouched and removes the temp file when the fsync of the temp file fails', async () => {
    const path = join(fs.dir, 'state.json');
    await writeFile(path, '{"old":true}\n');
    fs.failSync = 'temp';
    const err = await writeJsonAtomic(path, { a: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isInterlockError(err, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
    expect((err as { details: { step: string } }).details.step).toBe('fsync');
    expect(fs.ops).toEqual(['open temp wx', 'write temp', 'fsync temp', 'close temp']);
    expect(await readFile(path, 'utf8')).toBe('{"old":true}\n');
    expect(await readdir(fs.dir)).toEqual(['state.json']);
  });

  it('reports a failed fsync of the directory as step fsync-dir, after the rename landed', async () => {
    const path = join(fs.dir, 'state.json');
    fs.failSync = 'dir';
    const err = await writeJsonAtomic(path, { a: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { details: { step: string } }).details.step).toBe('fsync-dir');
    expect(fs.ops.slice(-3)).toEqual(['open dir r', 'fsync dir', 'close dir']);
    expect(await readFile(path, 'utf8')).toBe('{"a":3}\n');
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
