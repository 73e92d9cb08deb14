import type { Observable, Subscription } from 'rxjs';

/**
 * An Observable as an async iterator: subscribes on the first `next()`, buffers values
 * the consumer has not pulled yet, ends on complete, throws on error (once: later calls
 * are done). Leaving the loop early (`break`, `return()`) unsubscribes, which for
 * `ref.stream` cancels the request, ends a `next()` still waiting, and after it nothing
 * subscribes again.
 */
export function eachValue<T>(source: Observable<T>): AsyncIterableIterator<T> {
  const buffer: T[] = [];
  let waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  let ended = false;
  /** The source's error until the consumer has been given it. */
  let error: unknown;
  let subscription: Subscription | undefined;

  const done = (): IteratorResult<T> => ({ value: undefined, done: true });
  const takeError = (): unknown => {
    const e = error;
    error = undefined;
    return e;
  };

  const settle = () => {
    if (!waiting) return;
    const w = waiting;
    if (buffer.length > 0) {
      waiting = undefined;
      w.resolve({ value: buffer.shift()!, done: false });
    } else {
      // Reached only with the buffer empty from complete, error or return(), which set
      // `ended` first (a `next` from the source always buffers a value).
      waiting = undefined;
      const e = takeError();
      if (e === undefined) w.resolve(done());
      else w.reject(e);
    }
  };

  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (!ended) {
        subscription ??= source.subscribe({
          next: (v) => {
            buffer.push(v);
            settle();
          },
          error: (e: unknown) => {
            ended = true;
            error = e ?? new Error('stream errored');
            settle();
          },
          complete: () => {
            ended = true;
            settle();
          },
        });
      }
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (ended) {
        const e = takeError();
        return e === undefined ? Promise.resolve(done()) : Promise.reject(e);
      }
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return() {
      subscription?.unsubscribe();
      ended = true;
      error = undefined;
      buffer.length = 0;
      settle();
      return Promise.resolve(done());
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
