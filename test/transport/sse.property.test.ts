/**
 * Exactly-once across reconnects over SSE, with a real `EventSource` (npm `eventsource` v4)
 * that resumes by itself with `Last-Event-ID` (fast-check, FC_RUNS runs, default 200): an
 * actor publishes at a random rate while the server side of the stream is cut at random
 * points (its socket destroyed); the EventSource reconnects (retry 5 ms) and must get every
 * record once, in order, the same as the bus has it, or, when its resume point left a ring
 * of 8, one snapshot flagged `recovered: false` with the state at that seq, then gapless.
 */
import type { Socket } from 'node:net';
import { EventSource } from 'eventsource';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { BusRecord, KindConfig } from '../../src/index.js';
import { bootEpoch } from '../../src/transport/wireRecord.js';
import { assertResume, checkExactlyOnce, RUNS, TINY_RING } from './exactlyOnce.js';
import { closeAll, startGateway, type TestGateway } from '../gateway/helpers.js';
import { until, vaultKind } from './helpers.js';


let gw: TestGateway;
const truth = new Map<string, BusRecord[]>();
const streams = new Set<Socket>();

beforeAll(async () => {
  gw = await startGateway({ kinds: { vault: vaultKind() as KindConfig, tiny: vaultKind(TINY_RING) as KindConfig }, gateway: { eventsRetryMs: 5 } });
  gw.app.server.on('request', (req: { url?: string; socket: Socket }) => {
    if (req.url?.includes('/events')) streams.add(req.socket);
  });
  gw.rt.events$.subscribe((r) => truth.set(r.address, [...(truth.get(r.address) ?? []), r]));
});
afterAll(closeAll);

interface Plan {
  kind: 'vault' | 'tiny';
  events: number;
  burst: number;
  cuts: number[];
}

const plans: fc.Arbitrary<Plan> = fc.record({
  kind: fc.constantFrom('vault' as const, 'tiny' as const),
  events: fc.integer({ min: 1, max: 60 }),
  burst: fc.integer({ min: 1, max: 12 }),
  cuts: fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { maxLength: 3 }),
});

interface Payload {
  address: string;
  epoch: number;
  seq: number;
  type: string;
  data: { context: { n: number } };
  recovered?: false;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
let runs = 0;

async function run(plan: Plan): Promise<number> {
  const address = `${plan.kind}/e${++runs}`;
  gw.rt.tell(address, { type: 'inc' } as never);
  await tick();
  const got: Payload[] = [];
  const es = new EventSource(`${gw.url}/v1/actors/${address}/events`);
  es.onmessage = (e) => got.push(JSON.parse(e.data as string) as Payload);
  try {
    await until(() => got.length > 0);
    for (let i = 0; i < plan.events; i++) {
      gw.rt.tell(address, { type: 'inc' } as never);
      if (plan.cuts.includes(i)) {
        await tick();
        for (const socket of streams) socket.destroy();
        streams.clear();
      }
      if ((i + 1) % plan.burst === 0) await tick();
    }
    await tick();
    const final = gw.rt.view(address)!.seq;
    await until(() => (got.at(-1)?.seq ?? 0) >= final);
  } finally {
    es.close();
  }
  checkExactlyOnce(got, truth.get(address)!, bootEpoch(gw.rt), truth.get(address)!.at(-1)!.seq, plan.kind === 'tiny');
  return got.filter((p) => p.recovered === false).length;
}

describe('resume over SSE with a real EventSource', () => {
  it(`delivers every record once, in order, across random cuts of the stream (${RUNS} runs)`, { timeout: 600_000 }, async () => {
    await assertResume('sse resume property', plans, run);
  });
});
