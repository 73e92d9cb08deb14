/** Shared bits of the scheduled model runs. */
import fc from 'fast-check';
import type { EventObject } from 'xstate';
import type { BusRecord } from '../../src/index.js';
import { flushMicrotasks, type SimulatedClock } from '../../src/index.js';

/** FC_RUNS (default 1,000), FC_SEED and FC_PATH replay a reported failure. */
export function fcParams<T>(): fc.Parameters<T> {
  const params: fc.Parameters<T> = { numRuns: Number(process.env.FC_RUNS ?? 1000), verbose: 1, endOnFailure: false };
  if (process.env.FC_SEED !== undefined) params.seed = Number(process.env.FC_SEED);
  if (process.env.FC_PATH !== undefined) params.path = process.env.FC_PATH;
  return params;
}

/** Releases everything the scheduler holds and fires every timer, until nothing is left. */
export async function quiesce(s: fc.Scheduler, clock: SimulatedClock): Promise<void> {
  for (let round = 0; round < 200; round++) {
    await s.waitAll();
    await flushMicrotasks();
    if (s.count() === 0 && clock.pending() === 0) return;
    await clock.runAll(10_000);
  }
  throw new Error(`never quiet: ${s.count()} scheduled tasks, ${clock.pending()} timers`);
}

export interface Caller {
  n: number;
  events: EventObject[];
  settlements: number;
  status: 'open' | 'resolved' | 'rejected';
  error?: unknown;
  /** The caller unsubscribed from its stream: it is owed nothing more (the runtime cancels the request). */
  unsubscribed?: boolean;
}

/** Every caller settled exactly once, by a reply or an error with a catalogue code. */
export function settlementProblems(callers: Caller[]): string[] {
  const out: string[] = [];
  for (const c of callers) {
    if (c.unsubscribed ? c.settlements > 1 : c.settlements !== 1) out.push(`request #${c.n} settled ${c.settlements} times (${c.status})`);
    if (c.status === 'rejected') {
      const code = (c.error as { code?: unknown })?.code;
      if (typeof code !== 'string' || !code.startsWith('INTERLOCK_')) out.push(`request #${c.n} rejected without a catalogue code: ${String(c.error)}`);
    }
  }
  return out;
}

export function crashes(records: BusRecord[]): string[] {
  return records
    .filter((r) => r.type === 'lifecycle.crashed' || r.type === 'lifecycle.failed')
    .map((r) => `${r.type}: ${(r.data as { error?: string }).error}`);
}

/** Advances the run's simulated clock (the same command for every model run). */
export class Tick<M extends object, R extends { clock: SimulatedClock }> implements fc.AsyncCommand<M, R> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_m: M, r: R) {
    await r.clock.tick(this.ms);
  }
  toString = () => `tick(${this.ms})`;
}
