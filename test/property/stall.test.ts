import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInterlockError, type BusRecord } from '../../src/index.js';
import { describeRecords } from '../helpers/bus.js';
import { describeOp, fcParams, propertyTimeout, runScenario, scenarioArb, type Run } from '../helpers/scenario.js';

const STALL_MS = 50;

/**
 * Stall detection (DESIGN.md, seed 003): a state that declares `meta.stallAfterMs` must
 * show progress (a new snapshot, or a heartbeat) within that time; otherwise the actor is
 * treated as crashed — `lifecycle.stalled`, open turns answered INTERLOCK_ACTOR_STALLED,
 * the task signal aborted — and restarted, and the mailbox survives the restart.
 *
 * The probe declares `stallAfterMs: 50` on `busy` and `cancelling`; `hang` requests start
 * work that never settles (until its signal aborts), `ok`/`fail` work settles when the
 * scheduler lets it — so it too may stall if the clock runs 50 ms past it first, which
 * is correct. Per run:
 * - every stall is on time, never early and never late: its `lifecycle.stalled` record is
 *   exactly `stallAfterMs` after the last snapshot of that activation, in a stall state;
 * - every hang is caught: each hang task's signal ends up aborted with a STALLED reason
 *   (or CANCELLED, when the probe aborted it because its caller went away);
 * - the queue survives: every envelope waiting in the mailbox when the actor stalled is
 *   afterwards delivered (after a `lifecycle.restarted`) or rejected with a code that
 *   says why (its deadline, its caller's abort, the restart budget spent);
 * - asks settle: none pending at quiescence, and each ends with its answer or a code that
 *   fits (STALLED only for a request the machine had taken, FAILED only for one it had not).
 */
describe('property: stalled actors are restarted and keep their queue', () => {
  it('records a stall exactly stallAfterMs after the last progress, restarts, and delivers what was queued', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        scenarioArb({ modes: ['ok', 'ok', 'hang', 'hang', 'fail'], sleep: false, passivation: false }).map((sc) => ({
          ...sc,
          ops: sc.ops.filter((op) => op.k !== 'boom'),
        })),
        async (s, scenario) => {
          const run = await runScenario(s, scenario, { stallAfterMs: STALL_MS, maxRestarts: 5 });
          checkStalls(run);
        },
      ),
      fcParams(),
    );
  }, propertyTimeout());
});

function checkStalls(run: Run): void {
  const { bus, log } = run;
  const records = bus.records;
  const context = () => `bus:\n${describeRecords(records)}`;

  // On time: exactly STALL_MS after the last snapshot of this activation, in a stall state.
  records.forEach((r, i) => {
    if (r.type !== 'lifecycle.stalled') return;
    const data = r.data as { state?: string; stallAfterMs?: number };
    expect(data, `stall record ${r.address}#${r.epoch}.${r.seq}`).toMatchObject({ stallAfterMs: STALL_MS });
    expect(['busy', 'cancelling'], `stalled in state ${String(data.state)}`).toContain(data.state);
    let last: BusRecord | undefined;
    for (let j = i - 1; j >= 0; j--) {
      const p = records[j]!;
      if (p.address === r.address && p.epoch === r.epoch && p.type === 'snapshot') {
        last = p;
        break;
      }
    }
    expect(last, `stall without a prior snapshot; ${context()}`).toBeDefined();
    expect(r.ts - last!.ts, `stall at ${r.ts} ms, last progress at ${last!.ts} ms; ${context()}`).toBe(STALL_MS);
  });

  // Every hang is caught: by the watchdog, unless the probe aborted it first (the caller
  // cancelled or timed out; the probe's cancel handling aborts the task, which then ends).
  for (const task of log.tasks) {
    expect(task.finished, `task ${task.id} (n=${task.n}, ${task.mode}) still running at the end; ${context()}`).toBe(true);
    if (task.mode === 'hang') {
      const reason = task.signal.reason as unknown;
      expect(
        ['INTERLOCK_ACTOR_STALLED', 'INTERLOCK_CANCELLED'],
        `hang task ${task.id} (n=${task.n}) ended by ${String(reason)}; ${context()}`,
      ).toContain(isInterlockError(reason) ? reason.code : String(reason));
    }
  }

  // The queue survives the restart.
  records.forEach((r, i) => {
    if (r.type !== 'lifecycle.stalled') return;
    for (const info of bus.envelopes.values()) {
      if (info.address !== r.address || info.origin === 'cancel') continue;
      const mine = records.map((x, k) => ({ x, k })).filter(({ x }) => (x.data as { id?: unknown } | undefined)?.id === info.id);
      const enqueuedAt = mine.find(({ x }) => x.type === 'mailbox.enqueued')!.k;
      if (enqueuedAt > i) continue;
      const endedBefore = mine.some(({ x, k }) => k < i && (x.type === 'mailbox.delivered' || x.type === 'mailbox.rejected'));
      if (endedBefore) continue;
      // Waiting in the mailbox when the actor stalled.
      const after = mine.filter(({ k }) => k > i);
      const delivered = after.find(({ x }) => x.type === 'mailbox.delivered');
      const rejected = after.find(({ x }) => x.type === 'mailbox.rejected');
      const what = `n=${info.n} (${info.origin}, id ${info.id}) queued at ${r.address} when it stalled at ${r.ts} ms`;
      if (delivered) {
        const restarted = records.findIndex((x, k) => k > i && x.address === r.address && x.type === 'lifecycle.restarted');
        expect(restarted >= 0 && restarted < delivered.k, `${what}: delivered before the restart; ${context()}`).toBe(true);
      } else {
        expect(rejected, `${what}: never delivered nor rejected; ${context()}`).toBeDefined();
        const code = (rejected!.x.data as { code: string }).code;
        expect(['INTERLOCK_DEADLINE_EXCEEDED', 'INTERLOCK_CANCELLED', 'INTERLOCK_ACTOR_FAILED'], `${what}: rejected with ${code}`).toContain(code);
      }
    }
  });

  // Asks settle, with their own answer or a fitting code.
  expect(run.quiescent, 'timers kept re-arming: some actor never became quiet').toBe(true);
  expect(run.pendingAtQuiescence.map((a) => `n=${a.n} ${describeOp(a.op)}`), `asks pending at quiescence; ${context()}`).toEqual([]);
  const received = new Set(log.receipts.map((r) => r.n));
  for (const a of run.asks) {
    const what = `n=${a.n} ${describeOp(a.op)}${received.has(a.n) ? '' : ' (never taken by the machine)'}`;
    if (a.status === 'resolved') {
      expect(a.op.mode, `${what} resolved`).toBe('ok');
      expect(a.value, what).toEqual({ n: a.n });
      continue;
    }
    expect(isInterlockError(a.error), `${what}: ${String(a.error)}`).toBe(true);
    const code = (a.error as { code: string }).code;
    // A stall answers only the turn it interrupted; queued requests wait for the restart.
    const allowed = [received.has(a.n) ? 'INTERLOCK_ACTOR_STALLED' : 'INTERLOCK_ACTOR_FAILED', 'INTERLOCK_ACTOR_STOPPED'];
    if (a.aborted) allowed.push('INTERLOCK_CANCELLED');
    if (a.op.timeoutMs !== undefined) allowed.push('INTERLOCK_DEADLINE_EXCEEDED');
    if (a.op.mode === 'fail') allowed.push('INTERLOCK_TURN_FAILED');
    expect(allowed, `${what} rejected with ${code}`).toContain(code);
  }
}
