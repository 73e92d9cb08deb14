/**
 * Benchmark 3: delivery cost per envelope as a function of how many are queued (10,
 * 1,000, 100,000), in one actor. The machine stamps the end itself (see `stamps`), so
 * the measured span holds deliveries only, no polling.
 *
 * - tell burst drained: N `tell`s back to back (the drain runs only after them, on the
 *   next microtask), then the time until the last one is processed.
 * - postponed backlog released: the actor is `busy`, which does not accept `req`; N reqs
 *   are told and postponed; then `release` opens it and the time from the release
 *   transition to the last postponed req processed is measured.
 *
 * Small N runs many rounds per repetition (about the same number of envelopes per rep).
 */
import { createRuntime } from './interlock.js';
import { check, int, now, until, type Case } from './harness.js';
import { backlogMachine, stamps } from './machines.js';

export const BACKLOG_SIZES = [10, 1_000, 100_000];
/** Envelopes per repetition for every size. */
export const PER_REP = 100_000;

const ADDR = 'b/k';
const REQ = { type: 'req' } as const;

function runtime(capacity: number) {
  return createRuntime({ kinds: { b: { machine: backlogMachine, mailbox: { capacity } } } });
}

const count = (rt: ReturnType<typeof runtime>): number => rt.snapshot(ADDR)?.context.count ?? 0;

function burstCase(n: number): Case {
  const rounds = Math.max(1, Math.round(PER_REP / n));
  return {
    id: `backlog tell burst drained/${int(n)} queued`,
    size: `${int(n)} queued x ${int(rounds)} rounds`,
    metrics: [
      { key: 'deliver', unit: 'µs/envelope', label: 'drain' },
      { key: 'enqueue', unit: 'µs/envelope', label: 'enqueue (tell)' },
    ],
    async run() {
      const rt = runtime(n + 1);
      rt.tell(ADDR, { type: 'hold' });
      rt.tell(ADDR, { type: 'release' });
      await until(() => rt.snapshot(ADDR)?.value === 'open', 'activation');
      let drainNs = 0n;
      let enqueueNs = 0n;
      for (let r = 0; r < rounds; r++) {
        const base = count(rt);
        stamps.target = base + n;
        stamps.doneAt = 0n;
        const t0 = now();
        for (let i = 0; i < n; i++) rt.tell(ADDR, REQ);
        const t1 = now();
        check(count(rt) === base, 'delivered before the burst ended');
        await until(() => stamps.doneAt !== 0n, 'the burst drained');
        enqueueNs += t1 - t0;
        drainNs += stamps.doneAt - t1;
      }
      const total = rounds * n;
      check(count(rt) === total, `count ${count(rt)} != ${total}`);
      await rt.shutdown({ drain: false });
      return { deliver: Number(drainNs) / 1e3 / total, enqueue: Number(enqueueNs) / 1e3 / total };
    },
  };
}

function postponedCase(n: number): Case {
  const rounds = Math.max(1, Math.round(PER_REP / n));
  return {
    id: `backlog postponed released/${int(n)} postponed`,
    size: `${int(n)} postponed x ${int(rounds)} rounds`,
    metrics: [
      { key: 'deliver', unit: 'µs/envelope', label: 'release' },
      { key: 'postpone', unit: 'µs/envelope', label: 'tell + postpone' },
    ],
    async run() {
      const rt = runtime(n + 2);
      rt.tell(ADDR, { type: 'hold' });
      await until(() => rt.snapshot(ADDR)?.value === 'busy', 'activation');
      let releaseNs = 0n;
      let postponeNs = 0n;
      for (let r = 0; r < rounds; r++) {
        const base = count(rt);
        stamps.target = base + n;
        stamps.doneAt = 0n;
        stamps.releasedAt = 0n;
        const t0 = now();
        for (let i = 0; i < n; i++) rt.tell(ADDR, REQ);
        const postponed = () => rt.stats({ address: ADDR }).addresses[0]!.postponed;
        await Promise.resolve(); // the drain (queued by the first tell) postpones them all ...
        if (postponed() !== n) await until(() => postponed() === n, 'the burst postponed'); // ... or in slices
        const t1 = now();
        check(count(rt) === base, 'a req was processed while busy');
        rt.tell(ADDR, { type: 'release' });
        await until(() => stamps.doneAt !== 0n, 'the backlog released');
        check(stamps.releasedAt !== 0n, 'release stamp');
        postponeNs += t1 - t0;
        releaseNs += stamps.doneAt - stamps.releasedAt;
        rt.tell(ADDR, { type: 'hold' });
        await until(() => rt.snapshot(ADDR)?.value === 'busy', 'hold');
      }
      const total = rounds * n;
      check(count(rt) === total, `count ${count(rt)} != ${total}`);
      await rt.shutdown({ drain: false });
      return { deliver: Number(releaseNs) / 1e3 / total, postpone: Number(postponeNs) / 1e3 / total };
    },
  };
}

export function backlogGroups(): Case[][] {
  return [BACKLOG_SIZES.map(burstCase), BACKLOG_SIZES.map(postponedCase)];
}
