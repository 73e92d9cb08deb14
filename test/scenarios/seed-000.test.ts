/**
 * Seed 000 — requests were queued but never processed. The chat router enqueued into
 * `server.request_queue` while the queue worker read `state.request_queue`: a module-level
 * `__setattr__` proxy that Python never calls for external assignments left the shared
 * state's queue `None`, and the worker's "helpful" fallback (`if request_queue is None:
 * request_queue = Queue()`) made itself a private, empty queue. The log said "worker
 * started", then nothing: no error, no "Request dequeued", requests piling up unseen.
 *
 * Interlock's guarantee: there is no global queue to wire. The runtime owns every
 * mailbox, one per address, created on demand; a kind that is misconfigured (a typo'd
 * option, a cancel or control event the machine does not handle, no machine at all, no
 * kinds) fails `createRuntime` loudly with a coded error instead of falling back; and
 * every envelope the runtime accepts is dequeued by its actor (one `mailbox.delivered`)
 * or ends with a coded rejection — the books balance.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { workerMachine } from '../../machines/worker.js';
import { createRuntime, flushMicrotasks, isInterlockError, SimulatedClock, type BusRecord, type Clock, type SnapshotStore } from '../../src/index.js';

/** A queue worker like the seed's: takes a job, does clock-paced work, answers with the job. */
interface Job {
  n: number;
  to: string;
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = clock.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clock.clearTimeout(t);
      reject(signal.reason);
    });
  });
}

function queueWorker(clock: Clock, processed: Job[], workMs = 10) {
  return workerMachine<Job, Job>({
    process: async (job, { signal }) => {
      await sleep(clock, workMs, signal);
      processed.push(job);
      return job;
    },
  });
}

function record(rt: { events$: { subscribe(fn: (r: BusRecord) => void): unknown } }) {
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));
  return {
    records,
    of: (type: BusRecord['type'], address?: string) => records.filter((r) => r.type === type && (address === undefined || r.address === address)),
  };
}

/**
 * Runs the simulated clock to quiescence one instant at a time: every timer due at that
 * instant fires, then promise callbacks run. The 50 workers finish their jobs at the same
 * instants, so this costs one macrotask per instant rather than one per timer.
 */
async function settle(clock: SimulatedClock, maxInstants = 10_000): Promise<void> {
  await flushMicrotasks();
  for (let i = 0; i < maxInstants; i++) {
    const at = clock.nextAt();
    if (at === undefined) return;
    clock.advance(at - clock.now());
    await flushMicrotasks();
  }
  throw new Error(`settle: timers still pending after ${maxInstants} instants`);
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isInterlockError(err) ? err.code : `uncoded: ${String(err)}`;
  }
  return undefined;
};

