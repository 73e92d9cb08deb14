/**
 * Seed 003 — a code-generation worker deadlocked ten times a day. Three `watchdog`
 * file-watcher threads pushed coroutines into the asyncio loop with
 * `run_coroutine_threadsafe` while the loop read the same files; an atomic replace by the
 * retry manager raced a watcher's read and the loop hung. Nothing crashed, nothing was
 * logged: the status file simply went stale and ideas sat in the queue for 30–120 minutes
 * until someone restarted the process by hand. Partial JSON writes corrupted files too.
 *
 * Interlock's guarantee: sources poll inside the event loop (no threads) on the injected
 * clock; writes are atomic (temp file + rename), and a half-written file is skipped until
 * it parses; the worker heartbeats while it works, and a worker that shows no progress
 * for `stallAfterMs` is detected (`lifecycle.stalled`) and restarted by its supervisor
 * (`lifecycle.restarted`) within that deadline, not hours later. The stalled item's
 * hand-off is rejected, so the source offers it again: every item is processed to
 * completion exactly once and none is lost.
 */
import { appendFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workerMachine } from '../../machines/worker.js';
import { createRuntime, flushMicrotasks, isInterlockError, SimulatedClock, type BusRecord, type Clock, type Runtime } from '../../src/index.js';
import { pollDirectory, writeJsonAtomic, type DirectorySource, type SourceErrorInfo } from '../../src/sources/index.js';

const STALL_MS = 1_500;
/** A healthy item takes three chunks of this, heartbeating after each: longer than STALL_MS in total. */
const CHUNK_MS = 1_000;
const POLL_MS = 1_000;
const RESTART_MS = 100;
/** The hung attempt wakes up this late, ignoring its abort signal; its result must be dropped. */
const LATE_MS = 10 * STALL_MS;

interface Item {
  id: number;
  idea: string;
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
}

let root: string;
let inbox: string;
let done: string;
let sources: DirectorySource[];
let runtimes: Runtime<any>[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'interlock-seed003-'));
  inbox = join(root, 'implementations');
  done = join(root, 'done');
  await mkdir(inbox);
  await mkdir(done);
  sources = [];
  runtimes = [];
});

afterEach(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  await Promise.all(runtimes.map((rt) => rt.shutdown({ drain: false })));
  await rm(root, { recursive: true, force: true });
});

const fileOf = (id: number) => `idea-${String(id).padStart(3, '0')}.json`;

/**
 * The seed's pipeline, in Interlock: a worker actor fed by a polling source. The source's
 * `onItem` asks the worker and, once it answered, commits by moving the file to `done/`.
 */
