import { appendFile, mkdir, mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock, flushMicrotasks } from '../../src/clock.js';
import { isInterlockError } from '../../src/errors.js';
import {
  pollFile,
  writeJsonAtomic,
  type FileSource,
  type PollFileOptions,
  type SourceErrorInfo,
} from '../../src/sources/index.js';

const INTERVAL = 1000;
let dir: string;
let path: string;
let clock: SimulatedClock;
// Gates a test holds its consumer on; opened in afterEach so a failed assertion cannot
// leave stop() waiting on a callback that never returns.
let gates: Array<() => void>;
let sources: FileSource[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'interlock-pollfile-'));
  path = join(dir, 'config.json');
  clock = new SimulatedClock();
  sources = [];
  gates = [];
});

afterEach(async () => {
  for (const open of gates) open();
  await Promise.all(sources.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

interface Harness {
  source: FileSource;
  values: unknown[];
  errors: Array<{ error: unknown; info: SourceErrorInfo }>;
  /** Advances the clock by `ms` (firing a due poll) and waits for the poll to settle. */
  step(ms?: number): Promise<void>;
}

function start(overrides: Partial<PollFileOptions> = {}): Harness {
  const values: unknown[] = [];
  const errors: Harness['errors'] = [];
  const source = pollFile(path, {
    intervalMs: INTERVAL,
    clock,
    onChange: (value) => {
      values.push(value);
    },
    onError: (error, info) => errors.push({ error, info }),
    ...overrides,
  });
  sources.push(source);
  return {
    source,
    values,
    errors,
    step: async (ms = INTERVAL) => {
      await clock.tick(ms);
      await source.whenIdle();
    },
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  gates.push(resolve);
  return { promise, resolve };
}

describe('pollFile', () => {
  it('emits the current value on the first poll and then only new versions', async () => {
    await writeJsonAtomic(path, { v: 'a' });
    const h = start();
    expect(h.values).toEqual([]); // nothing runs until the clock turns

    await h.step(0);
    expect(h.values).toEqual([{ v: 'a' }]);

    await h.step();
    await h.step();
    expect(h.values).toEqual([{ v: 'a' }]);

    await writeJsonAtomic(path, { v: 'b' });
    await h.step();
    expect(h.values).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(h.errors).toEqual([]);
    expect(h.source.stats()).toMatchObject({ polls: 4, changes: 2, invalid: 0, errors: 0 });
  });

  it('detects an atomic replace by a same-sized value with the same mtime (a new inode)', async () => {
    // Pin size and mtime, so only the inode tells the versions apart.
    const fixed = new Date('2024-01-14T00:00:00Z');
    const write = async (v: number) => {
      await writeJsonAtomic(path, { v });
      await utimes(path, fixed, fixed);
    };
    await write(1);
    const versions: string[] = [];
    const h = start({ onChange: (value, info) => void versions.push(`${JSON.stringify(value)}@${info.version}`) });
    await h.step(0);
    await write(2);
    await h.step();
    await write(3);
    await h.step();

    expect(versions.map((v) => v.split('@')[0])).toEqual(['{"v":1}', '{"v":2}', '{"v":3}']);
    const sizeAndMtime = versions.map((v) => v.split('@')[1]!.split(':').slice(1).join(':'));
    expect(new Set(sizeAndMtime).size).toBe(1);
  });

  it('waits for a missing file and emits it once it appears', async () => {
    const h = start();
    await h.step(0);
    await h.step();
    expect(h.values).toEqual([]);
    expect(h.errors).toEqual([]);

    await writeJsonAtomic(path, { ready: true });
    await h.step();
    expect(h.values).toEqual([{ ready: true }]);
  });

  it('does not emit a half-written file, reports it once when it stays invalid, and emits it when completed (seed 003)', async () => {
    await writeFile(path, '{"a": 1, "b": [1, 2');
    const h = start();

    await h.step(0);
    expect(h.values).toEqual([]);
    expect(h.errors).toEqual([]); // one failed parse may be a write in progress
    expect(h.source.stats().invalid).toBe(1);

    await h.step(); // same version invalid twice: not a write in progress any more
    await h.step();
    expect(h.values).toEqual([]);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]!.info).toEqual({ path, phase: 'parse' });
    expect(isInterlockError(h.errors[0]!.error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);

    await appendFile(path, ', 3]}');
    await h.step();
    await h.step();
    expect(h.values).toEqual([{ a: 1, b: [1, 2, 3] }]);
    expect(h.errors).toHaveLength(1);
  });

  it('offers a version again on the next poll when onChange rejects, and not after it succeeded', async () => {
    await writeJsonAtomic(path, { n: 1 });
    const calls: unknown[] = [];
    const h = start({
      onChange: async (value) => {
        calls.push(value);
        if (calls.length === 1) throw new Error('consumer busy');
      },
    });

    await h.step(0);
    expect(h.errors.map((e) => [(e.error as Error).message, e.info.phase])).toEqual([['consumer busy', 'deliver']]);
    await h.step();
    await h.step();
    expect(calls).toEqual([{ n: 1 }, { n: 1 }]);
    expect(h.source.stats().changes).toBe(1);
  });

  it('never overlaps polls: no timer is armed while onChange is slow', async () => {
    await writeJsonAtomic(path, { n: 1 });
    const gate = deferred();
    const entered = deferred();
    let active = 0;
    let maxActive = 0;
    const h = start({
      onChange: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        entered.resolve();
        await gate.promise;
        active--;
      },
    });

    await clock.tick(0);
    await entered.promise;
    await writeJsonAtomic(path, { n: 2 });
    await clock.tick(INTERVAL * 10);
    expect(clock.pending()).toBe(0);
    expect(h.source.stats()).toMatchObject({ polls: 1, polling: true });

    gate.resolve();
    await h.source.whenIdle();
    expect(clock.pending()).toBe(1);
    await h.step();
    expect(maxActive).toBe(1);
    expect(h.source.stats()).toMatchObject({ polls: 2, changes: 2 });
  });

  it('stop() waits for the in-flight onChange, then leaves no timer pending', async () => {
    await writeJsonAtomic(path, { n: 1 });
    const gate = deferred();
    const entered = deferred();
    const h = start({
      onChange: async (value) => {
        h.values.push(value);
        entered.resolve();
        await gate.promise;
      },
    });

    await clock.tick(0);
    await entered.promise;
    let stopped = false;
    const stopping = h.source.stop().then(() => (stopped = true));
    await flushMicrotasks();
    expect(stopped).toBe(false);

    gate.resolve();
    await stopping;
    expect(clock.pending()).toBe(0);

    await writeJsonAtomic(path, { n: 2 });
    await clock.tick(INTERVAL * 5);
    await h.source.pollNow();
    expect(h.values).toEqual([{ n: 1 }]);
    expect(h.source.stats()).toMatchObject({ polls: 1, stopped: true });
    await h.source.stop(); // idempotent
    expect(clock.pending()).toBe(0);
  });

  it('stop() before the first poll cancels its timer', async () => {
    const pendingBefore = clock.pending();
    const h = start();
    expect(clock.pending()).toBe(pendingBefore + 1);
    await h.source.stop();
    expect(clock.pending()).toBe(pendingBefore);
    await clock.runAll();
    expect(h.source.stats().polls).toBe(0);
  });

  it('pollNow() polls at once, never alongside a running poll, and keeps one timer armed', async () => {
    const h = start();
    await writeJsonAtomic(path, { n: 1 });
    await Promise.all([h.source.pollNow(), h.source.pollNow(), h.source.pollNow()]);
    expect(h.values).toEqual([{ n: 1 }]);
    expect(h.source.stats().polls).toBe(3);
    expect(clock.pending()).toBe(1);
  });

  it('reports a path that is not a regular file as INTERLOCK_SOURCE_FAILED and keeps polling', async () => {
    await mkdir(path);
    const h = start();
    await h.step(0);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]!.info).toEqual({ path, phase: 'read' });
    expect(isInterlockError(h.errors[0]!.error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);

    await rm(path, { recursive: true });
    await writeJsonAtomic(path, { back: true });
    await h.step();
    expect(h.values).toEqual([{ back: true }]);
  });

  it('emits a file deleted and re-created with new content', async () => {
    await writeJsonAtomic(path, { gen: 1 });
    const h = start();
    await h.step(0);
    await unlink(path);
    await h.step();
    await writeFile(path, JSON.stringify({ gen: 2 }));
    await h.step();
    expect(h.values).toEqual([{ gen: 1 }, { gen: 2 }]);
  });

  it('refuses a non-positive interval', () => {
    expect(() => pollFile(path, { intervalMs: 0, clock, onChange: () => {} })).toThrow(/intervalMs/);
    expect(clock.pending()).toBe(0);
  });
});