describe('seed 000: a misconfigured kind fails createRuntime loudly (no silent fallback)', () => {
  const clock = new SimulatedClock();
  const worker = queueWorker(clock, []);
  // The seed's worker, in XState: it only knows `item` (and its own completion events).
  const create = (options: unknown) => () => createRuntime(options as never);

  it.each([
    // The seed's exact shape: the thing the worker reads is missing, and nothing notices.
    ['a kind whose machine is missing (the `request_queue is None` case)', { kinds: { worker: { machine: undefined } } }, /machine/],
    ['a typo in a kind option that would otherwise fall back to its default', { kinds: { worker: { machine: worker, idleAfterMS: 1_000 } } }, /idleAfterMS/],
    ['a typo in the mailbox policy', { kinds: { worker: { machine: worker, mailbox: { capacty: 10 } } } }, /mailbox\.capacty/],
    ['a typo in the supervision policy', { kinds: { worker: { machine: worker, supervison: { maxRestarts: 0 } } } }, /supervison/],
    ['a typo in the backoff policy', { kinds: { worker: { machine: worker, supervision: { backoff: { intialMs: 5 } } } } }, /intialMs/],
    ['a cancel event the machine does not handle', { kinds: { worker: { machine: worker, cancelEvent: 'cancel' } } }, /cancelEvent 'cancel'/],
    ['a control event the machine does not handle', { kinds: { worker: { machine: worker, mailbox: { control: ['shutdown'] } } } }, /'shutdown'/],
    ['a kind name no address can reach', { kinds: { 'queue/worker': { machine: worker } } }, /name/],
    [
      'one bad kind among good ones (all or nothing)',
      { kinds: { router: { machine: worker }, worker: { machine: worker, cancelEvent: 'abort' } } },
      /Kind 'worker'/,
    ],
  ])('refuses %s with INTERLOCK_INVALID_KIND, naming the problem', (_why, options, names) => {
    expect(create(options)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_KIND', message: expect.stringMatching(names) }));
  });

  it.each([
    ['an empty kinds map', { kinds: {} }],
    ['no kinds at all', {}],
    ['a typo in the runtime options (`kind` for `kinds`)', { kind: { worker: { machine: worker } } }],
    ['an unknown runtime option next to valid kinds (a `queue` to share)', { kinds: { worker: { machine: worker } }, queue: [] }],
  ])('refuses %s with INTERLOCK_INVALID_CONFIG', (_why, options) => {
    expect(create(options)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }));
  });

  it('accepts the corrected configuration: a cancel and control event the machine does handle', () => {
    const cancellable = setup({ types: {} as { events: { type: 'item' } | { type: 'cancel' } | { type: 'shutdown' } } }).createMachine({
      initial: 'idle',
      states: { idle: { on: { item: 'working', shutdown: 'idle' } }, working: { on: { cancel: 'idle' } } },
    });
    const rt = createRuntime({ clock, kinds: { worker: { machine: cancellable, cancelEvent: 'cancel', mailbox: { control: ['shutdown'] } } } });
    expect(rt.size).toBe(0);
  });

  it('refuses, at the sender, an address whose kind the runtime was not created with (the router cannot enqueue into a void)', () => {
    const rt = createRuntime({ clock, kinds: { worker: { machine: worker } } });
    expect(codeOf(() => rt.ref('wroker/1'))).toBe('INTERLOCK_UNKNOWN_KIND');
    const misrouted = { type: 'item', item: { n: 1, to: 'wroker/1' } };
    expect(codeOf(() => rt.tell('wroker/1' as string, misrouted))).toBe('INTERLOCK_UNKNOWN_KIND');
    expect(codeOf(() => rt.tell('worker' as string, misrouted))).toBe('INTERLOCK_INVALID_ADDRESS');
    expect(rt.size).toBe(0);
    expect(rt.stats().kinds[0]).toMatchObject({ enqueued: 0, depth: 0 });
  });
});

