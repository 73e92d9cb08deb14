import { appendFile, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock, flushMicrotasks } from '../../src/clock.js';
import { isInterlockError } from '../../src/errors.js';
import {
  pollDirectory,
  writeJsonAtomic,
  type DirectoryItem,
  type DirectorySource,
  type PollDirectoryOptions,
  type SourceErrorInfo,
} from '../../src/sources/index.js';

const INTERVAL = 1000;
let root: string;
let dir: string;
let clock: SimulatedClock;
// Gates a test holds its consumer on; opened in afterEach so a failed assertion cannot
// leave stop() waiting on a callback that never returns.
let gates: Array<() => void>;
let sources: DirectorySource[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'interlock-polldir-'));
  dir = join(root, 'inbox');
  await mkdir(dir);
  clock = new SimulatedClock();
  sources = [];
  gates = [];
});

afterEach(async () => {
  for (const open of gates) open();
  await Promise.all(sources.map((s) => s.stop()));
  await rm(root, { recursive: true, force: true });
});

interface Harness {
  source: DirectorySource;
  /** Names offered to onItem, in order (rejected offers included). */
  offered: string[];
  items: DirectoryItem[];
  errors: Array<{ error: unknown; info: SourceErrorInfo }>;
  /** Advances the clock by `ms` (firing a due poll) and waits for the poll to settle. */
  step(ms?: number): Promise<void>;
}

function start(onItem?: PollDirectoryOptions['onItem'], extra: Partial<PollDirectoryOptions> = {}): Harness {
  const offered: string[] = [];
  const items: DirectoryItem[] = [];
  const errors: Harness['errors'] = [];
  const source = pollDirectory(dir, {
    intervalMs: INTERVAL,
    clock,
    onItem: async (item) => {
      offered.push(item.name);
      await onItem?.(item);
      items.push(item);
    },
    onError: (error, info) => errors.push({ error, info }),
    ...extra,
  });
  sources.push(source);
  return {
    source,
    offered,
    items,
    errors,
    step: async (ms = INTERVAL) => {
      await clock.tick(ms);
      await source.whenIdle();
    },
  };
}

const task = (i: number) => `task-${String(i).padStart(3, '0')}.json`;

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  gates.push(resolve);
  return { promise, resolve };
}

