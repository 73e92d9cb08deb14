/**
 * Exactly-once across reconnects through `interlock/client`, against the real Interlock
 * WebSocket server (runtime + attachWebSocket on node:http, port 0): fast-check, FC_RUNS
 * runs (default 200). Each run subscribes one client either to one or two actors
 * (multiplexed on one socket) or to a pattern over one to four actors of one kind (some of
 * which activate only part-way, possibly while the client is away; the first subscription
 * is live, or the caller's own `since: {}`), while they publish records at random rates,
 * and cuts the connection at
 * random points, from either side: the server's TCP socket destroyed, or the client's
 * WebSocket terminated. The client notices, backs off, reconnects and resumes by itself;
 * the test only decides how many more records are published while it is away (the
 * client's timers run on a SimulatedClock, so the reconnect happens when the test advances
 * it) and does not wait for a replay to finish before the next cut.
 *
 * Checked against the runtime's own records (`events$`): per address, the subscriber gets
 * a snapshot first (or, for an actor that activated under a live pattern subscription, its
 * first record), then every record once, in seq order, identical to what the server
 * encodes, unless its resume point fell out of the replay ring (a kind with a ring of 8):
 * then one snapshot flagged `recovered: false` at the current seq, and gapless after it.
 * The seed is printed; FC_SEED replays one.
 */
import fc from 'fast-check';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { SimulatedClock } from '../../src/clock.js';
import { connect, type ClientRecord } from '../../src/client/index.js';
import type { BusRecord } from '../../src/index.js';
import { bootEpoch, encodeRecord, toWireEpoch } from '../../src/transport/wireRecord.js';
import { closeAllServers, startServer, vaultKind, type TestServer } from '../transport/helpers.js';
import { recordAll, RUNS, TINY_RING } from '../transport/exactlyOnce.js';
import { bounded, trackedWebSocket } from './helpers.js';

let s: TestServer;
let truth: Map<string, BusRecord[]>;
/** Server-side TCP sockets of upgraded connections, newest last. */
const serverSockets: Socket[] = [];

beforeAll(async () => {
  s = await startServer({ kinds: { tiny: vaultKind(TINY_RING) as never }, rateLimit: false });
  s.server.on('upgrade', (_req, socket: Socket) => {
    serverSockets.push(socket);
    socket.once('close', () => serverSockets.splice(serverSockets.indexOf(socket), 1));
  });
  truth = recordAll(s.rt);
});
afterAll(closeAllServers);

interface Cut {
  /** After which event (modulo the plan's events). */
  at: number;
  side: 'server' | 'client';
  /** Events published while the client is away. */
  away: number;
}

interface Plan {
  /** Addresses: one subscription per actor, one actor per kind. Else one pattern over all of them, of the first kind. */
  kinds: ('vault' | 'tiny')[];
  pattern: null | {
    /** Per actor: live before the subscription (only with a `since: {}` start), and every how many events it gets one. */
    actors: { early: boolean; every: number; from: number }[];
    /** The caller passes `since: {}` (resume from nothing: live actors start with their snapshot) instead of starting live. */
    resumeStart: boolean;
  };
  events: number;
  /** Events between macrotask yields. */
  burst: number;
  cuts: Cut[];
  jitterSeed: number;
}

