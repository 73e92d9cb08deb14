import type { AnyMachineSnapshot } from 'xstate';
import type { Clock } from '../clock.js';
import type { Kind } from '../kinds.js';

/** What the watchdog acts on. @internal */
export interface WatchdogHost {
  readonly kind: Kind;
  readonly status: string;
  passivate(): boolean;
  crash(cause: unknown, stall: { state: string; stallAfterMs: number }): void;
}

/**
 * Two timers per actor at most, neither reset on the hot path: each event only stamps a
 * time, and a timer that fires early re-arms itself for the remainder.
 * - stall: a state whose `meta.stallAfterMs` is set must show progress (a new snapshot,
 *   or a `heartbeat()`) within that time, or the actor is crashed with a stall;
 * - idle: an actor quiet for `idleAfterMs` is passivated.
 * @internal
 */
export class Watchdog {
  private lastActivity = 0;
  private lastProgress = 0;
  private idleTimer: unknown;
  private stallTimer: unknown;
  private stallKey: string | undefined;
  private stallMs = 0;

  constructor(
    private readonly host: WatchdogHost,
    private readonly clock: Clock,
  ) {}

  /** Mailbox activity: postpones passivation. */
  touch(): void {
    if (this.host.kind.idleAfterMs !== undefined) this.lastActivity = this.clock.now();
  }

  /** A new snapshot: activity, progress, and maybe a new state with its own stall deadline. */
  progress(snapshot: AnyMachineSnapshot): void {
    const kind = this.host.kind;
    if (kind.idleAfterMs !== undefined) this.lastActivity = this.clock.now();
    if (!kind.hasStallStates) return;
    this.lastProgress = this.clock.now();
    const ms = snapshot.status === 'active' ? stallAfterMs(snapshot) : undefined;
    if (ms === undefined) return this.clearStall();
    const key = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
    if (key === this.stallKey && ms === this.stallMs && this.stallTimer !== undefined) return;
    this.clearStall();
    this.stallKey = key;
    this.stallMs = ms;
    this.armStall(ms);
  }

  heartbeat(): void {
    this.lastProgress = this.lastActivity = this.clock.now();
  }

  armIdle(): void {
    const idle = this.host.kind.idleAfterMs;
    if (idle === undefined || this.idleTimer !== undefined) return;
    this.lastActivity = this.clock.now();
    this.idleTimer = this.clock.setTimeout(() => this.checkIdle(), idle, 'guard');
  }

  stop(): void {
    this.clearStall();
    if (this.idleTimer !== undefined) {
      this.clock.clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  private checkIdle(): void {
    this.idleTimer = undefined;
    if (this.host.status !== 'running') return;
    const idle = this.host.kind.idleAfterMs!;
    const elapsed = this.clock.now() - this.lastActivity;
    if (elapsed >= idle && this.host.passivate()) return;
    this.idleTimer = this.clock.setTimeout(() => this.checkIdle(), elapsed >= idle ? idle : idle - elapsed, 'guard');
  }

  private armStall(ms: number): void {
    this.stallTimer = this.clock.setTimeout(() => this.checkStall(), ms, 'guard');
  }

  private checkStall(): void {
    this.stallTimer = undefined;
    if (this.host.status !== 'running' || this.stallKey === undefined) return;
    const elapsed = this.clock.now() - this.lastProgress;
    if (elapsed >= this.stallMs) {
      const stall = { state: this.stallKey, stallAfterMs: this.stallMs };
      this.clearStall();
      this.host.crash(new Error(`no progress in '${stall.state}' for ${stall.stallAfterMs} ms`), stall);
    } else this.armStall(this.stallMs - elapsed);
  }

  private clearStall(): void {
    if (this.stallTimer !== undefined) {
      this.clock.clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
    this.stallKey = undefined;
  }
}

function stallAfterMs(snapshot: AnyMachineSnapshot): number | undefined {
  let min: number | undefined;
  const meta = snapshot.getMeta() as Record<string, { stallAfterMs?: unknown } | undefined>;
  for (const m of Object.values(meta)) {
    const v = m?.stallAfterMs;
    if (typeof v === 'number' && v > 0 && (min === undefined || v < min)) min = v;
  }
  return min;
}
