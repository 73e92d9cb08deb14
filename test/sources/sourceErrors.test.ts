import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { SimulatedClock, flushMicrotasks } from '../../src/clock.js';
import { isInterlockError } from '../../src/errors.js';
import {
  pollDirectory,
  pollFile,
  writeJsonAtomic,
  type DirectorySource,
  type FileChangeInfo,
  type FileSource,
  type PollFileOptions,
  type SourceErrorInfo,
} from '../../src/sources/index.js';

/**
 * How the polling sources report: the coded error for a bad interval, where an error goes
 * (onError, or a process warning when onError is missing, throws or rejects), the words a
 * user reads, the error counter, and what onChange is told about a version.
 */
const INTERVAL = 1000;
let dir: string;
let clock: SimulatedClock;
let sources: Array<FileSource | DirectorySource>;
let emitWarning: MockInstance<typeof process.emitWarning>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'interlock-source-errors-'));
  clock = new SimulatedClock();
  sources = [];
  emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
});

afterEach(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  emitWarning.mockRestore();
  await rm(dir, { recursive: true, force: true });
});

function track<T extends FileSource | DirectorySource>(source: T): T {
  sources.push(source);
  return source;
}

/** A pollFile on a path that is a directory: every poll reports a read error. */
async function failingFileSource(onError?: PollFileOptions['onError']): Promise<{ source: FileSource; path: string }> {
  const path = join(dir, 'config.json');
  await mkdir(path);
  const source = track(pollFile(path, { intervalMs: INTERVAL, clock, onChange: () => {}, onError }));
  return { source, path };
}

describe('a bad intervalMs', () => {
  const sourcesByName = {
    pollFile: (intervalMs: number) => pollFile(join(dir, 'x.json'), { intervalMs, clock, onChange: () => {} }),
    pollDirectory: (intervalMs: number) => pollDirectory(dir, { intervalMs, clock, onItem: () => {} }),
  };
  const cases = (['pollFile', 'pollDirectory'] as const).flatMap((name) =>
    [0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map((ms) => [name, ms] as const),
  );

  it.each(cases)('%s refuses intervalMs %s with INTERLOCK_INVALID_CONFIG naming the source and the fix', (name, ms) => {
    let thrown: unknown;
    try {
      track(sourcesByName[name](ms));
    } catch (error) {
      thrown = error;
    }
    expect(isInterlockError(thrown, 'INTERLOCK_INVALID_CONFIG')).toBe(true);
    expect((thrown as Error).message).toBe(
      `${name}: intervalMs must be a positive finite number of milliseconds, got ${String(ms)}.`,
    );
    expect(clock.pending()).toBe(0);
  });
});

describe('where a source error goes', () => {
  it('to onError alone when onError returns normally: no process warning', async () => {
    const seen: SourceErrorInfo[] = [];
    const { source, path } = await failingFileSource((_error, info) => void seen.push(info));
    await source.pollNow();
    await flushMicrotasks();
    expect(seen).toEqual([{ path, phase: 'read' }]);
    expect(emitWarning).not.toHaveBeenCalled();
    expect(source.stats().errors).toBe(1);
  });

  it('to a process warning carrying the rejection when an async onError rejects (no unhandled rejection)', async () => {
    const rejection = new Error('alerting endpoint down');
    const { source } = await failingFileSource(async () => {
      await flushMicrotasks();
      throw rejection;
    });
    await source.pollNow();
    await flushMicrotasks();
    expect(emitWarning.mock.calls).toEqual([[rejection]]);
  });

  it('to a process warning carrying what onError threw when onError throws', async () => {
    const thrown = new Error('onError itself is broken');
    const { source } = await failingFileSource(() => {
      throw thrown;
    });
    await source.pollNow();
    expect(emitWarning.mock.calls).toEqual([[thrown]]);
  });

  it('to a process warning with the error itself, code included, when there is no onError', async () => {
    const { source, path } = await failingFileSource();
    await source.pollNow();
    expect(emitWarning).toHaveBeenCalledTimes(1);
    const [warning] = emitWarning.mock.calls[0]!;
    expect(isInterlockError(warning, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
    expect((warning as Error).message).toBe(
      `Polling source could not read '${path}': not a regular file. Check the path and its permissions; polling continues.`,
    );
  });

  it('to a typed process warning naming the phase and path when the callback throws a non-Error', async () => {
    const path = join(dir, 'config.json');
    await writeJsonAtomic(path, { n: 1 });
    const source = track(
      pollFile(path, {
        intervalMs: INTERVAL,
        clock,
        onChange: () => {
          throw 'quota exceeded';
        },
      }),
    );
    await source.pollNow();
    expect(emitWarning.mock.calls).toEqual([
      ['quota exceeded', { type: 'InterlockSourceWarning', detail: `deliver ${path}` }],
    ]);
  });
});

describe('pollFile counters and change info', () => {
  it('counts each reported error once, whatever its phase', async () => {
    const path = join(dir, 'config.json');
    const errors: string[] = [];
    let refuse = true;
    await writeFile(path, 'not json');
    const source = track(
      pollFile(path, {
        intervalMs: INTERVAL,
        clock,
        onChange: () => {
          if (refuse) throw new Error('not now');
        },
        onError: (_error, info) => void errors.push(info.phase),
      }),
    );
    await source.pollNow();
    await source.pollNow(); // invalid twice: reported once
    await writeJsonAtomic(path, { n: 1 });
    await source.pollNow(); // onChange throws
    refuse = false;
    await source.pollNow();
    expect(errors).toEqual(['parse', 'deliver']);
    expect(source.stats()).toMatchObject({ errors: 2, invalid: 2, changes: 1 });
  });

  it('tells onChange the path, the version (inode:size:mtimeNs), the size and the mtime of what it read', async () => {
    const path = join(dir, 'config.json');
    await writeJsonAtomic(path, { hello: 'world' });
    const infos: FileChangeInfo[] = [];
    const source = track(pollFile(path, { intervalMs: INTERVAL, clock, onChange: (_v, info) => void infos.push(info) }));
    await source.pollNow();
    const s = await stat(path, { bigint: true });
    expect(infos).toEqual([
      { path, version: `${s.ino}:${s.size}:${s.mtimeNs}`, size: Number(s.size), mtimeMs: Number(s.mtimeMs) },
    ]);
  });
});

describe('pollDirectory and a file that stays invalid', () => {
  it('counts invalid polls in a row afresh when the file left the directory meanwhile', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, '{"half":');
    const errors: SourceErrorInfo[] = [];
    const source = track(
      pollDirectory(dir, { intervalMs: INTERVAL, clock, onItem: () => {}, onError: (_e, info) => void errors.push(info) }),
    );
    await source.pollNow(); // invalid once: may be a write in progress
    await rename(path, join(dir, 'bad.parked')); // out of the listing for one poll
    await source.pollNow();
    await rename(join(dir, 'bad.parked'), path); // the same version (inode, size, mtime) is back
    await source.pollNow();
    expect(errors).toEqual([]); // its two invalid polls were not in a row
    await source.pollNow();
    expect(errors).toEqual([{ path, phase: 'parse' }]);
  });
});
