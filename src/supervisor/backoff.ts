import type { BackoffPolicy } from '../kinds.js';

/**
 * Delay before restart number `attempt` (0-based): exponential, capped, with a
 * symmetric jitter of `jitter` × delay so many actors failing together do not restart in
 * lockstep. `random` is injected so tests are deterministic.
 */
export function backoffDelay(policy: Required<BackoffPolicy>, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** attempt);
  const spread = base * policy.jitter;
  return Math.min(policy.maxMs, Math.max(0, base - spread + random() * 2 * spread));
}

/**
 * Restart budget: at most `max` restarts within any `windowMs`. `admit` records a restart
 * and returns its 0-based attempt number within the window, or -1 when the budget is spent.
 */
export class RestartBudget {
  // Stryker disable next-line ArrayDeclaration: a non-number entry is dropped by admit()'s window filter (now - 'text' is NaN)
  private times: number[] = [];

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  admit(now: number): number {
    this.times = this.times.filter((t) => now - t < this.windowMs);
    if (this.times.length >= this.max) return -1;
    this.times.push(now);
    return this.times.length - 1;
  }

  reset(): void {
    // Stryker disable next-line ArrayDeclaration: as above
    this.times = [];
  }
}
