/**
 * What both resume properties (WebSocket and SSE) check, and how they run: a client's
 * received records against the bus's own record of every record of the address.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { BusRecord } from '../../src/index.js';
import { encodeRecord, toWireEpoch } from '../../src/transport/wireRecord.js';

export const RUNS = Number(process.env.FC_RUNS ?? 200);
/** The ring of the kind that is made to overflow. */
export const TINY_RING = 8;

export interface Received {
  epoch: number;
  seq: number;
  type: string;
  data: unknown;
  recovered?: false;
}

const counter = (data: unknown) => (data as { context: { n: number } }).context.n;

/**
 * The client got every record once, in seq order, as the bus has it (through the wire
 * encoding), starting with a snapshot of the current state, and ending at `finalSeq`;
 * except that a resume point that left the ring (only with `mayRecover`) is answered by one
 * snapshot flagged recovered:false with the state at its seq.
 */
export function checkExactlyOnce(got: Received[], records: BusRecord[], base: number, finalSeq: number, mayRecover: boolean): void {
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  /** The state after record `seq`: the context of the latest snapshot record at or before it. */
  const n = (seq: number) => {
    for (let q = seq; q > 0; q--) if (bySeq.get(q)?.type === 'snapshot') return counter(bySeq.get(q)!.data);
    return undefined;
  };
  expect(got.length).toBeGreaterThan(0);
  expect(got[0]!.type, 'a fresh subscription starts from the current state').toBe('snapshot');
  expect(counter(got[0]!.data)).toBe(n(got[0]!.seq));
  for (let i = 1; i < got.length; i++) {
    const p = got[i]!;
    const prev = got[i - 1]!.seq;
    if (p.recovered === false) {
      expect(mayRecover, 'only a ring of 8 loses a resume point').toBe(true);
      expect(p.seq - prev, 'a recovered snapshot comes only when more than the ring was missed').toBeGreaterThan(TINY_RING);
      expect(counter(p.data)).toBe(n(p.seq));
    } else {
      expect(p.seq, `record ${i} after seq ${prev}`).toBe(prev + 1);
      expect(JSON.stringify(p)).toBe(encodeRecord(bySeq.get(p.seq)!, base));
    }
    expect(p.epoch).toBe(toWireEpoch(base, records[0]!.epoch));
  }
  expect(got.at(-1)!.seq).toBe(finalSeq);
}

/** Runs a resume property with a printed seed (FC_SEED replays); `run` returns its recovered:false count. */
export async function assertResume<P extends { cuts: number[]; events: number }>(label: string, plans: fc.Arbitrary<P>, run: (plan: P) => Promise<number>): Promise<void> {
  const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
  console.log(`${label}: seed ${seed} (FC_SEED=${seed} to replay), ${RUNS} runs`);
  let recovered = 0;
  let cuts = 0;
  await fc.assert(
    fc.asyncProperty(plans, async (plan) => {
      recovered += await run(plan);
      cuts += plan.cuts.filter((i) => i < plan.events).length;
    }),
    { numRuns: RUNS, seed, verbose: 1, endOnFailure: true },
  );
  console.log(`${label}: ${cuts} forced disconnects, ${recovered} resumes past the ring answered with recovered:false`);
}
