/**
 * Time is injected everywhere. The runtime, its mailboxes, the supervisor and the
 * XState actors it creates all read time and schedule timers through one `Clock`, so
 * tests replace real time with a {@link SimulatedClock} instead of sleeping.
 */
export interface Clock {
  /** Milliseconds, monotonic for the runtime's purposes. */
  now(): number;
  /**
   * Schedules `fn`. `role` says what the timer is for:
   * - `'work'` (default): the timer carries work — an XState `after` transition, a restart
   *   after backoff, a simulated model's next token, a source's next poll. It keeps a Node
   *   process alive, so a script whose only pending work is on the clock runs to the end.
   * - `'guard'`: the timer only bounds other work — an ask's deadline, a stall check, idle
   *   passivation, shutdown's drain limit. Whatever it guards is pending on something else
   *   (a task, a caller's I/O) that keeps the process alive if it must; a guard alone must
   *   not hold a finished process open for minutes.
   */
  setTimeout(fn: () => void, ms: number, role?: TimerRole): unknown;
  /** Clearing a handle that already fired or was cleared does nothing (as the global clearTimeout). */
  clearTimeout(handle: unknown): void;
}

export type TimerRole = 'work' | 'guard';

/**
 * The real clock: `performance.now()`-free on purpose so records carry wall time. Work
 * timers are ref'd (they keep the process alive); guard timers are unref'd.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms, role) => {
    const t = setTimeout(fn, ms);
    if (role === 'guard') t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface SimTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  role: TimerRole;
}

/** Lets every queued promise callback and microtask run (one macrotask turn). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A deterministic clock for tests. Timers fire in (time, creation) order only when the
 * test advances time; nothing happens by itself. Timers live in a binary heap, so
 * 100,000 pending deadlines cost O(log n) each.
 */
export class SimulatedClock implements Clock {
  private time: number;
  private seq = 0;
  private heap: SimTimer[] = [];
  private live = 0;

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number, role: TimerRole = 'work'): unknown {
    const timer: SimTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false, role };
    this.push(timer);
    this.live++;
    return timer;
  }

  clearTimeout(handle: unknown): void {
    const timer = handle as SimTimer | undefined;
    if (timer && !timer.cancelled) {
      timer.cancelled = true;
      this.live--;
    }
  }

  /** Number of timers that are scheduled and not cancelled (of one role, if given). */
  pending(role?: TimerRole): number {
    if (role === undefined) return this.live;
    return this.heap.filter((t) => !t.cancelled && t.role === role).length;
  }

  /** When the next live timer is due, or undefined. */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Advances time synchronously, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const next = this.nextAt();
      if (next === undefined || next > target) break;
      this.fireNext();
    }
    this.time = target;
  }

  /**
   * Advances time like {@link advance}, but lets promise callbacks run after each timer
   * fires and before the next one is looked at, the way real time would.
   */
  async tick(ms: number): Promise<void> {
    const target = this.time + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextAt();
      if (next === undefined || next > target) break;
      this.fireNext();
      await flushMicrotasks();
    }
    this.time = target;
    await flushMicrotasks();
  }

  /**
   * Fires timers until none is left, at most `maxTimers` of them (so a self-rescheduling
   * timer cannot hang a test): rejects if one is still pending after that many.
   */
  async runAll(maxTimers = 100_000): Promise<void> {
    await flushMicrotasks();
    for (let fired = 0; this.nextAt() !== undefined; fired++) {
      if (fired >= maxTimers) throw new Error(`SimulatedClock.runAll: still ${this.live} timers after firing ${maxTimers}`);
      this.fireNext();
      await flushMicrotasks();
    }
  }

  /** Fires the first live timer; every caller has just seen nextAt() answer a time, so there is one. */
  private fireNext(): void {
    const timer = this.pop()!;
    this.time = Math.max(this.time, timer.at);
    timer.cancelled = true;
    this.live--;
    timer.fn();
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  /** Earlier first; at the same instant, the one set first. */
  private less(a: SimTimer, b: SimTimer): boolean {
    if (a.at < b.at) return true;
    if (a.at > b.at) return false;
    // Stryker disable next-line EqualityOperator: `<=` only (the same-instant order test kills `>=`): seqs are unique (seq++ per timer) and less() never compares a timer with itself, so two timers never tie
    return a.seq < b.seq;
  }

  private push(t: SimTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): SimTimer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