function pipeline(hangOn: { name: string; attempts: number } | undefined) {
  const clock = new SimulatedClock();
  /** process() calls per file, completed process() calls per file, and commits (moves to done/). */
  const attempts = new Map<string, number>();
  const completions: string[] = [];
  const commits: string[] = [];
  const late: string[] = [];
  let hungStarted = false;
  const worker = workerMachine<Item & { name: string }, string>({
    stallAfterMs: STALL_MS,
    process: async (item, { heartbeat }) => {
      const n = (attempts.get(item.name) ?? 0) + 1;
      attempts.set(item.name, n);
      if (hangOn && item.name === hangOn.name && n <= hangOn.attempts) {
        // Hung like the seed's loop: no heartbeat, deaf to its abort signal. It does
        // return, much later; by then it has been fenced and nobody may commit its result.
        hungStarted = true;
        await sleep(clock, LATE_MS);
        late.push(item.name);
        return `late ${item.name}`;
      }
      for (let chunk = 0; chunk < 3; chunk++) {
        await sleep(clock, CHUNK_MS);
        heartbeat();
      }
      completions.push(item.name);
      return `built ${item.idea}`;
    },
  });
  const rt = createRuntime({
    clock,
    random: () => 0.5,
    kinds: { worker: { machine: worker, supervision: { backoff: { initialMs: RESTART_MS, jitter: 0 } } } },
  });
  runtimes.push(rt);
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));

  const errors: Array<{ error: unknown; info: SourceErrorInfo }> = [];
  // How many onItem calls are waiting on the worker (time may pass) rather than on the disk.
  let asking = 0;
  const source = pollDirectory(inbox, {
    clock,
    intervalMs: POLL_MS,
    onItem: async ({ name, path, value }) => {
      asking++;
      try {
        await rt.ask('worker/w1', { type: 'item', item: { ...(value as Item), name }, name });
      } finally {
        asking--;
      }
      // Commit: the source will not see this file again.
      await rename(path, join(done, name));
      commits.push(name);
    },
    onError: (error, info) => errors.push({ error, info }),
  });
  sources.push(source);

  /**
   * Drives the pipeline until `cond` holds. Simulated time moves only while no real file
   * I/O is in flight (no poll running, or the poll is waiting on the worker); while the
   * source reads, lists or renames, the loop yields a macrotask so the I/O can finish.
   */
  const runUntil = async (cond: () => boolean, what: string, maxSimulatedMs = 120_000): Promise<void> => {
    const deadline = clock.now() + maxSimulatedMs;
    for (let yields = 0; !cond(); ) {
      if (clock.now() > deadline) throw new Error(`runUntil(${what}): not reached by ${clock.now()} ms`);
      if (source.stats().polling && asking === 0) {
        if (++yields > 1_000_000) throw new Error(`runUntil(${what}): file I/O never settled`);
        await flushMicrotasks();
      } else await clock.tick(100);
    }
  };

  const of = (type: BusRecord['type']) => records.filter((r) => r.type === type);
  return {
    clock,
    rt,
    source,
    attempts,
    completions,
    commits,
    late,
    errors,
    records,
    of,
    runUntil,
    hungStarted: () => hungStarted,
  };
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('seed 003: a stalled worker is detected and restarted, and no item is lost', () => {
  it('detects a worker hung on its 3rd item after stallAfterMs, restarts it, and processes every item exactly once', async () => {
    const ITEMS = 6;
    const names = Array.from({ length: ITEMS }, (_, i) => fileOf(i + 1));
    // The producer writes atomically: temp file + rename, so the poller never sees a prefix.
    for (let i = 1; i <= ITEMS; i++) await writeJsonAtomic(join(inbox, fileOf(i)), { id: i, idea: `idea ${i}` });
    const p = pipeline({ name: fileOf(3), attempts: 1 });

    // Items 1 and 2 go through; their work outlasts STALL_MS, but it heartbeats.
    await p.runUntil(p.hungStarted, 'the 3rd item hangs');
    expect(p.commits).toEqual([fileOf(1), fileOf(2)]);
    expect(p.of('lifecycle.stalled')).toEqual([]);
    const hungDelivery = p.of('mailbox.delivered').at(-1)!;
    expect(hungDelivery.ts).toBe(p.clock.now());

    // Not a moment before the deadline...
    await p.clock.tick(STALL_MS - 1);
    expect(p.of('lifecycle.stalled')).toEqual([]);
    expect(p.rt.snapshot('worker/w1')!.value).toBe('working');
    // ...and at it: detected, not noticed hours later by a human.
    await p.clock.tick(1);
    expect(p.of('lifecycle.stalled')).toMatchObject([
      { address: 'worker/w1', ts: hungDelivery.ts + STALL_MS, data: { state: 'working', stallAfterMs: STALL_MS } },
    ]);
    await p.clock.tick(RESTART_MS);
    expect(p.of('lifecycle.restarted')).toMatchObject([{ address: 'worker/w1', ts: hungDelivery.ts + STALL_MS + RESTART_MS, data: { attempt: 1 } }]);

    // The stalled hand-off was rejected with a code, so the source offers the item again.
    await p.runUntil(() => p.commits.length === ITEMS && !p.source.stats().polling, 'every item committed');
    expect(p.errors.map(({ error, info }) => [isInterlockError(error) ? error.code : String(error), info.phase, info.path])).toEqual([
      ['INTERLOCK_ACTOR_STALLED', 'deliver', join(inbox, fileOf(3))],
    ]);
    // The hung attempt wakes up late; its result is fenced, and nobody commits it.
    await p.runUntil(() => p.late.length === 1, 'the hung attempt returns');
    await p.source.pollNow();
    await p.source.whenIdle();

    expect(p.commits).toEqual(names);
    expect(Object.fromEntries(p.attempts)).toEqual(Object.fromEntries(names.map((n) => [n, n === fileOf(3) ? 2 : 1])));
    expect(p.completions).toEqual(names);
    expect(p.late).toEqual([fileOf(3)]);
    const fenced = p.of('task.settled').filter((r) => (r.data as { fenced?: boolean }).fenced);
    expect(fenced).toHaveLength(1);

    // None lost: every file is in done/, intact, and the inbox is empty.
    expect(await readdir(inbox)).toEqual([]);
    expect(sorted(await readdir(done))).toEqual(names);
    for (let i = 1; i <= ITEMS; i++) expect(JSON.parse(await readFile(join(done, fileOf(i)), 'utf8'))).toEqual({ id: i, idea: `idea ${i}` });

    expect(p.source.stats()).toMatchObject({ handedOff: ITEMS, rejected: 1, invalid: 0, polling: false });
    expect(p.rt.stats().kinds[0]).toMatchObject({ stalls: 1, restarts: 1, failures: 0, depth: 0, inFlight: 0 });
  });

  it('does not process a half-written file until it is complete, and does not let it hold up the others', async () => {
    await writeJsonAtomic(join(inbox, fileOf(1)), { id: 1, idea: 'idea 1' });
    // Written by hand, not atomically: the writer is halfway through.
    await writeFile(join(inbox, fileOf(2)), '{"id": 2, "idea": "ide');
    await writeJsonAtomic(join(inbox, fileOf(3)), { id: 3, idea: 'idea 3' });
    const p = pipeline(undefined);

    await p.runUntil(() => p.commits.length === 2 && p.source.stats().invalid >= 3 && !p.source.stats().polling, 'the others are done');
    expect(p.commits).toEqual([fileOf(1), fileOf(3)]);
    expect(p.attempts.has(fileOf(2))).toBe(false);
    expect(sorted(await readdir(inbox))).toEqual([fileOf(2)]);
    // Held the same invalid content for two polls: reported once as not a write in progress, still retried.
    expect(p.errors.map(({ error, info }) => [isInterlockError(error) ? error.code : String(error), info.phase])).toEqual([
      ['INTERLOCK_SOURCE_FAILED', 'parse'],
    ]);

    // The writer finishes; the next poll offers the whole file, once.
    await appendFile(join(inbox, fileOf(2)), 'a 2"}\n');
    await p.runUntil(() => p.commits.length === 3 && !p.source.stats().polling, 'the completed file is done');
    await p.source.pollNow();
    expect(p.commits).toEqual([fileOf(1), fileOf(3), fileOf(2)]);
    expect(Object.fromEntries(p.attempts)).toEqual({ [fileOf(1)]: 1, [fileOf(2)]: 1, [fileOf(3)]: 1 });
    expect(p.completions).toEqual([fileOf(1), fileOf(3), fileOf(2)]);
    expect(JSON.parse(await readFile(join(done, fileOf(2)), 'utf8'))).toEqual({ id: 2, idea: 'idea 2' });
    expect(await readdir(inbox)).toEqual([]);
    expect(p.of('lifecycle.stalled')).toEqual([]);
  });
});
