/**
 * Other processes on this machine distort every number (the VM has 2 cores). These read
 * machine-wide CPU use from /proc/stat so the run can wait for a quiet machine and the
 * report can say how busy the rest of the machine was while each suite ran.
 */
import { readFileSync } from 'node:fs';

export interface CpuSample {
  busy: number;
  total: number;
  at: number;
}

/** Jiffies since boot over all cores (USER_HZ, 100/s on Linux). */
export function cpuSample(): CpuSample | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest is counted in user)
    return { busy: total - idle, total, at: Date.now() };
  } catch {
    return undefined;
  }
}

/** Cores busy (machine-wide) between two samples. */
export function coresBusy(a: CpuSample, b: CpuSample): number {
  const secs = (b.at - a.at) / 1e3;
  return secs > 0 ? (b.busy - a.busy) / 100 / secs : 0;
}

/** Waits until the machine is quiet (< `maxCores` busy over 2 s) or `limitMs` passed; returns the last reading. */
export async function waitForQuiet(maxCores = 0.15, limitMs = 120_000, log = (s: string) => process.stderr.write(s)): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const a = cpuSample();
    await new Promise((r) => setTimeout(r, 2_000));
    const b = cpuSample();
    if (!a || !b) return NaN;
    const busy = coresBusy(a, b);
    if (busy < maxCores) return busy;
    if (Date.now() - t0 > limitMs) {
      log(`  machine still busy (${busy.toFixed(2)} cores used by other processes); going on anyway\n`);
      return busy;
    }
    log(`  waiting for a quiet machine: ${busy.toFixed(2)} cores busy\n`);
  }
}