describe('seed 000: every accepted request is dequeued by its actor', () => {
  it('delivers each of 2,000 tells and asks to 50 addresses exactly once, or rejects it with a code; the books balance', async () => {
    const clock = new SimulatedClock();
    const processed: Job[] = [];
    const rt = createRuntime({ clock, kinds: { worker: { machine: queueWorker(clock, processed) } } });
    const bus = record(rt);
    const N = 2_000;
    const ADDRESSES = 50;
    const address = (n: number) => `worker/q${(n * 7) % ADDRESSES}`;
    // Everything that must never happen, as sentences; asserted empty once (cheaper than 10k expects).
    const problems: string[] = [];

    // The envelope id each send produced: enqueue is synchronous, so its record is the last one.
    const sent = new Map<string, { n: number; address: string; mode: 'tell' | 'ask' }>();
    const asks = new Map<number, { status: 'pending' | 'ok' | 'rejected'; value?: unknown; code?: string }>();
    for (let n = 0; n < N; n++) {
      const to = address(n);
      const event = { type: 'item' as const, item: { n, to }, name: `job-${n}` };
      const mode = n % 3 === 0 ? 'tell' : 'ask';
      if (mode === 'tell') rt.tell(to, event);
      else {
        const outcome: { status: 'pending' | 'ok' | 'rejected'; value?: unknown; code?: string } = { status: 'pending' };
        asks.set(n, outcome);
        // Every 5th ask is impatient: it expires while queued behind slower work.
        rt.ask(to, event, n % 5 === 0 ? { timeoutMs: 25 } : undefined).then(
          (value) => Object.assign(outcome, { status: 'ok', value }),
          (err: unknown) => Object.assign(outcome, { status: 'rejected', code: isInterlockError(err) ? err.code : String(err) }),
        );
      }
      const enq = bus.records.at(-1)!;
      if (enq.type !== 'mailbox.enqueued' || enq.address !== to) problems.push(`job ${n}: no mailbox.enqueued record on ${to}`);
      sent.set((enq.data as { id: string }).id, { n, address: to, mode });
    }
    expect(sent.size).toBe(N);
    await settle(clock);

    // Exactly one ending per accepted envelope, on its own address; a rejection carries its code.
    const endings = new Map<string, BusRecord[]>();
    for (const r of [...bus.of('mailbox.delivered'), ...bus.of('mailbox.rejected')]) {
      const id = (r.data as { id?: string }).id;
      if (id === undefined) problems.push(`a ${r.type} record without an envelope id on ${r.address}`);
      else endings.set(id, [...(endings.get(id) ?? []), r]);
    }
    // An ask's turn ends once too: one `turn.replied` per delivered ask, none for a tell.
    const replied = new Map<string, number>();
    for (const r of bus.of('turn.replied')) {
      const id = (r.data as { id: string }).id;
      replied.set(id, (replied.get(id) ?? 0) + 1);
    }
    for (const [id, s] of sent) {
      const ends = endings.get(id) ?? [];
      const what = `envelope ${id} (${s.mode} job ${s.n} to ${s.address})`;
      if (ends.length !== 1) {
        problems.push(`${what} ended ${ends.length} times: ${ends.map((r) => r.type).join(', ')}`);
        continue;
      }
      const end = ends[0]!;
      if (end.address !== s.address) problems.push(`${what} ended on ${end.address}`);
      if (end.type === 'mailbox.rejected' && (end.data as { code: string }).code !== 'INTERLOCK_DEADLINE_EXCEEDED') {
        problems.push(`${what} rejected with ${(end.data as { code: string }).code}`);
      }
      const turns = replied.get(id) ?? 0;
      const wantTurns = s.mode === 'ask' && end.type === 'mailbox.delivered' ? 1 : 0;
      if (turns !== wantTurns) problems.push(`${what} has ${turns} turn.replied records, want ${wantTurns}`);
    }
    if (endings.size !== N) problems.push(`${endings.size - N} endings for envelopes nobody sent`);

    // Every delivered job was processed once, by the actor at its address (the job carries where it was sent).
    const delivered = bus.of('mailbox.delivered').map((r) => sent.get((r.data as { id: string }).id)!.n);
    expect(processed.map((j) => j.n).sort((a, b) => a - b)).toEqual([...delivered].sort((a, b) => a - b));
    for (const j of processed) if (j.to !== address(j.n)) problems.push(`job ${j.n} processed for ${j.to}`);
    const rejected = bus.of('mailbox.rejected').length;
    expect(rejected).toBeGreaterThan(0);
    expect(delivered.length + rejected).toBe(N);

    // Per address, jobs were processed in the order they were sent (FIFO), expired ones skipped.
    for (let q = 0; q < ADDRESSES; q++) {
      const mine = processed.filter((j) => j.to === `worker/q${q}`).map((j) => j.n);
      if (mine.some((n, i) => i > 0 && n < mine[i - 1]!)) problems.push(`worker/q${q} processed out of order: ${mine.join(' ')}`);
    }

    // Every ask settled: with its own job, or with the deadline code, and only an impatient one; none is left pending.
    for (const [n, outcome] of asks) {
      if (outcome.status === 'ok') {
        const v = outcome.value as Job;
        if (v.n !== n || v.to !== address(n)) problems.push(`ask ${n} got job ${v.n} for ${v.to}`);
      } else if (outcome.status === 'pending') problems.push(`ask ${n} never settled`);
      else if (outcome.code !== 'INTERLOCK_DEADLINE_EXCEEDED' || n % 5 !== 0) problems.push(`ask ${n} rejected with ${outcome.code}`);
    }
    expect(problems).toEqual([]);

    const stats = rt.stats().kinds[0]!;
    expect(stats).toMatchObject({ kind: 'worker', active: ADDRESSES, depth: 0, postponed: 0, inFlight: 0, enqueued: N });
    expect(stats.enqueued).toBe(stats.delivered + stats.rejected);
    expect(stats.delivered).toBe(delivered.length);
    expect(clock.pending()).toBe(0);
    await rt.shutdown();
  });

  it('keeps the books balanced when a full mailbox refuses sends: enqueued == delivered + rejected', async () => {
    // A refusal at the door is not an accepted envelope; the stats must still balance.
    const clock = new SimulatedClock();
    const processed: Job[] = [];
    const rt = createRuntime({ clock, kinds: { worker: { machine: queueWorker(clock, processed), mailbox: { capacity: 4 } } } });
    const bus = record(rt);
    const refused: string[] = [];
    for (let n = 0; n < 10; n++) {
      const code = codeOf(() => rt.tell('worker/q', { type: 'item', item: { n, to: 'worker/q' } }));
      if (code) refused.push(code);
    }
    await clock.runAll();
    // All ten are sent in one synchronous burst: four fit, six are refused, loudly.
    expect(refused).toEqual(Array(6).fill('INTERLOCK_MAILBOX_FULL'));
    expect(processed.map((j) => j.n)).toEqual([0, 1, 2, 3]);
    expect(bus.of('mailbox.enqueued')).toHaveLength(4);
    expect(bus.of('mailbox.delivered')).toHaveLength(4);
    expect(bus.of('mailbox.rejected').map((r) => (r.data as { code: string }).code)).toEqual(Array(6).fill('INTERLOCK_MAILBOX_FULL'));
    // Either a refusal is not counted as rejected, or it is counted as enqueued too; the
    // books must balance so that `enqueued - delivered - rejected` is what is still waiting.
    const stats = rt.stats().kinds[0]!;
    expect(stats.delivered).toBe(4);
    expect({ enqueued: stats.enqueued, 'delivered + rejected': stats.delivered + stats.rejected, depth: stats.depth }).toEqual({
      enqueued: stats.enqueued,
      'delivered + rejected': stats.enqueued,
      depth: 0,
    });
    await rt.shutdown();
  });
});

