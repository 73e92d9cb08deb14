import { concat, Observable, of, Subject, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { eachValue } from '../../src/index.js';
import { outcome, rejected } from '../helpers/outcome.js';

const DONE = { value: undefined, done: true };

/** A source that counts its subscriptions and reports whether one is still open. */
function counted<T>(inner: Subject<T>) {
  const seen = { subscribed: 0 };
  const source = new Observable<T>((subscriber) => {
    seen.subscribed++;
    return inner.subscribe(subscriber);
  });
  return { source, seen };
}

describe('eachValue: an Observable as an async iterator', () => {
  it('yields values the source sent before the consumer asked, then ends', async () => {
    const it = eachValue(of(1, 2));
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: { value: 1, done: false } });
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: { value: 2, done: false } });
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: DONE });
  });

  it('hands a value to a consumer already waiting for one', async () => {
    const subject = new Subject<number>();
    const it = eachValue(subject);
    const first = it.next();
    expect(await outcome(first)).toEqual({ status: 'pending' });
    subject.next(7);
    expect(await outcome(first)).toStrictEqual({ status: 'fulfilled', value: { value: 7, done: false } });
  });

  it('ends a consumer already waiting when the source completes', async () => {
    const subject = new Subject<number>();
    const it = eachValue(subject);
    const waiting = it.next();
    subject.complete();
    expect(await outcome(waiting)).toStrictEqual({ status: 'fulfilled', value: DONE });
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: DONE });
  });

  it("throws the source's own error to a consumer already waiting, once; later calls are done", async () => {
    const subject = new Subject<number>();
    const it = eachValue(subject);
    const waiting = it.next();
    const boom = new Error('boom');
    subject.error(boom);
    expect(await rejected(waiting)).toBe(boom);
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: DONE });
  });

  it('throws an error that came before the consumer asked, once; later calls are done', async () => {
    const boom = new Error('boom');
    const it = eachValue(concat(of(1), throwError(() => boom)));
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: { value: 1, done: false } });
    expect(await rejected(it.next())).toBe(boom);
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: DONE });
  });

  it("throws Error('stream errored') for a source that errors without a value", async () => {
    const subject = new Subject<number>();
    const it = eachValue(subject);
    const waiting = it.next();
    subject.error(undefined);
    expect(await rejected(waiting)).toEqual(new Error('stream errored'));
  });

  it('returns done before the first next() without ever subscribing, also on a later next()', async () => {
    const { source, seen } = counted(new Subject<number>());
    const it = eachValue(source);
    expect(await outcome(it.return!())).toStrictEqual({ status: 'fulfilled', value: DONE });
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: DONE });
    expect(seen.subscribed).toBe(0);
  });

  it('unsubscribes on return(), drops buffered values and a pending error, and is done after', async () => {
    const subject = new Subject<number>();
    const it = eachValue(subject);
    expect(await outcome(it.next())).toEqual({ status: 'pending' });
    subject.next(1); // taken by the waiting next()
    subject.next(2); // buffered
    expect(await outcome(it.return!())).toStrictEqual({ status: 'fulfilled', value: DONE });
    expect(subject.observed).toBe(false);
    expect(await outcome(it.next())).toStrictEqual({ status: 'fulfilled', value: DONE });

    const boom = new Error('boom');
    const errored = eachValue(concat(of(1), throwError(() => boom)));
    await outcome(errored.next()); // 1; the error waits in the iterator
    await outcome(errored.return!());
    expect(await outcome(errored.next())).toStrictEqual({ status: 'fulfilled', value: DONE });
  });

  it('ends a next() still waiting when the consumer returns', async () => {
    const subject = new Subject<number>();
    const it = eachValue(subject);
    const waiting = it.next();
    await outcome(it.return!());
    expect(await outcome(waiting)).toStrictEqual({ status: 'fulfilled', value: DONE });
  });

  it('drives a for-await loop to the end', async () => {
    const got: number[] = [];
    const loop = (async () => {
      for await (const v of eachValue(of(1, 2, 3))) {
        got.push(v);
        if (got.length > 3) break; // bounded: an iterator that never ends fails here instead of spinning
      }
    })();
    expect(await outcome(loop)).toEqual({ status: 'fulfilled', value: undefined });
    expect(got).toEqual([1, 2, 3]);
  });
});
