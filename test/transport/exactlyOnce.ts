/**
 * What both resume properties (WebSocket and SSE) check, and how they run: a client's
 * received records against the bus's own record of every record of the address.
 */
import fc from 'fast-check';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, expect } from 'vitest';
import type { BusRecord } from '../../src/index.js';
import type { NextMessage } from '../../src/transport/protocol.js';
import { encodeRecord, toWireEpoch } from '../../src/transport/wireRecord.js';
import { closeAllServers, startServer, vaultKind, type RawClient, type TestServer } from './helpers.js';

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

/**
 * The server of a WebSocket resume property, started before the file's tests and closed
 * after: the vault kind, a `tiny` one with a ring of {@link TINY_RING}, no rate limit; and
 * every record it publishes (`truth`).
 */
export function resumeServer(): { server: TestServer; truth: Map<string, BusRecord[]> } {
  const it = {} as { server: TestServer; truth: Map<string, BusRecord[]> };
  beforeAll(async () => {
    it.server = await startServer({ kinds: { tiny: vaultKind(TINY_RING) as never }, rateLimit: false });
    it.truth = recordAll(it.server.rt);
  });
  afterAll(closeAllServers);
  return it;
}

/** Every record the runtime publishes from now on, by address: what a client's records are checked against. */
export function recordAll(rt: { events$: Observable<BusRecord> }): Map<string, BusRecord[]> {
  const truth = new Map<string, BusRecord[]>();
  rt.events$.subscribe((r) => {
    const list = truth.get(r.address);
    if (list) list.push(r);
    else truth.set(r.address, [r]);
  });
  return truth;
}

const counter = (data: unknown) => (data as { context: { n: number } }).context.n;

/**
 * The client got every record once, in seq order, as the bus has it (through the wire
 * encoding), starting with a snapshot of the current state, and ending at `finalSeq`;
 * except that a resume point that left the ring (only with `mayRecover`) is answered by one
 * snapshot flagged recovered:false with the state at its seq. With `activatedLive` (an
 * address that activated under a live pattern subscription) the first record may instead
 * be the activation's first, seq 1.
 */
export function checkExactlyOnce(got: Received[], records: BusRecord[], base: number, finalSeq: number, mayRecover: boolean, activatedLive = false): void {
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  /** The state after record `seq`: the context of the latest snapshot record at or before it. */
  const n = (seq: number) => {
    for (let q = seq; q > 0; q--) if (bySeq.get(q)?.type === 'snapshot') return counter(bySeq.get(q)!.data);
    return undefined;
  };
  expect(got.length).toBeGreaterThan(0);
  if (activatedLive && got[0]!.type !== 'snapshot') expect(got[0]!.seq, 'a live pattern subscription sees an activation from its first record').toBe(1);
  else {
    expect(got[0]!.type, 'a fresh subscription starts from the current state').toBe('snapshot');
    expect(got[0]!.recovered).toBeUndefined();
    expect(counter(got[0]!.data)).toBe(n(got[0]!.seq));
  }
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

/** When a resume property publishes, cuts its client off, and brings it back. */
export interface CutPlan {
  events: number;
  /** Events between macrotask yields. */
  burst: number;
  /** Cut the client off after these event indexes... */
  cuts: number[];
  /** ...and connect again after this many more events each (cycling). */
  away: number[];
}

/**
 * Publishes `plan.events` events (`publish(i)`), cutting the client off (its socket
 * destroyed, whatever was in flight lost) after each event in `plan.cuts` and connecting
 * again (`connect`) `away` events later. Ends with a client connected, and returns it.
 */
export async function publishWithCuts(plan: CutPlan, publish: (i: number) => void, connect: () => Promise<RawClient>): Promise<RawClient> {
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  let client: RawClient | undefined = await connect();
  let back = -1;
  let cut = 0;
  for (let i = 0; i < plan.events; i++) {
    publish(i);
    if (i === back) client = await connect();
    if (plan.cuts.includes(i) && client) {
      client.terminate();
      client = undefined;
      back = Math.min(i + plan.away[cut++ % plan.away.length]!, plan.events - 1);
      if (back === i) client = await connect();
    }
    if ((i + 1) % plan.burst === 0) await tick();
  }
  return client ?? (await connect());
}

/** Calls `onNext` with each `next` the client receives, as it arrives, as an application processes them: its resume points. */
export function onEachNext(c: RawClient, onNext: (record: NextMessage['payload']) => void): void {
  let read = 0;
  c.ws.on('message', () => {
    for (; read < c.messages.length; read++) {
      const m = c.messages[read]!;
      if (m.type === 'next') onNext(m.payload);
    }
  });
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
