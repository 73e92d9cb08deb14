import { flushMicrotasks, type SimulatedClock } from '../../src/index.js';

export type Outcome<T = unknown> =
  | { status: 'pending' }
  | { status: 'fulfilled'; value: T }
  | { status: 'rejected'; reason: unknown };

const watched = new WeakMap<Promise<unknown>, Outcome>();

/** Starts tracking `p` (idempotent) and returns its outcome so far, without waiting. */
export function peek<T>(p: Promise<T>): Outcome<T> {
  const known = watched.get(p) as Outcome<T> | undefined;
  if (known) return known;
  watched.set(p, { status: 'pending' });
  p.then(
    (value) => watched.set(p, { status: 'fulfilled', value }),
    (reason: unknown) => watched.set(p, { status: 'rejected', reason }),
  );
  return { status: 'pending' };
}

/**
 * Starts tracking `p` at once and returns it: a rejection that happens before the test
 * looks is recorded, not reported as unhandled.
 */
export function track<T>(p: Promise<T>): Promise<T> {
  peek(p);
  return p;
}

/** Rounds of macrotask turns {@link outcome} lets pass before it calls a promise pending. */
const ROUNDS = 20;

/**
 * What a caller's promise has come to once everything already due has run: promise
 * callbacks, and (with a simulated clock) timers due now, but never time passing. A
 * regression shows as `{ status: 'pending' }` in a failed assertion at once, instead of
 * a test that awaits the promise and hangs to its timeout.
 *
 *   expect(await outcome(answer)).toEqual({ status: 'fulfilled', value: 'done:A' });
 */
export async function outcome<T>(p: Promise<T>, clock?: SimulatedClock): Promise<Outcome<T>> {
  peek(p);
  for (let i = 0; i < ROUNDS && peek(p).status === 'pending'; i++) {
    if (clock) await clock.tick(0);
    else await flushMicrotasks();
  }
  return peek(p);
}

/** The value of a fulfilled outcome; fails with the outcome when it is pending or rejected. */
export async function fulfilled<T>(p: Promise<T>, clock?: SimulatedClock): Promise<T> {
  const o = await outcome(p, clock);
  if (o.status !== 'fulfilled') throw new Error(`expected the promise to be fulfilled, but it is ${describe(o)}`);
  return o.value;
}

/** The reason of a rejected outcome; fails with the outcome when it is pending or fulfilled. */
export async function rejected(p: Promise<unknown>, clock?: SimulatedClock): Promise<unknown> {
  const o = await outcome(p, clock);
  if (o.status !== 'rejected') throw new Error(`expected the promise to be rejected, but it is ${describe(o)}`);
  return o.reason;
}

function describe(o: Outcome): string {
  if (o.status === 'pending') return 'still pending';
  if (o.status === 'fulfilled') return `fulfilled with ${safe(o.value)}`;
  return `rejected with ${safe(o.reason)}`;
}

function safe(v: unknown): string {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    // A cyclic or exotic value: its string form is enough for a failure message.
    return String(v);
  }
}

/**
 * `p` as it stands once everything already due has run: its value, its rejection, or —
 * when it is still pending — a rejection saying so. `await settled(p)` in place of
 * `await p` turns a regression that leaves a caller waiting into a clear failure instead
 * of a test timeout.
 */
export async function settled<T>(p: Promise<T>, clock?: SimulatedClock): Promise<T> {
  const o = await outcome(p, clock);
  if (o.status === 'fulfilled') return o.value;
  if (o.status === 'rejected') throw o.reason;
  throw new Error('expected the promise to be settled, but it is still pending');
}
