import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParams, propertyTimeout, runScenario, scenarioArb, type Run } from '../helpers/scenario.js';

/**
 * Property — a deadline is never overrun by delivery.
 *
 * An envelope sent with `timeoutMs` must not start at or after `enqueue + timeoutMs`
 * (DESIGN.md: "if it was still queued it never ran"). Its timer rejects it when it is
 * still waiting, and the delivery-time check catches the envelope whose deadline falls
 * on the very instant the turn ahead of it ends, before its timer has fired. So every
 * `mailbox.delivered` record of an envelope with a deadline shows a wait strictly below
 * its timeout. Runtime cancels (no deadline) are not concerned.
 */
describe('property: deadlines', () => {
  it('delivers every envelope that has a deadline strictly before that deadline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArb(), async (s, scenario) => {
        const run = await runScenario(s, scenario, { idleAfterMs: 40 });
        checkDeadlines(run);
      }),
      fcParams(),
    );
  }, propertyTimeout());
});

function checkDeadlines(run: Run): void {
  const timeoutOf = new Map<number, number | undefined>();
  for (const x of [...run.asks, ...run.streams, ...run.tells]) timeoutOf.set(x.n, 'timeoutMs' in x.op ? x.op.timeoutMs : undefined);
  const enqueuedAt = new Map<string, number>();
  for (const r of run.bus.of('mailbox.enqueued')) enqueuedAt.set((r.data as { id: string }).id, r.ts);
  for (const r of run.bus.of('mailbox.delivered')) {
    const { id, waitMs } = r.data as { id: string; waitMs: number };
    const info = run.bus.envelopes.get(id)!;
    if (info.origin === 'cancel') continue;
    const timeoutMs = timeoutOf.get(info.n);
    if (timeoutMs === undefined) continue;
    expect(r.ts - enqueuedAt.get(id)!, `n=${info.n} waitMs as the bus clock saw it`).toBe(waitMs);
    expect(waitMs, `n=${info.n} (${info.type}) delivered ${waitMs} ms after enqueue with a ${timeoutMs} ms deadline`).toBeLessThan(timeoutMs);
  }
}
