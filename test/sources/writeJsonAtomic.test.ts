import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInterlockError, type InterlockError } from '../../src/errors.js';
import { isTempFileName, writeJsonAtomic } from '../../src/sources/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'interlock-atomic-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A value whose every element repeats the writer's id, so a mixed file is detectable. */
function valueOf(writer: number) {
  return { writer, payload: Array.from({ length: 4000 }, () => writer) };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('writeJsonAtomic', () => {
  it('writes the JSON value with a trailing newline and leaves no temp file', async () => {
    const path = join(dir, 'state.json');
    await writeJsonAtomic(path, { a: 1, b: ['x'] });
    expect(await readFile(path, 'utf8')).toBe('{"a":1,"b":["x"]}\n');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('writes the text as UTF-8', async () => {
    const path = join(dir, 'text.json');
    await writeJsonAtomic(path, { word: 'Grüße ✓' }, { fsync: false });
    expect(await readFile(path)).toEqual(Buffer.from('{"word":"Grüße ✓"}\n', 'utf8'));
  });

  it('replaces an existing file with the whole new value', async () => {
    const path = join(dir, 'state.json');
    await writeJsonAtomic(path, valueOf(1));
    await writeJsonAtomic(path, { small: true }, { fsync: false });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ small: true });
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('is never observed partial or mixed under 200 concurrent writers and readers (seed 003)', async () => {
    const path = join(dir, 'shared.json');
    await writeJsonAtomic(path, valueOf(-1));
    const problems: string[] = [];
    let reads = 0;

    const reader = async () => {
      for (let i = 0; i < 5; i++) {
        const text = await readFile(path, 'utf8');
        reads++;
        let value: ReturnType<typeof valueOf>;
        try {
          value = JSON.parse(text) as ReturnType<typeof valueOf>;
        } catch {
          // The failure under test: record the torn read instead of throwing mid-race.
          problems.push(`partial read of ${text.length} chars`);
          continue;
        }
        if (value.payload.length !== 4000 || value.payload.some((w) => w !== value.writer)) {
          problems.push(`mixed content for writer ${value.writer}`);
        }
      }
    };

    const work: Promise<void>[] = [];
    for (let w = 0; w < 200; w++) {
      work.push(writeJsonAtomic(path, valueOf(w)));
      work.push(reader());
    }
    await Promise.all(work);

    expect(problems).toEqual([]);
    expect(reads).toBe(1000);
    const final = JSON.parse(await readFile(path, 'utf8')) as ReturnType<typeof valueOf>;
    expect(final.writer).toBeGreaterThanOrEqual(0);
    expect(final).toEqual(valueOf(final.writer));
    expect(await readdir(dir)).toEqual(['shared.json']);
  });

  it('removes its temp file and names the step when the rename fails', async () => {
    // Renaming a file over a directory fails (EISDIR), after the temp file was written.
    const path = join(dir, 'target.json');
    await mkdir(path);
    const error = await rejection(writeJsonAtomic(path, { a: 1 }));

    expect(isInterlockError(error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
    const details = (error as { details: { step: string; tempPath: string } }).details;
    expect(details.step).toBe('rename');
    expect(basename(details.tempPath).startsWith('.target.json.')).toBe(true);
    expect(isTempFileName(basename(details.tempPath))).toBe(true);
    expect(await readdir(dir)).toEqual(['target.json']);
  });

  it('refuses a value that is not JSON before creating any file, saying why and what to pass', async () => {
    const path = join(dir, 'bad.json');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: Array<[unknown, string]> = [
      [undefined, 'undefined is not JSON'],
      [() => 1, 'function is not JSON'],
      [Symbol('s'), 'symbol is not JSON'],
      [10n, 'Do not know how to serialize a BigInt'],
      [cyclic, 'Converting circular structure to JSON'],
    ];
    for (const [value, reason] of cases) {
      const error = await rejection(writeJsonAtomic(path, value));
      expect(isInterlockError(error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
      const { message, details, cause } = error as InterlockError;
      expect(message).toContain(`writeJsonAtomic could not write '${path}' (step 'serialize'): ${reason}`);
      expect(message).toMatch(/\. Pass a JSON-serializable value \(no BigInt, cycles, functions or undefined\)\.$/);
      expect(cause).toBeInstanceOf(TypeError);
      expect((cause as Error).message).toContain(reason);
      expect(details).toStrictEqual({ path, step: 'serialize' });
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails at open, leaving nothing behind, when the directory does not exist', async () => {
    const error = await rejection(writeJsonAtomic(join(dir, 'missing', 'x.json'), 1));
    expect(isInterlockError(error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
    expect((error as { details: { step: string } }).details.step).toBe('open');
    expect((error as Error).message).toContain('missing');
    expect(await readdir(dir)).toEqual([]);
  });

  it('recognises only its own temp file names', () => {
    expect(isTempFileName('.task.json.1234.0123456789ab.tmp')).toBe(true);
    expect(isTempFileName('task.json')).toBe(false);
    expect(isTempFileName('.task.json')).toBe(false);
    expect(isTempFileName('.task.json.1234.tmp')).toBe(false);
    // Anchored at both ends: a user's file that merely contains the pattern is not ours.
    expect(isTempFileName('task.json.1234.0123456789ab.tmp')).toBe(false);
    expect(isTempFileName('.task.json.1234.0123456789ab.tmp.json')).toBe(false);
  });
});