describe('pollDirectory', () => {
  it('hands off each file once, in name order, with its parsed value', async () => {
    await writeJsonAtomic(join(dir, 'b.json'), { id: 'b' });
    await writeJsonAtomic(join(dir, 'a.json'), { id: 'a' });
    await writeJsonAtomic(join(dir, 'B.json'), { id: 'B' });
    const h = start();

    await h.step(0);
    await h.step();
    await h.step();
    expect(h.offered).toEqual(['B.json', 'a.json', 'b.json']);
    expect(h.items.map((i) => i.value)).toEqual([{ id: 'B' }, { id: 'a' }, { id: 'b' }]);
    expect(h.items[1]!.path).toBe(join(dir, 'a.json'));
    expect(h.source.stats()).toMatchObject({ polls: 3, handedOff: 3, rejected: 0, tracked: 3 });
  });

  it('skips temp files, dotfiles, non-JSON names, directories and what the filter refuses', async () => {
    await writeFile(join(dir, '.keep.json'), '{}');
    await writeFile(join(dir, '.job.json.4242.0123456789ab.tmp'), '{"half":');
    await writeFile(join(dir, 'notes.txt'), '{}');
    await writeFile(join(dir, 'skip-me.json'), '{}');
    await mkdir(join(dir, 'archive.json'));
    await writeJsonAtomic(join(dir, 'job.json'), { ok: true });
    const h = start(undefined, { filter: (name) => !name.startsWith('skip') });

    await h.step(0);
    expect(h.offered).toEqual(['job.json']);
    expect(h.errors).toEqual([]);
  });

  it('does not offer a half-written file, does not let it block the others, and offers it once completed (seed 003)', async () => {
    await writeFile(join(dir, 'a.json'), '{"task": "a", "args": [1, ');
    await writeJsonAtomic(join(dir, 'b.json'), { task: 'b' });
    const h = start();

    await h.step(0);
    expect(h.offered).toEqual(['b.json']);
    expect(h.source.stats().invalid).toBe(1);
    expect(h.errors).toEqual([]);

    await appendFile(join(dir, 'a.json'), '2]}');
    await h.step();
    await h.step();
    expect(h.offered).toEqual(['b.json', 'a.json']);
    expect(h.items[1]!.value).toEqual({ task: 'a', args: [1, 2] });
    expect(h.errors).toEqual([]);
  });

  it('reports a file that stays invalid once, as INTERLOCK_SOURCE_FAILED, and keeps retrying it', async () => {
    await writeFile(join(dir, 'bad.json'), 'not json');
    const h = start();
    await h.step(0);
    await h.step();
    await h.step();
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]!.info).toEqual({ path: join(dir, 'bad.json'), phase: 'parse' });
    expect(isInterlockError(h.errors[0]!.error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);
    expect(h.source.stats().invalid).toBe(3);

    await writeJsonAtomic(join(dir, 'bad.json'), { fixed: true });
    await h.step();
    expect(h.items.map((i) => i.value)).toEqual([{ fixed: true }]);
  });

  it('offers a rejected item again first on the next poll, holds later files back, and never duplicates it after success', async () => {
    for (const name of ['1.json', '2.json', '3.json']) await writeJsonAtomic(join(dir, name), { name });
    let failures = 2;
    const h = start(async (item) => {
      if (item.name === '2.json' && failures-- > 0) throw new Error('mailbox full');
    });

    await h.step(0);
    await h.step();
    await h.step();
    await h.step();
    await h.step();
    expect(h.offered).toEqual(['1.json', '2.json', '2.json', '2.json', '3.json']);
    expect(h.items.map((i) => i.name)).toEqual(['1.json', '2.json', '3.json']);
    expect(h.errors.map((e) => [(e.error as Error).message, e.info.phase])).toEqual([
      ['mailbox full', 'deliver'],
      ['mailbox full', 'deliver'],
    ]);
    expect(h.source.stats()).toMatchObject({ handedOff: 3, rejected: 2, errors: 2 });
  });

  it('hands off each of 100 files dropped while a slow consumer works exactly once, in name order (seed 003)', async () => {
    for (let i = 0; i < 50; i++) await writeJsonAtomic(join(dir, task(i)), { i });
    let droppedRest = false;
    const h = start(async (item) => {
      if (!droppedRest) {
        // While the first item is being worked on, the producer drops 50 more files.
        droppedRest = true;
        await Promise.all(
          Array.from({ length: 50 }, (_, k) => writeJsonAtomic(join(dir, task(50 + k)), { i: 50 + k })),
        );
      }
      await flushMicrotasks(); // a consumer that yields to the event loop on every item
      expect(item.value).toEqual({ i: Number(item.name.slice(5, 8)) });
    });

    await h.step(0);
    expect(h.items).toHaveLength(50); // the listing predates the second drop
    for (let i = 0; i < 3; i++) await h.step();

    const expected = Array.from({ length: 100 }, (_, i) => task(i));
    expect(h.offered).toEqual(expected);
    expect(h.items.map((i) => i.name)).toEqual(expected);
    expect(h.errors).toEqual([]);
    expect(h.source.stats()).toMatchObject({ handedOff: 100, tracked: 100 });
  });

  it('treats a rewritten file and a deleted then re-created file as new items', async () => {
    const path = join(dir, 'job.json');
    await writeJsonAtomic(path, { gen: 1 });
    const h = start();
    await h.step(0);

    await writeJsonAtomic(path, { gen: 2 });
    await h.step();

    await unlink(path);
    await h.step();
    expect(h.source.stats().tracked).toBe(0); // forgotten once it left the directory
    await writeFile(path, JSON.stringify({ gen: 3 }));
    await h.step();
    await h.step();

    expect(h.items.map((i) => i.value)).toEqual([{ gen: 1 }, { gen: 2 }, { gen: 3 }]);
    expect(new Set(h.items.map((i) => i.version)).size).toBe(3);
  });

  it('forgets handed-off versions once the consumer deletes the files', async () => {
    for (let i = 0; i < 5; i++) await writeJsonAtomic(join(dir, task(i)), { i });
    const h = start(async (item) => {
      await unlink(item.path);
    });
    await h.step(0);
    expect(h.source.stats()).toMatchObject({ handedOff: 5, tracked: 5 });
    await h.step();
    expect(h.source.stats()).toMatchObject({ handedOff: 5, tracked: 0 });
  });

  it('never overlaps polls or hand-offs while onItem is slow', async () => {
    for (let i = 0; i < 3; i++) await writeJsonAtomic(join(dir, task(i)), { i });
    const held: Array<ReturnType<typeof deferred>> = [];
    let entered = deferred();
    let active = 0;
    let maxActive = 0;
    const h = start(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      const gate = deferred();
      held.push(gate);
      entered.resolve();
      await gate.promise;
      active--;
    });

    await clock.tick(0);
    for (let i = 0; i < 3; i++) {
      await entered.promise;
      entered = deferred();
      // Plenty of intervals pass while the consumer is busy: no second poll may start.
      await writeJsonAtomic(join(dir, task(10 + i)), { late: i });
      await clock.tick(INTERVAL * 10);
      expect(clock.pending()).toBe(0);
      expect(h.source.stats()).toMatchObject({ polls: 1, polling: true });
      held[i]!.resolve();
    }
    await h.source.whenIdle();
    expect(clock.pending()).toBe(1);

    // The files dropped meanwhile come on the next poll; release each as it arrives.
    const next = h.step();
    for (let i = 3; i < 6; i++) {
      await entered.promise;
      entered = deferred();
      held[i]!.resolve();
    }
    await next;
    expect(maxActive).toBe(1);
    expect(h.items.map((i) => i.name)).toEqual([task(0), task(1), task(2), task(10), task(11), task(12)]);
    expect(h.source.stats()).toMatchObject({ polls: 2, handedOff: 6 });
  });

  it('runs concurrent pollNow() calls one after another, so an item is never offered twice', async () => {
    await writeJsonAtomic(join(dir, 'a.json'), { a: 1 });
    let active = 0;
    let maxActive = 0;
    const h = start(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await flushMicrotasks();
      active--;
    });
    await Promise.all([h.source.pollNow(), h.source.pollNow(), h.source.pollNow()]);
    expect(h.offered).toEqual(['a.json']);
    expect(maxActive).toBe(1);
    expect(h.source.stats()).toMatchObject({ polls: 3, polling: false });
    expect(clock.pending()).toBe(1);
  });

  it('stop() lets the running hand-off finish, offers nothing more and leaves no timer pending', async () => {
    for (let i = 0; i < 3; i++) await writeJsonAtomic(join(dir, task(i)), { i });
    const gate = deferred();
    const entered = deferred();
    const h = start(async () => {
      entered.resolve();
      await gate.promise;
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
    expect(h.items.map((i) => i.name)).toEqual([task(0)]);

    await clock.tick(INTERVAL * 5);
    await h.source.pollNow();
    expect(h.offered).toEqual([task(0)]);
    expect(h.source.stats()).toMatchObject({ polls: 1, stopped: true, polling: false });
  });

  it('reports a missing directory as INTERLOCK_SOURCE_FAILED and picks it up once created', async () => {
    await rm(dir, { recursive: true });
    const h = start();
    await h.step(0);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]!.info).toEqual({ path: dir, phase: 'read' });
    expect(isInterlockError(h.errors[0]!.error, 'INTERLOCK_SOURCE_FAILED')).toBe(true);

    await mkdir(dir);
    await writeJsonAtomic(join(dir, 'first.json'), { hello: 1 });
    await h.step();
    expect(h.items.map((i) => i.value)).toEqual([{ hello: 1 }]);
  });

  it('sends source errors to process warnings when no onError is given', async () => {
    await rm(dir, { recursive: true });
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const source = pollDirectory(dir, { intervalMs: INTERVAL, clock, onItem: () => {} });
      sources.push(source);
      await source.pollNow();
      expect(emitWarning.mock.calls.map(([w]) => (w as { code?: string }).code)).toEqual(['INTERLOCK_SOURCE_FAILED']);
    } finally {
      emitWarning.mockRestore();
    }
  });
});
