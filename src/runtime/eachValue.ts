import type { Observable, Subscription } from 'rxjs';

/**
 * An Observable as an async iterator: subscribes on the first `next()`, buffers values
 * the consumer has not pulled yet, ends on complete, throws on error. Leaving the loop
 * early (`break`, `return()`) unsubscribes, which for `ref.stream` cancels the request.
 */
export function eachValue<T>(source: Observable<T>): AsyncIterableIterator<T> {
  const buffer: T[] = [];
  let waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  let ended: { error: unknown } | undefined;
  let subscription: Subscription | undefined;

  const settle = () => {
    if (!waiting) return;
    const w = waiting;
    if (buffer.length > 0) {
      waiting = undefined;
      w.resolve({ value: buffer.shift()!, done: false });
    } else if (ended) {
      waiting = undefined;
      if (ended.error === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(ended.error);
    }
  };

  const iterator: AsyncIterableIterator<T> = {
    next() {
      subscription ??= source.subscribe({
        next: (v) => {
          buffer.push(v);
          settle();
        },
        error: (error: unknown) => {
          ended = { error: error ?? new Error('stream errored') };
          settle();
        },
        complete: () => {
          ended = { error: undefined };
          settle();
        },
      });
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (ended) {
        const e = ended.error;
        ended = { error: undefined }; // an error is thrown once; later calls are done
        return e === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(e);
      }
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return() {
      subscription?.unsubscribe();
      ended ??= { error: undefined };
      buffer.length = 0;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
