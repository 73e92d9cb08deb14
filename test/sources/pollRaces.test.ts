import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { isInterlockError } from '../../src/errors.js';
import {
  pollDirectory,
  pollFile,
  writeJsonAtomic,
  type DirectorySource,
  type FileSource,
  type SourceErrorInfo,
} from '../../src/sources/index.js';

/**
 * The poll sources when the file system moves under them: between a poll's stat and its
 * read (a file deleted, changed while read, or swapped back to the version already
 * handed off), a stat that fails for one file, a listing in no particular order, and the
 * cost of an unchanged file (one stat, no open). A mock of node:fs/promises wraps the real
 * module: every call still reaches the disk, and the test runs its fault at the step named.
 */
const fs = vi.hoisted(() => ({
  /** Basenames passed to open(), in order. */
  opened: [] as string[],
  /** Runs once after the real stat of a path with this basename, before the source sees the result. */
  afterStat: undefined as { name: string; run: () => Promise<void> } | undefined,
  /** Runs once inside readFile, after the content was read and before the handle's second stat. */
  duringRead: undefined as (() => Promise<void>) | undefined,
  /** A basename whose stat fails with EACCES. */
  deniedStat: undefined as string | undefined,
  /** Rewrites what readdir returns; may act on the disk after the real listing. */
  listing: undefined as ((names: string[]) => string[] | Promise<string[]>) | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const wrap = (h: FileHandle): FileHandle =>
    new Proxy(h, {
      get(target, key) {
        const value = Reflect.get(target, key, target) as unknown;
        if (key === 'readFile') {
          return async (...args: Parameters<FileHandle['readFile']>) => {
            const text = await target.readFile(...args);
            const hook = fs.duringRead;
            fs.duringRead = undefined;
            await hook?.();
            return text;
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return {
    ...real,
    open: async (path: Parameters<typeof real.open>[0], flags?: string, mode?: number) => {
      fs.opened.push(basename(String(path)));
      return wrap(await real.open(path, flags, mode));
    },
    stat: (async (path: string, options?: { bigint?: boolean }) => {
      const name = basename(path);
      if (fs.deniedStat === name) {
        throw Object.assign(new Error(`EACCES: permission denied, stat '${path}'`), { code: 'EACCES' });
      }
      const result = await real.stat(path, options as { bigint: true });
      const hook = fs.afterStat;
      if (hook?.name === name) {
        fs.afterStat = undefined;
        await hook.run();
      }
      return result;
    }) as typeof real.stat,
    readdir: (async (path: string) => {
      const names = await real.readdir(path);
      return fs.listing ? await fs.listing(names) : names;
    }) as typeof real.readdir,
  };
});

const INTERVAL = 1000;
let dir: string;
let clock: SimulatedClock;
let sources: Array<FileSource | DirectorySource>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'interlock-poll-races-'));
  clock = new SimulatedClock();
  sources = [];
  fs.opened = [];
  fs.afterStat = undefined;
  fs.duringRead = undefined;
  fs.deniedStat = undefined;
  fs.listing = undefined;
});

afterEach(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

/** A pollFile on dir/job.json recording values and errors. */
function watchFile() {
  const path = join(dir, 'job.json');
  const values: unknown[] = [];
  const errors: SourceErrorInfo[] = [];
  const source = pollFile(path, {
    intervalMs: INTERVAL,
    clock,
    onChange: (value) => void values.push(value),
    onError: (_error, info) => void errors.push(info),
  });
  sources.push(source);
  return { path, source, values, errors };
}

/** A pollDirectory on dir recording offered names and values, and errors. */
function watchDir() {
  const offered: Array<{ name: string; value: unknown }> = [];
  const errors: Array<{ error: unknown; info: SourceErrorInfo }> = [];
  const source = pollDirectory(dir, {
    intervalMs: INTERVAL,
    clock,
    onItem: (item) => void offered.push({ name: item.name, value: item.value }),
    onError: (error, info) => void errors.push({ error, info }),
  });
  sources.push(source);
  return { source, offered, errors };
}

/** The two sources, each seen through the values it delivered for job.json. */
const both = [
  ['pollFile', () => {
    const w = watchFile();
    return { source: w.source, delivered: () => w.values, errors: () => w.errors };
  }],
  ['pollDirectory', () => {
    const w = watchDir();
    return {
      source: w.source,
      delivered: () => w.offered.filter((o) => o.name === 'job.json').map((o) => o.value),
      errors: () => w.errors.map((e) => e.info),
    };
  }],
] as const;

/** Starts a source on job.json holding gen 1 and lets it deliver gen 1. */
async function afterGen1(watch: (typeof both)[number][1]) {
  const path = join(dir, 'job.json');
  await writeJsonAtomic(path, { gen: 1 });
  const w = watch();
  await w.source.pollNow();
  return { path, w };
}

describe.each(both)('%s between the stat and the read', (_name, watch) => {
  it('delivers nothing, and reports nothing, for a new version deleted before it could be opened', async () => {
    const { path, w } = await afterGen1(watch);
    // Sizes differ, so no version can match another through a reused inode and a coarse mtime.
    await writeJsonAtomic(path, { gen: 2, pad: 'x' });
    fs.afterStat = { name: 'job.json', run: () => unlink(path) };
    await w.source.pollNow();
    expect(w.delivered()).toEqual([{ gen: 1 }]);
    await writeJsonAtomic(path, { gen: 3, pad: 'xx' });
    await w.source.pollNow();
    expect(w.delivered()).toEqual([{ gen: 1 }, { gen: 3, pad: 'xx' }]);
    expect(w.errors()).toEqual([]);
  });

  it('delivers nothing for a new version that changes while it is read, and the settled one on the next poll', async () => {
    const { path, w } = await afterGen1(watch);
    await writeJsonAtomic(path, { gen: 2, pad: 'x' });
    fs.duringRead = () => writeFile(path, JSON.stringify({ gen: 3, longer: true })); // same inode, new size
    await w.source.pollNow();
    expect(w.delivered()).toEqual([{ gen: 1 }]);
    await w.source.pollNow();
    expect(w.delivered()).toEqual([{ gen: 1 }, { gen: 3, longer: true }]);
    expect(w.errors()).toEqual([]);
  });

  it('does not deliver again the version already delivered when it is moved back over a newer one', async () => {
    const path = join(dir, 'job.json');
    const parked = join(dir, 'job.parked');
    await writeJsonAtomic(path, { gen: 1 });
    const w = watch();
    await w.source.pollNow();
    // gen 1 steps aside (same inode, size and mtime when it returns) and gen 2 takes its place;
    // the poll stats gen 2, then gen 1 is renamed back before the read.
    await rename(path, parked);
    await writeJsonAtomic(path, { gen: 2, longer: true });
    fs.afterStat = { name: 'job.json', run: () => rename(parked, path) };
    await w.source.pollNow();
    await w.source.pollNow();
    expect(w.delivered()).toEqual([{ gen: 1 }]);
    expect(w.errors()).toEqual([]);
  });

  it('costs one stat and no open for an unchanged version', async () => {
    const { path, w } = await afterGen1(watch);
    expect(fs.opened.filter((n) => n === 'job.json')).toHaveLength(1);
    await w.source.pollNow();
    await w.source.pollNow();
    expect(fs.opened.filter((n) => n === 'job.json')).toHaveLength(1);
    expect(w.delivered()).toEqual([{ gen: 1 }]);
  });
});

describe('pollFile and a missing file', () => {
  it('costs one stat and no open while the file is missing, before and after a version was delivered', async () => {
    const w = watchFile();
    await w.source.pollNow();
    await w.source.pollNow();
    expect(fs.opened).toEqual([]);
    await writeJsonAtomic(w.path, { gen: 1 });
    await w.source.pollNow();
    await unlink(w.path);
    fs.opened = []; // writeJsonAtomic's own and the read of gen 1
    await w.source.pollNow();
    await w.source.pollNow();
    expect(fs.opened).toEqual([]);
    expect(w.values).toEqual([{ gen: 1 }]);
    expect(w.errors).toEqual([]);
  });
});

describe('pollDirectory and its listing', () => {
  it('offers files in code-unit order (not locale order) whatever order the directory lists them in', async () => {
    const names = ['b.json', 'a.json', 'B.json', '_x.json', '10.json', '9.json', 'a-2.json'];
    for (const name of names) await writeJsonAtomic(join(dir, name), { name });
    // A fixed shuffle of the sorted names: neither sorted, nor reversed (which a comparator
    // that never answers 'greater' would still sort), nor whatever the file system lists.
    fs.listing = (listed) => {
      const sorted = [...listed].sort();
      return [3, 6, 0, 5, 1, 4, 2].map((i) => sorted[i]!);
    };
    const w = watchDir();
    await w.source.pollNow();
    expect(w.offered.map((o) => o.name)).toEqual(['10.json', '9.json', 'B.json', '_x.json', 'a-2.json', 'a.json', 'b.json']);
  });

  it('neither opens nor offers a listed file deleted before its stat, handed off before or not, and goes on with the rest', async () => {
    await writeJsonAtomic(join(dir, 'job.json'), { gen: 1 });
    const w = watchDir();
    await w.source.pollNow();
    await writeJsonAtomic(join(dir, 'new.json'), { fresh: true });
    await writeJsonAtomic(join(dir, 'z.json'), { z: 1 });
    // The listing still names job.json (handed off) and new.json (never seen); both go before their stat.
    fs.listing = async (listed) => {
      fs.listing = undefined;
      await unlink(join(dir, 'job.json'));
      await unlink(join(dir, 'new.json'));
      return listed;
    };
    fs.opened = []; // writeJsonAtomic's own and the read of job.json
    await w.source.pollNow();
    expect(fs.opened).toEqual(['z.json']);
    expect(w.offered.map((o) => o.name)).toEqual(['job.json', 'z.json']);
    expect(w.errors).toEqual([]);
  });

  it('reports a file whose stat fails (EACCES) with its path and the fix, and still offers the others', async () => {
    for (const name of ['a.json', 'b.json', 'c.json']) await writeJsonAtomic(join(dir, name), { name });
    fs.deniedStat = 'b.json';
    const w = watchDir();
    await w.source.pollNow();
    expect(w.offered.map((o) => o.name)).toEqual(['a.json', 'c.json']);
    expect(w.errors.map((e) => e.info)).toEqual([{ path: join(dir, 'b.json'), phase: 'read' }]);
    const error = w.errors[0]!.error as Error;
    expect(isInterlockError(error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
    expect(error.message).toBe(
      `Polling source could not read '${join(dir, 'b.json')}': EACCES: permission denied, stat '${join(dir, 'b.json')}'. Check the path and its permissions; polling continues.`,
    );
    expect(w.source.stats()).toMatchObject({ errors: 1, handedOff: 2 });
  });

  it('skips, without offering or reporting it, a handed-off file replaced by a directory of the same name', async () => {
    const path = join(dir, 'job.json');
    await writeJsonAtomic(path, { gen: 1 });
    await writeJsonAtomic(join(dir, 'later.json'), { later: true });
    const w = watchDir();
    await w.source.pollNow();
    await unlink(path);
    await mkdir(path);
    await w.source.pollNow();
    expect(w.offered).toEqual([
      { name: 'job.json', value: { gen: 1 } },
      { name: 'later.json', value: { later: true } },
    ]);
    expect(w.errors).toEqual([]);
  });
});