describe('seed 000: one mailbox per address, however it is reached', () => {
  it('routes sends from two refs, the kind/key form and the runtime to the same actor, even while it is still loading', async () => {
    const clock = new SimulatedClock();
    const processed: Job[] = [];
    // A store that answers later: the actor is still loading while the router sends.
    let loads = 0;
    const store: SnapshotStore = {
      load: () => {
        loads++;
        return new Promise<undefined>((resolve) => clock.setTimeout(() => resolve(undefined), 50));
      },
      save: () => undefined,
      delete: () => undefined,
    };
    const rt = createRuntime({ clock, store, kinds: { worker: { machine: queueWorker(clock, processed) } } });
    const bus = record(rt);
    const keys = ['a', 'b', 'c'];
    const answers: Promise<unknown>[] = [];
    for (const key of keys) {
      const router = rt.ref(`worker/${key}`);
      const worker = rt.ref('worker', key);
      expect(worker.address).toBe(router.address);
      router.tell({ type: 'item', item: { n: 1, to: router.address } });
      answers.push(worker.ask({ type: 'item', item: { n: 2, to: worker.address } }));
      const third = { type: 'item', item: { n: 3, to: router.address } };
      const fourth = { type: 'item', item: { n: 4, to: worker.address } };
      rt.tell(router.address, third);
      answers.push(rt.ask(worker.address, fourth));
    }
    expect(rt.size).toBe(keys.length);
    expect(loads).toBe(keys.length);
    expect(rt.stats().addresses.map((a) => [a.address, a.status, a.depth])).toEqual(keys.map((k) => [`worker/${k}`, 'loading', 4]));

    await clock.runAll();
    await Promise.all(answers);
    expect(rt.size).toBe(keys.length);
    for (const key of keys) {
      const addr = `worker/${key}`;
      expect(bus.of('lifecycle.activated', addr)).toHaveLength(1);
      expect(bus.of('mailbox.delivered', addr)).toHaveLength(4);
      expect(processed.filter((j) => j.to === addr).map((j) => j.n)).toEqual([1, 2, 3, 4]);
      expect(rt.ref(addr).snapshot()!.context).toMatchObject({ processed: 4 });
    }
    // One epoch per address: no second activation (and so no second mailbox) ever existed.
    expect(new Set(bus.records.map((r) => `${r.address}#${r.epoch}`)).size).toBe(keys.length);
    await rt.shutdown();
  });
});
