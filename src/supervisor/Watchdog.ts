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
    // Stryker disable next-line ConditionalExpression: `→ true` only stamps a time no one reads (lastActivity is read by checkIdle alone, which runs only with idleAfterMs set); `→ false` is killed by released.test.ts
    if (this.host.kind.idleAfterMs !== undefined) this.lastActivity = this.clock.now();
  }

  /** A new snapshot: activity, progress, and maybe a new state with its own stall deadline. */
  progress(snapshot: AnyMachineSnapshot): void {
    const kind = this.host.kind;
    // Stryker disable next-line ConditionalExpression: `→ true` only stamps a time no one reads (see touch())
    if (kind.idleAfterMs !== undefined) this.lastActivity = this.clock.now();
    // Stryker disable next-line ConditionalExpression: a fast path; a kind with no stallAfterMs meta gets undefined from stallAfterMs() below and clears nothing
    if (!kind.hasStallStates) return;
    this.lastProgress = this.clock.now();
    // Stryker disable next-line ConditionalExpression: a done or errored snapshot is torn down (stop() clears the timer) in the microtask after it, before any timer can fire
    const ms = snapshot.status === 'active' ? stallAfterMs(snapshot) : undefined;
    if (ms === undefined) return this.clearStall();
    const key = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
    // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator: a fast path; every snapshot is progress, so re-arming for a whole period from now gives the same deadline
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
    // Stryker disable next-line ConditionalExpression: armIdle runs once per incarnation, after stop() (teardown) cleared the idle timer; the timer is never set here
    if (idle === undefined || this.idleTimer !== undefined) return;
    this.lastActivity = this.clock.now();
    this.idleTimer = this.clock.setTimeout(() => this.checkIdle(), idle, 'guard');
  }

  stop(): void {
    this.clearStall();
    // Stryker disable next-line ConditionalExpression: clearTimeout(undefined) is a no-op on both clocks
    if (this.idleTimer !== undefined) {
      this.clock.clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  private checkIdle(): void {
    this.idleTimer = undefined;
    // Stryker disable next-line ConditionalExpression: stop() clears both timers on every path out of 'running' (teardown), so a timer never fires in another status
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
    // Stryker disable next-line ConditionalExpression,LogicalOperator: as in checkIdle; and stallKey is cleared only with the timer (clearStall)
    if (this.host.status !== 'running' || this.stallKey === undefined) return;
    const elapsed = this.clock.now() - this.lastProgress;
    if (elapsed >= this.stallMs) {
      const stall = { state: this.stallKey, stallAfterMs: this.stallMs };
      this.clearStall();
      // Stryker disable next-line StringLiteral: the message reaches only the log; the caller gets INTERLOCK_ACTOR_STALLED with state and stallAfterMs (supervision.test.ts checks them)
      this.host.crash(new Error(`no progress in '${stall.state}' for ${stall.stallAfterMs} ms`), stall);
    } else this.armStall(this.stallMs - elapsed);
  }

  private clearStall(): void {
    // Stryker disable next-line ConditionalExpression: clearTimeout(undefined) is a no-op on both clocks
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
    // Stryker disable next-line OptionalChaining: XState's getMeta() holds only the states that have meta
    const v = m?.stallAfterMs;
    // Stryker disable next-line EqualityOperator: `v <= min` picks an equal value: the same minimum
    if (typeof v === 'number' && v > 0 && (min === undefined || v < min)) min = v;
  }
  return min;
}
