import { mkdtemp, open, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InterlockError, isInterlockError } from '../../src/errors.js';
import { invalidJsonError, readFailed, readJsonVersion, statVersion } from '../../src/sources/readJsonVersion.js';

/**
 * What the pollers' two readers answer for a path that is not there (missing: wait for it)
 * and for one that cannot be read (INTERLOCK_SOURCE_FAILED, worded with the fix), on the real
 * file system: a symlink pointing at itself fails every stat and open with ELOOP.
 */
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'interlock-missing-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The rejection of `p`, or undefined if it fulfils (which every check below then fails). */
const rejection = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

/** The paths a poller takes as "not there (yet)": no such file, and a path through a file. */
async function missingPaths(): Promise<Array<[string, string]>> {
  await writeFile(join(dir, 'plain.json'), '{}');
  return [
    ['ENOENT', join(dir, 'absent.json')],
    ['ENOTDIR', join(dir, 'plain.json', 'inner.json')],
  ];
}

/** A path whose stat and open fail with ELOOP, and that failure as `call` reports it. */
async function loopPath(call: (path: string) => Promise<unknown>): Promise<{ path: string; cause: NodeJS.ErrnoException }> {
  const path = join(dir, 'loop.json');
  await symlink(path, path);
  const cause = (await rejection(call(path))) as NodeJS.ErrnoException;
  expect(cause.code).toBe('ELOOP');
  return { path, cause };
}

function expectReadFailed(error: unknown, path: string, cause: NodeJS.ErrnoException): void {
  expect(isInterlockError(error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
  const e = error as InterlockError;
  expect(e.message).toBe(
    `Polling source could not read '${path}': ${cause.message}. Check the path and its permissions; polling continues.`,
  );
  expect((e.cause as NodeJS.ErrnoException).code).toBe(cause.code);
  expect(e.details).toStrictEqual({ path });
}

describe('statVersion', () => {
  it('answers undefined for a missing file and for a path through a file (ENOENT, ENOTDIR)', async () => {
    for (const [code, path] of await missingPaths()) {
      expect(await statVersion(path), code).toBeUndefined();
    }
  });

  it('throws INTERLOCK_SOURCE_FAILED, naming the path and the fix, for any other failure (ELOOP)', async () => {
    const { path, cause } = await loopPath((p) => stat(p));
    expectReadFailed(await rejection(statVersion(path)), path, cause);
  });

  it('is the version readJsonVersion reads: inode, size and mtime in nanoseconds', async () => {
    const path = join(dir, 'job.json');
    await writeFile(path, '{"a":1}');
    const s = await stat(path, { bigint: true });
    const version = await statVersion(path);
    expect(version).toBe(`${s.ino}:${s.size}:${s.mtimeNs}`);
    expect(await readJsonVersion(path)).toMatchObject({ kind: 'ok', version, value: { a: 1 } });
  });
});

describe('readJsonVersion', () => {
  it('answers missing for a missing file and for a path through a file (ENOENT, ENOTDIR)', async () => {
    for (const [code, path] of await missingPaths()) {
      expect(await readJsonVersion(path), code).toEqual({ kind: 'missing' });
    }
  });

  it('throws INTERLOCK_SOURCE_FAILED, naming the path and the fix, for any other failure (ELOOP)', async () => {
    const { path, cause } = await loopPath((p) => open(p, 'r'));
    expectReadFailed(await rejection(readJsonVersion(path)), path, cause);
  });

  it('decodes the file as UTF-8', async () => {
    const path = join(dir, 'text.json');
    await writeFile(path, Buffer.from('{"word":"Grüße ✓"}', 'utf8'));
    expect(await readJsonVersion(path)).toMatchObject({ kind: 'ok', value: { word: 'Grüße ✓' } });
  });
});

describe('the errors the pollers report', () => {
  const cases = [
    {
      name: 'readFailed names the path, the reason and the fix',
      make: readFailed,
      cause: new Error('EACCES: permission denied'),
      message:
        "Polling source could not read '/data/job.json': EACCES: permission denied. Check the path and its permissions; polling continues.",
    },
    {
      name: 'invalidJsonError says the JSON stayed invalid for two polls and how to write it',
      make: invalidJsonError,
      cause: new SyntaxError('Unexpected end of JSON input'),
      message:
        "'/data/job.json' has held invalid JSON for two polls (Unexpected end of JSON input), so it is not a write in progress. Write it with writeJsonAtomic or fix its content; it is retried every poll.",
    },
  ];
  it.each(cases)('$name, keeps the cause and details.path', ({ make, cause, message }) => {
    const error = make('/data/job.json', cause);
    expect(error.code).toBe('INTERLOCK_SOURCE_FAILED');
    expect(error.message).toBe(message);
    expect(error.cause).toBe(cause);
    expect(error.details).toStrictEqual({ path: '/data/job.json' });
  });
});
