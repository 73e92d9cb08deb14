import type { AnyMachineSnapshot } from 'xstate';
import type { RecordType } from '../bus/records.js';
import type { Clock } from '../clock.js';
import { errors, type InterlockError } from '../errors.js';
import type { Kind } from '../kinds.js';
import { backoffDelay, RestartBudget } from './backoff.js';

/** What supervision counts (the runtime's per-kind stats implement it). @internal */
export interface SupervisionCounters {
  restarts: number;
  stalls: number;
  failures: number;
}

/** What the supervisor acts on. @internal */
export interface SupervisedHost {
  readonly kind: Kind;
  readonly address: string;
  readonly key: string;
  status: 'loading' | 'running' | 'restarting' | 'failed' | 'stopped';
  readonly snapshot: AnyMachineSnapshot | undefined;
  /** Stops the XState actor and its tasks; open turns get the error `why` builds (only built if one is open). The mailbox is kept. */
  teardown(why: () => InterlockError): void;
  startActor(persisted: unknown, input?: { value: unknown }): void;
  /** Rejects everything waiting in the mailbox with `err`. */
  rejectWaiting(err: InterlockError): void;
  publish(type: RecordType, data: unknown): void;
  quiet(): void;
}

/**
 * One actor's supervision: a crash or a stall tears the actor down (open turns get the
 * error, the mailbox is kept), then restarts it after an exponential backoff with
 * jitter, within a restart budget per window; past the budget the actor is failed and
 * everything waiting is rejected. Created at an actor's first crash.
 * @internal
 */
export class Supervisor {
  private readonly budget: RestartBudget;
  private restartTimer: unknown;
  lastError: unknown;
  /** Restarts of this actor so far. */
  restarts = 0;

  constructor(
    private readonly host: SupervisedHost,
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly stats: SupervisionCounters,
  ) {
    this.budget = new RestartBudget(host.kind.maxRestarts, host.kind.windowMs);
  }

  crash(cause: unknown, stall?: { state: string; stallAfterMs: number }): void {
    const host = this.host;
    this.lastError = cause;
    const err = stall ? errors.stalled(host.address, stall.state, stall.stallAfterMs) : errors.crashed(host.address, cause);
    const last = host.snapshot;
    host.teardown(() => err);
    host.publish(stall ? 'lifecycle.stalled' : 'lifecycle.crashed', { error: err.message, ...stall });
    if (stall) this.stats.stalls++;
    const attempt = this.budget.admit(this.clock.now());
    if (attempt < 0) return this.fail();
    host.status = 'restarting';
    const delayMs = backoffDelay(host.kind.backoff, attempt, this.random);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      // Stryker disable next-line ConditionalExpression: defence in depth; every path out of 'restarting' (stop, shutdown, revive) cancels this timer first (cancelRestart in teardown)
      if (host.status !== 'restarting') return;
      this.stats.restarts++;
      this.restarts++;
      host.publish('lifecycle.restarted', { attempt: attempt + 1, delayMs });
      const restartInput = host.kind.restartInput;
      host.startActor(undefined, restartInput && last ? { value: restartInput(last, host.key) } : undefined);
    }, delayMs);
  }

  /** A revived actor starts with a fresh budget. */
  reset(): void {
    this.budget.reset();
  }

  cancelRestart(): void {
    // Stryker disable next-line ConditionalExpression: clearTimeout(undefined) is a no-op on both clocks
    if (this.restartTimer !== undefined) {
      this.clock.clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
  }

  private fail(): void {
    const host = this.host;
    host.status = 'failed';
    this.stats.failures++;
    const err = errors.failed(host.address, this.lastError);
    host.rejectWaiting(err);
    host.publish('lifecycle.failed', { error: err.message });
    host.quiet();
  }
}
