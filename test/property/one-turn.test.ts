import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeRecords } from '../helpers/bus.js';
import { fcParams, propertyTimeout, runScenario, scenarioArb } from '../helpers/scenario.js';

/**
 * Property 2 — never two turns of one actor overlapping.
 *
 * What the runtime promises (DESIGN.md "one turn at a time", "the mailbox serializes"):
 * it hands the machine one envelope at a time, never re-entrantly, and an event the
 * current state does not accept is postponed, not delivered. So a machine whose busy
 * state refuses new requests — the probe, which stays in `busy`/`cancelling` until its
 * task's outcome event arrives — never runs two tasks at once *within one incarnation*
 * (one XState actor instance).
 *
 * Across a crash, a stall or a restart the runtime promises less, on purpose: it aborts
 * the old incarnation's task signal and starts a new incarnation, but it cannot stop
 * work that ignores the signal. The probe's scheduler-paced work ignores it, so old work
 * may still be running in the scheduler while the new incarnation runs a task (per
 * address the count can be 2). What is promised instead is the fence: a task of a
 * torn-down incarnation (or of a turn that already ended) is *fenced*, and its outcome
 * never reaches the machine. A task the machine merely *aborted* (`abortTask`, which the
 * probe does on the kind's cancel event) still reports back, so the machine can wait for
 * its cleanup before taking the next request. So this property asserts, per run:
 * - at most one task running at once per actor instance;
 * - every task outcome the machine receives was produced by that same actor instance,
 *   for the request its current turn is about;
 * - each task settles once on the bus (`task.settled`), and its outcome reaches the
 *   machine exactly when it was not fenced; a fenced task's signal has fired; a task
 *   whose signal fired without a fence was aborted by the machine (reason CANCELLED).
 */
describe('property: one turn at a time per actor', () => {
  it('never runs two tasks of one incarnation at once, and fences results of torn-down incarnations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArb(), async (s, scenario) => {
        const run = await runScenario(s, scenario, { idleAfterMs: 40 });
        const { log, bus } = run;
        const context = () => `bus:\n${describeRecords(bus.records)}`;
        expect(log.violations, context()).toEqual([]);
        for (const [actor, max] of log.maxActive) expect({ actor, max }, context()).toEqual({ actor, max: Math.min(max, 1) });
        for (const task of log.tasks) {
          const what = `task ${task.runtimeId} (${task.mode}) of actor ${task.actor} at probe/${task.key}`;
          expect(task.finished, `${what} never finished`).toBe(true);
          const settled = bus
            .of('task.settled', `probe/${task.key}`)
            .filter((r) => (r.data as { task?: string }).task === task.runtimeId);
          expect(settled.length, `${what}: task.settled records; ${context()}`).toBe(1);
          const fenced = (settled[0]!.data as { fenced?: boolean }).fenced === true;
          expect({ fenced, delivered: task.delivered }, `${what}: outcome delivered iff not fenced; ${context()}`).toEqual({
            fenced,
            delivered: !fenced,
          });
          if (fenced) expect(task.signal.aborted, `${what} fenced without its signal firing`).toBe(true);
          else if (task.signal.aborted) {
            const reason = task.signal.reason as { code?: string };
            expect(reason?.code, `${what} aborted (not fenced) by something other than the machine`).toBe('INTERLOCK_CANCELLED');
          }
        }
      }),
      fcParams(),
    );
  }, propertyTimeout());
});
