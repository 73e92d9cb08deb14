/**
 * Timing harness shared by every benchmark: a case is a function that runs one
 * repetition and returns its metrics; a group of cases is warmed up once each and then
 * measured with the repetitions interleaved (case A rep 1, case B rep 1, A rep 2, ...), so
 * the slow drift of a noisy VM lands on every case alike.
 */

import { coresBusy, cpuSample } from './load.js';

/** One metric a case reports per repetition. */
export interface Metric {
  /** Stable key, e.g. `eps`. */
  key: string;
  unit: string;
  /** Label appended to the case name in the table ('' for the case's main metric). */
  label?: string;
  /** Whether bigger is better (only used for wording). */
  higherIsBetter?: boolean;
}

export interface Case {
  /** Row id, unique within a suite, e.g. `tell/1 actor/interlock`. */
  id: string;
  /** Human-readable size, e.g. `150,000 tells`. */
  size: string;
  metrics: Metric[];
  /** Runs one repetition; returns the value of every metric. Throws if the correctness check fails. */
  run(): Promise<Record<string, number>>;
  /** Measured repetitions, when not `REPS` (diagnostic rows). */
  reps?: number;
  /** Called once after the last repetition (free actors, runtimes). */
  dispose?(): void | Promise<void>;
}

export interface Row {
  id: string;
  metric: string;
  label: string;
  size: string;
  unit: string;
  samples: number[];
  median: number;
  min: number;
  max: number;
  n: number;
  /** Per measured repetition: cores used by *other* processes on the machine meanwhile (from /proc/stat). */
  otherLoad: number[];
  error?: string;
}

export interface SuiteResult {
  suite: string;
  rows: Row[];
  notes: string[];
  wallMs: number;
  /** CPU time of the suite's process (all threads), ms. */
  cpuMs: number;
}

export const REPS = Number(process.env.BENCH_REPS ?? 5);
export const WARMUPS = 1;

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc (npm run bench does)');
  g();
  g();
}

export function now(): bigint {
  return process.hrtime.bigint();
}

export function msSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** One macrotask turn: every pending microtask (and drain) runs first. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Yields macrotask turns until `done()` or the time limit (then throws). */
export async function until(done: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const t0 = now();
  while (!done()) {
    await tick();
    if (msSince(t0) > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`correctness check failed: ${message}`);
}

/**
 * Runs a group: `WARMUPS` unmeasured repetitions of every case, then `REPS` measured
 * ones, interleaved. A case that throws is recorded as failed and dropped from the group.
 */
export async function runGroup(cases: Case[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<Row[]> {
  const samples = new Map<string, Record<string, number>[]>();
  const loads = new Map<string, number[]>();
  const errors = new Map<string, string>();
  const live = () => cases.filter((c) => !errors.has(c.id));
  const once = async (c: Case, rep: string) => {
    gc();
    try {
      const s0 = cpuSample();
      const c0 = process.cpuUsage();
      const t0 = now();
      const r = await c.run();
      const ms = msSince(t0);
      const own = process.cpuUsage(c0);
      const s1 = cpuSample();
      const other = s0 && s1 && ms > 0 ? Math.max(0, coresBusy(s0, s1) - (own.user + own.system) / 1e3 / ms) : NaN;
      if (!rep.startsWith('warm')) loads.set(c.id, [...(loads.get(c.id) ?? []), other]);
      log(`  ${c.id} [${rep}] ${c.metrics.map((m) => `${m.key}=${fmt(r[m.key]!)}`).join(' ')} (${ms.toFixed(0)} ms, other load ${other.toFixed(2)} cores)`);
      return r;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      errors.set(c.id, msg);
      log(`  ${c.id} [${rep}] FAILED: ${msg}`);
      return undefined;
    }
  };
  for (let w = 0; w < WARMUPS; w++) for (const c of live()) await once(c, 'warm-up');
  const most = Math.max(...cases.map((c) => c.reps ?? REPS));
  for (let rep = 1; rep <= most; rep++) {
    for (const c of live()) {
      if (rep > (c.reps ?? REPS)) continue;
      const r = await once(c, `${rep}/${c.reps ?? REPS}`);
      if (r) samples.set(c.id, [...(samples.get(c.id) ?? []), r]);
    }
  }
  for (const c of cases) await c.dispose?.();
  const rows: Row[] = [];
  for (const c of cases) {
    const runs = samples.get(c.id) ?? [];
    for (const m of c.metrics) {
      const xs = runs.map((r) => r[m.key]!).filter((x) => Number.isFinite(x));
      const err = errors.get(c.id);
      rows.push({
        id: c.id,
        metric: m.key,
        label: m.label ?? '',
        size: c.size,
        unit: m.unit,
        samples: xs,
        median: xs.length ? median(xs) : NaN,
        min: xs.length ? Math.min(...xs) : NaN,
        max: xs.length ? Math.max(...xs) : NaN,
        n: xs.length,
        otherLoad: loads.get(c.id) ?? [],
        ...(err ? { error: err } : {}),
      });
    }
  }
  return rows;
}

/** 3 significant digits with k/M suffixes, for logs and tables. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(x / 1e3).toPrecision(3)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

/** `1,000,000`. */
export function int(n: number): string {
  return n.toLocaleString('en-US');
}