const plans: fc.Arbitrary<Plan> = fc.record({
  kinds: fc.array(fc.constantFrom('vault' as const, 'tiny' as const), { minLength: 1, maxLength: 2 }),
  pattern: fc.option(
    fc.record({
      actors: fc.array(fc.record({ early: fc.boolean(), every: fc.integer({ min: 1, max: 3 }), from: fc.integer({ min: 0, max: 40 }) }), { minLength: 1, maxLength: 4 }),
      resumeStart: fc.boolean(),
    }),
  ),
  events: fc.integer({ min: 1, max: 60 }),
  burst: fc.integer({ min: 1, max: 12 }),
  cuts: fc.array(fc.record({ at: fc.integer({ min: 0, max: 59 }), side: fc.constantFrom('server' as const, 'client' as const), away: fc.integer({ min: 0, max: 25 }) }), {
    maxLength: 5,
  }),
  jitterSeed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const waitFor = async (what: string, check: () => boolean) =>
  bounded(
    (async () => {
      while (!check()) await tick();
    })(),
    what,
  );

/** A small seeded PRNG for the client's jitter (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let runs = 0;
/** Cuts actually made, by side (a cut before any socket exists is skipped). */
const made = { server: 0, client: 0 };
/** Addresses checked under a pattern subscription, and those first seen as a snapshot after activating (or losing their first records) while away. */
const patterns = { addresses: 0, activatedAway: 0 };

/** Runs one plan; returns how many recovered:false snapshots the subscribers got. */
async function run(plan: Plan): Promise<number> {
  const prefix = `${plan.kinds[0]}/c${++runs}-`;
  const pattern = plan.pattern;
  const addresses = pattern ? pattern.actors.map((_, i) => `${prefix}${i}`) : plan.kinds.map((k, i) => `${k}/c${runs}-${i}`);
  /** Live before subscribing (so it starts with a snapshot); the others of a pattern activate with their first event. */
  const early = new Set(addresses.filter((_, i) => !pattern || (pattern.resumeStart && pattern.actors[i]!.early)));
  /** Which addresses get event i. */
  const targets = (i: number) => (pattern ? addresses.filter((_, j) => i >= pattern.actors[j]!.from && i % pattern.actors[j]!.every === 0) : addresses);
  for (const a of early) s.rt.tell(a, { type: 'inc' } as never);
  await tick();

  const clock = new SimulatedClock();
  // The client's own WebSockets, remembered so the test can terminate one.
  const { WebSocket: Tracked, sockets } = trackedWebSocket();
  let acks = 0;
  const client = connect(s.url, {
    WebSocket: Tracked,
    clock,
    random: prng(plan.jitterSeed),
    backoff: { initialMs: 10, maxMs: 80 },
    keepAliveMs: 0,
    on: { connected: () => acks++ },
  });
  const got = new Map<string, ClientRecord[]>(addresses.map((a) => [a, []]));
  const errors: unknown[] = [];
  const observer = { next: (r: ClientRecord) => got.get(r.address)!.push(r), error: (e: unknown) => errors.push(e) };
  const subs = pattern
    ? [client.subscribe(`${prefix}*`, pattern.resumeStart ? { since: {} } : {}).subscribe(observer)]
    : addresses.map((a) => client.subscribe(a).subscribe(observer));
  // A round trip behind a pattern subscription: it is in place before anything activates.
  if (pattern) await client.ask('vault/sync', { type: 'get' });

  const publish = async (n: number, from: number) => {
    for (let i = from; i < from + n; i++) {
      for (const a of targets(i)) s.rt.tell(a, { type: 'inc' } as never);
      if ((i + 1) % plan.burst === 0) await tick();
    }
  };
  let published = 0;
  const cuts = plan.cuts.map((c) => ({ ...c, at: c.at % plan.events })).sort((x, y) => x.at - y.at);
  for (const cut of cuts) {
    await publish(cut.at + 1 - published, published);
    published = cut.at + 1;
    const victim = cut.side === 'client' ? sockets.at(-1) : serverSockets.at(-1);
    if (!victim || (cut.side === 'client' && (victim as NodeWebSocket).readyState === NodeWebSocket.CLOSED)) continue;
    const before = acks;
    made[cut.side]++;
    if (cut.side === 'client') (victim as NodeWebSocket).terminate();
    else (victim as Socket).destroy();
    await waitFor('the client to schedule its reconnect', () => clock.pending('work') > 0);
    const away = Math.min(cut.away, plan.events - published);
    await publish(away, published);
    published += away;
    clock.advance((clock.nextAt() ?? clock.now()) - clock.now());
    await waitFor('the reconnect', () => acks > before);
  }
  await publish(plan.events - published, published);
  await tick(); // the last burst's deliveries publish their records
  for (const a of addresses) {
    const view = s.rt.view(a);
    if (!view) {
      expect(got.get(a), `${a} never activated`).toEqual([]);
      continue;
    }
    await waitFor(`${a} to reach seq ${view.seq}`, () => (got.get(a)!.at(-1)?.seq ?? 0) >= view.seq || errors.length > 0);
    expect(errors).toEqual([]);
    check(a, got.get(a)!, view.seq, !early.has(a));
    if (pattern) {
      patterns.addresses++;
      if (!early.has(a) && got.get(a)![0]!.type === 'snapshot') patterns.activatedAway++;
    }
  }
  for (const sub of subs) sub.unsubscribe();
  await client.close();
  return [...got.values()].flat().filter((r) => r.recovered === false).length;
}

/**
 * Gapless and identical to what the server encodes, except where a `recovered: false`
 * snapshot stands for records the ring no longer held; every snapshot the client starts
 * from shows the state at its seq. `activatedLive`: an actor that activated under a live
 * pattern subscription, which may start with its first record (seq 1) instead.
 */
function check(address: string, got: ClientRecord[], finalSeq: number, activatedLive: boolean): void {
  const records = truth.get(address)!;
  const base = bootEpoch(s.rt);
  const wire = new Map(records.map((r) => [r.seq, encodeRecord(r, base)]));
  const snapshots = records.filter((r) => r.type === 'snapshot');
  const stateAt = (seq: number) => (snapshots.filter((r) => r.seq <= seq).at(-1)?.data as { context: { n: number } } | undefined)?.context.n;
  const nOf = (r: ClientRecord) => (r.data as { context: { n: number } }).context.n;

  const fromActivation = activatedLive && got[0]?.type !== 'snapshot';
  if (fromActivation) expect(got[0]?.seq, `${address}: seen live from its activation`).toBe(1);
  else expect(got[0]?.type, `${address}: a fresh subscription starts with the current snapshot`).toBe('snapshot');
  const starts = got.filter((r, i) => (i === 0 && !fromActivation) || r.recovered === false);
  for (const r of starts) expect({ seq: r.seq, n: nOf(r) }).toEqual({ seq: r.seq, n: stateAt(r.seq) });
  const jumps = got.flatMap((r, i) => (i > 0 && r.seq !== got[i - 1]!.seq + 1 ? [{ from: got[i - 1]!.seq, to: r.seq, recovered: r.recovered }] : []));
  for (const j of jumps) {
    expect({ address, ...j }, 'only a recovered:false snapshot may skip, only on a ring of 8, only past the ring').toEqual({ address, ...j, recovered: false });
    expect(address.startsWith('tiny/')).toBe(true);
    expect(j.to - j.from).toBeGreaterThan(TINY_RING);
  }
  const relayed = got.filter((r) => !starts.includes(r));
  expect(relayed.map((r) => JSON.stringify(r))).toEqual(relayed.map((r) => wire.get(r.seq)));
  expect(new Set(got.map((r) => r.epoch))).toEqual(new Set([toWireEpoch(base, records[0]!.epoch)]));
  expect(got.at(-1)!.seq).toBe(finalSeq);
}

describe('resume through interlock/client against the real server', () => {
  it(`delivers every record once, in order per address, to address and pattern subscriptions, across random forced disconnects from either side (${RUNS} runs)`, { timeout: 600_000 }, async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    console.log(`client resume property: seed ${seed} (FC_SEED=${seed} to replay), ${RUNS} runs`);
    let recovered = 0;
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        recovered += await run(plan);
      }),
      { numRuns: RUNS, seed, verbose: 1, endOnFailure: true },
    );
    console.log(`client resume property: ${made.server} server-side and ${made.client} client-side cuts, ${recovered} resumes past the ring answered with recovered:false`);
    console.log(`client resume property: ${patterns.addresses} addresses under a pattern, ${patterns.activatedAway} first seen as a snapshot after activating while away`);
    expect(made.server).toBeGreaterThan(0);
    expect(made.client).toBeGreaterThan(0);
    expect(patterns.activatedAway).toBeGreaterThan(0);
  });
});
