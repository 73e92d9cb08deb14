/**
 * Applies updates at most once per period: `request()` as often as data arrives; `apply`
 * runs on the trailing edge, at most every `periodMs`, so a flood of records costs one
 * repaint per period. DOM-free; timers are injected for tests.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface Sampler {
  request(): void;
  /** Applies now if a request is pending (e.g. the user changed the filter). */
  flush(): void;
  stop(): void;
}

export function sampler(apply: () => void, periodMs: number, timers: Timers): Sampler {
  let pending = false;
  let timer: unknown;
  let last = -Infinity;
  const run = () => {
    timer = undefined;
    if (!pending) return;
    pending = false;
    last = timers.now();
    apply();
  };
  return {
    request() {
      pending = true;
      if (timer !== undefined) return;
      const wait = Math.max(0, last + periodMs - timers.now());
      timer = timers.setTimeout(run, wait);
    },
    flush() {
      if (timer !== undefined) timers.clearTimeout(timer);
      run();
    },
    stop() {
      pending = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
    },
  };
}
