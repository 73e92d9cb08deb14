/**
 * A token bucket on an injected clock: `burst` tokens, refilled at `perSecond`. Every frame
 * a client sends takes one; a client that sends faster than the rate for longer than the
 * burst allows finds it empty.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.at = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const t = this.now();
    // Stryker disable next-line EqualityOperator: at t === this.at the refill adds 0 tokens and sets `at` to the value it has
    if (t > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) * this.perSecond) / 1000);
      this.at = t;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
