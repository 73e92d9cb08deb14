import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EnvelopeInfo } from '../helpers/bus.js';
import { fcParams, propertyTimeout, runScenario, scenarioArb, type Run } from '../helpers/scenario.js';

/**
 * Property 1 — per-address FIFO of delivery.
 *
 * The mailbox delivers by lane (control, high, normal, low), FIFO within a lane. An
 * event the current state does not accept is postponed: "it stays, later envelopes go
 * on, and postponed ones are retried first, in order" (DESIGN.md), and an envelope never
 * overtakes a postponed one of its own type. So the promise is FIFO among envelopes of
 * one address with the same lane *and event type*: a `ping` (accepted in every state)
 * may legitimately pass a postponed `req` of the same lane, but two `req`s, or two
 * `ping`s, of one lane are delivered in the order they were enqueued — across crashes,
 * restarts and passivation (which happens only with an empty mailbox).
 *
 * Checked on both sides of the choke point: the `mailbox.delivered` records on the bus,
 * and the events the probe machine accepted (its receipt log). Runtime-generated cancel
 * envelopes are excluded (they target a turn, not a place in the queue).
 */
describe('property: per-address FIFO', () => {
  it('delivers envelopes of one address, lane and type in enqueue order, and the machine sees that order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArb(), async (s, scenario) => {
        const run = await runScenario(s, scenario, { idleAfterMs: 40 });
        checkFifo(run);
      }),
      fcParams(),
    );
  }, propertyTimeout());
});

function groupKey(e: EnvelopeInfo): string {
  return `${e.address} lane=${e.lane} type=${e.type}`;
}

function checkFifo(run: Run): void {
  const { bus, log } = run;
  // Bus side: mailbox.delivered order per (address, lane, type).
  const deliveredByGroup = new Map<string, EnvelopeInfo[]>();
  const deliveredIds = new Set<string>();
  for (const r of bus.of('mailbox.delivered')) {
    const id = (r.data as { id: string }).id;
    const info = bus.envelopes.get(id);
    expect(info, `delivered record for unknown envelope ${id}`).toBeDefined();
    expect(deliveredIds.has(id), `envelope ${id} delivered twice`).toBe(false);
    deliveredIds.add(id);
    if (info!.origin === 'cancel') continue;
    const k = groupKey(info!);
    if (!deliveredByGroup.has(k)) deliveredByGroup.set(k, []);
    deliveredByGroup.get(k)!.push(info!);
  }
  for (const [k, list] of deliveredByGroup) {
    const order = list.map((e) => `n=${e.n}`);
    const sorted = [...list].sort((a, b) => a.order - b.order).map((e) => `n=${e.n}`);
    expect(order, `mailbox.delivered order of ${k}`).toEqual(sorted);
  }

  // Machine side: what the probe accepted, per (address, lane, type), in enqueue order, at most once each.
  const seenByGroup = new Map<string, EnvelopeInfo[]>();
  const seen = new Set<number>();
  for (const r of log.receipts) {
    if (r.type !== 'req' && r.type !== 'ping' && r.type !== 'boom') continue;
    expect(seen.has(r.n), `the machine accepted request n=${r.n} twice`).toBe(false);
    seen.add(r.n);
    const id = bus.idOfN.get(r.n);
    const info = id === undefined ? undefined : bus.envelopes.get(id);
    expect(info, `the machine accepted n=${r.n}, which was never enqueued`).toBeDefined();
    expect(info!.address).toBe(`probe/${r.key}`);
    const k = groupKey(info!);
    if (!seenByGroup.has(k)) seenByGroup.set(k, []);
    seenByGroup.get(k)!.push(info!);
  }
  for (const [k, list] of seenByGroup) {
    const order = list.map((e) => `n=${e.n}`);
    const sorted = [...list].sort((a, b) => a.order - b.order).map((e) => `n=${e.n}`);
    expect(order, `order in which the machine accepted ${k}`).toEqual(sorted);
    // The two sides agree on the envelopes both saw.
    const delivered = (deliveredByGroup.get(k) ?? []).map((e) => `n=${e.n}`).filter((x) => order.includes(x));
    expect(order.filter((x) => delivered.includes(x)), `bus and machine order of ${k}`).toEqual(delivered);
  }
  // Every delivered record was accepted by the machine.
  for (const id of deliveredIds) {
    const info = bus.envelopes.get(id)!;
    if (info.origin === 'cancel') continue;
    expect(seen.has(info.n), `mailbox.delivered for n=${info.n} but the machine never accepted it`).toBe(true);
  }
}
