/** Upper bounds (ms) of the latency buckets, Prometheus style; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000] as const;

/** A cumulative-ready histogram: counts per bucket (non-cumulative), sum and count. */
export class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  sum = 0;
  count = 0;
  max = 0;

  observe(ms: number): void {
    let i = 0;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: past the last bound, `ms > undefined` is false, so the bound check only states the stop the comparison already makes
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.sum += ms;
    this.count++;
    // Stryker disable next-line EqualityOperator: '>=' only re-assigns an equal value (a -0 would need a clock going from +0 back to -0)
    if (ms > this.max) this.max = ms;
  }

  toJSON(): HistogramSnapshot {
    return { buckets: [...LATENCY_BUCKETS_MS], counts: [...this.counts], sum: this.sum, count: this.count, max: this.max };
  }
}

export interface HistogramSnapshot {
  /** Upper bounds in ms; `counts` has one more entry, for +Inf. */
  buckets: number[];
  counts: number[];
  sum: number;
  count: number;
  max: number;
}

/**
 * Counters of one address, which also feed its kind's totals and histograms: one call
 * per event keeps the two in step. Plain numbers, cheap enough to keep per actor.
 */
export class AddressCounters {
  /** Sends refused at the door (mailbox full): never enqueued, so not in `rejected`. */
  refused = 0;
  enqueued = 0;
  delivered = 0;
  rejected = 0;
  replied = 0;
  waitMsSum = 0;
  waitMsMax = 0;
  processingMsSum = 0;
  processingMsMax = 0;

  constructor(private readonly kind: KindStats) {}

  countRefused(): void {
    this.refused++;
    this.kind.refused++;
  }

  countEnqueued(): void {
    this.enqueued++;
    this.kind.enqueued++;
  }

  countDelivered(waitMs: number): void {
    this.delivered++;
    this.waitMsSum += waitMs;
    // Stryker disable next-line EqualityOperator: '>=' only re-assigns an equal value, as in Histogram.observe
    if (waitMs > this.waitMsMax) this.waitMsMax = waitMs;
    this.kind.delivered++;
    this.kind.waitMs.observe(waitMs);
  }

  countReplied(processingMs: number): void {
    this.replied++;
    this.processingMsSum += processingMs;
    // Stryker disable next-line EqualityOperator: '>=' only re-assigns an equal value, as in Histogram.observe
    if (processingMs > this.processingMsMax) this.processingMsMax = processingMs;
    this.kind.replied++;
    this.kind.processingMs.observe(processingMs);
  }

  countRejected(): void {
    this.rejected++;
    this.kind.rejected++;
  }
}

/** Per kind: counters summed over its addresses plus wait and processing histograms. */
export class KindStats {
  refused = 0;
  enqueued = 0;
  delivered = 0;
  rejected = 0;
  replied = 0;
  restarts = 0;
  stalls = 0;
  failures = 0;
  activations = 0;
  passivations = 0;
  readonly waitMs = new Histogram();
  readonly processingMs = new Histogram();
}

export interface AddressStats {
  address: string;
  kind: string;
  epoch: number;
  status: string;
  state: unknown;
  depth: number;
  queued: number;
  postponed: number;
  inFlight: number;
  refused: number;
  enqueued: number;
  delivered: number;
  rejected: number;
  replied: number;
  waitMs: { sum: number; max: number; mean: number };
  processingMs: { sum: number; max: number; mean: number };
}

export interface KindStatsSnapshot {
  kind: string;
  active: number;
  depth: number;
  postponed: number;
  inFlight: number;
  refused: number;
  enqueued: number;
  delivered: number;
  rejected: number;
  replied: number;
  restarts: number;
  stalls: number;
  failures: number;
  activations: number;
  passivations: number;
  waitMs: HistogramSnapshot;
  processingMs: HistogramSnapshot;
}

export interface RuntimeStats {
  kinds: KindStatsSnapshot[];
  addresses: AddressStats[];
}
