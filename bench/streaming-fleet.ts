/**
 * What both sides of the stream suite run: N streaming sessions, Interlock's or bare, their
 * token sources, and the tracker that checks every session's tokens (bench/streaming.ts
 * measures them; bench/streaming-cancel.ts cancels them).
 */
import { Subject, type Observable, type Subscription } from 'rxjs';
import { check, msSince, now } from './harness.js';
import type { StreamApi } from './streaming-api.js';
import type { Provider, ProviderChunk } from '../src/providers/types.js';

export const QUICK = process.env.BENCH_QUICK === '1';

/** Tokens per second per session, and the gap between tokens. */
export const RATE = 50;
export const INTERVAL_MS = 1000 / RATE;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** One macrotask turn. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Polls on real time (10 ms steps) until `done()`; throws after `limitMs`. */
export async function waitFor(done: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const t0 = now();
  while (!done()) {
    if (msSince(t0) > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** `t0 t1 t2 …`: simulated() cuts it into `t0`, ` t1`, ` t2`, … (whitespace kept with the word). */
export function replyText(n: number): string {
  return Array.from({ length: n }, (_, i) => `t${i}`).join(' ');
}

/** The tokens simulated() emits for `text`, all at once: for checking what arrived (never on a measured path). */
export function tokenize(text: string): string[] {
  return text.trim().match(/\s*\S+/g) ?? [];
}

/**
 * The same tokens read one at a time, as simulated() reads its reply (nothing split up
 * front): the bare sources use this. The suite's texts are words separated by one space,
 * so the next token ends at the next space.
 */
export function* lazyTokens(text: string): Generator<string> {
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf(' ', at + 1);
    if (end === -1) end = text.length;
    yield text.slice(at, end);
    at = end;
  }
}

/** The names of the sides the stream suite measures (row ids). */
export const SIDE = {
  sim: 'interlock session + simulated()',
  bareTimer: 'bare generator (own timer) → Subject',
  bareWheel: 'bare generator (shared per-ms timers, as simulated()) → Subject',
  tick: 'interlock session + shared-tick provider',
  bareTick: 'bare shared-tick generator → Subject',
  oaiSession: 'interlock session + openAICompatible()',
  oaiProvider: 'openAICompatible() alone (for await)',
  oaiRaw: 'raw fetch + eventsource-parser → Subject',
  memIdle: 'interlock session, idle',
  memIdleBare: 'bare: history kept in a Map',
  memText: 'history text alone',
  memStream: 'interlock session + simulated(), streaming',
  memStreamBare: 'bare generator (own timer) → Subject, streaming',
} as const;

// ---- correctness: every session's tokens arrive in order, none lost or duplicated ----

export class Tracker {
  /** Next expected token index per session. */
  readonly next: Int32Array;
  total = 0;
  bad: string | undefined;
  completed = 0;
  failed: unknown;
  constructor(
    readonly n: number,
    readonly tokens: string[],
  ) {
    this.next = new Int32Array(n);
  }
  token(i: number, text: string): void {
    const k = this.next[i]!;
    if (text !== this.tokens[k] && this.bad === undefined) this.bad = `session ${i}: token #${k} was ${JSON.stringify(text)}, expected ${JSON.stringify(this.tokens[k])}`;
    this.next[i] = k + 1;
    this.total++;
  }
  fail(err: unknown): void {
    this.failed ??= err;
  }
  /** Throws unless every token so far arrived in order and the count adds up. */
  verify(opts: { everySessionAtLeast?: number; everySessionExactly?: number; completed?: number }): void {
    check(this.bad === undefined, this.bad ?? '');
    check(this.failed === undefined, `a stream failed: ${this.failed instanceof Error ? this.failed.message : String(this.failed)}`);
    let sum = 0;
    for (let i = 0; i < this.n; i++) {
      const k = this.next[i]!;
      sum += k;
      if (opts.everySessionAtLeast !== undefined) check(k >= opts.everySessionAtLeast, `session ${i} got ${k} tokens, expected at least ${opts.everySessionAtLeast}`);
      if (opts.everySessionExactly !== undefined) check(k === opts.everySessionExactly, `session ${i} got ${k} tokens, expected ${opts.everySessionExactly}`);
    }
    check(sum === this.total, `per-session counts add up to ${sum}, delivered ${this.total}`);
    if (opts.completed !== undefined) check(this.completed === opts.completed, `${this.completed} streams completed, expected ${opts.completed}`);
  }
}

/** A running set of streaming sessions. */
export interface Fleet {
  /** Cancels every stream now, in one synchronous loop (as a mass disconnect would). */
  cancel(): void;
  /** Every stream has been released (Interlock: every session is back in \`idle\`; bare: every generator ended). */
  released(): boolean;
  /** Ends every stream (cancel) and waits until everything is released. */
  stop(): Promise<void>;
}
export type Launch = (n: number, tr: Tracker) => Promise<Fleet>;

/**
 * Starts `n` sessions spread evenly over one token interval (in 20 batches, 1 ms apart),
 * as a server's clients would arrive at random phases, rather than all in one turn (which
 * would make every session's timer fire in the same tick forever after).
 */
async function startSpread(n: number, start: (i: number) => void): Promise<void> {
  const batches = Math.min(n, Math.round(INTERVAL_MS));
  for (let b = 0; b < batches; b++) {
    for (let i = b; i < n; i += batches) start(i);
    await sleep(1);
  }
}

// ---- token sources ----

/** A bare stream's stop switch: `cancel()` ends it at once, clearing the timer it waits on. */
export class BareStop {
  stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** Waits `ms` on a timer of its own (what a hand-written generator does per token). */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }
  cancel(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
  }
}

/** Bare baseline source: sleeps 20 ms on its own timer per token, like simulated() did; reads its text lazily, like simulated() does. */
export async function* bareTimerTokens(text: string, stop: BareStop): AsyncGenerator<string> {
  for (const token of lazyTokens(text)) {
    await stop.sleep(INTERVAL_MS);
    if (stop.stopped) return;
    yield token;
  }
}

/**
 * The bare equivalent of simulated()'s timers (src/providers/TickWheel.ts): every stream
 * due at the same millisecond waits behind one `setTimeout`, instead of one per token.
 */
export class BareWheel {
  private readonly slots = new Map<number, (() => void)[]>();
  /** Resolves `ms` from now, sharing a timer with everything due at that millisecond. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const at = Date.now() + ms;
      let slot = this.slots.get(at);
      if (!slot) {
        const s: (() => void)[] = (slot = []);
        this.slots.set(at, s);
        setTimeout(() => {
          this.slots.delete(at);
          for (let i = 0; i < s.length; i++) s[i]!();
        }, ms);
      }
      slot.push(resolve);
    });
  }
}

/** Bare baseline source on shared timers: like bareTimerTokens, but waiting on the wheel. Stopped streams end at their next token. */
export async function* bareWheelTokens(text: string, wheel: BareWheel, stop: BareStop): AsyncGenerator<string> {
  for (const token of lazyTokens(text)) {
    await wheel.sleep(INTERVAL_MS);
    if (stop.stopped) return;
    yield token;
  }
}

/** One shared timer for every session: each tick releases the next token of every waiting stream. */
export class Ticker {
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  start(): void {
    this.timer ??= setInterval(() => {
      const w = this.waiters;
      this.waiters = [];
      for (let i = 0; i < w.length; i++) w[i]!();
    }, INTERVAL_MS);
  }
  next(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w();
  }
}

/**
 * A provider that costs (almost) nothing: tokens paced by the shared ticker. The bare
 * baseline of the "runtime's own cost" rows iterates this very generator.
 */
export function tickProvider(ticker: Ticker, text: string): Provider {
  return {
    name: 'shared-tick',
    async *stream(_request, signal): AsyncGenerator<ProviderChunk> {
      for (const token of lazyTokens(text)) {
        await ticker.next();
        if (signal.aborted) return;
        yield { type: 'delta', text: token };
      }
      yield { type: 'done', finishReason: 'stop' };
    },
  };
}

/** The tick-fed bare generator: the provider's own generator, its deltas pushed as text. */
export async function* tickTokens(provider: Provider, stop: BareStop): AsyncGenerator<string> {
  const ac = new AbortController();
  for await (const chunk of provider.stream({ messages: [] }, ac.signal)) {
    if (stop.stopped) return;
    if (chunk.type === 'delta') yield chunk.text;
  }
}

// ---- the two sides ----

/**
 * The subscriber of one session's stream. A class rather than an object of arrow functions:
 * the bench itself runs through tsx, whose keepNames gives every such closure a `name`
 * property (~300 B each), which the memory rows would otherwise count on both sides.
 */
class SessionObserver {
  constructor(
    private readonly i: number,
    private readonly tr: Tracker,
  ) {}
  next(e: { type: string; text?: string }): void {
    if (e.type === 'chunk') this.tr.token(this.i, e.text!);
  }
  complete(): void {
    this.tr.completed++;
  }
  error(err: unknown): void {
    this.tr.fail(err);
  }
}

/** The bare side's subscriber (see SessionObserver). */
class TokenObserver {
  constructor(
    private readonly i: number,
    private readonly tr: Tracker,
  ) {}
  next(t: string): void {
    this.tr.token(this.i, t);
  }
  complete(): void {
    this.tr.completed++;
  }
  error(err: unknown): void {
    this.tr.fail(err);
  }
}

/** Sends session `s<i>` one prompt, as a server would, and counts its chunks on `tr`. */
export function promptSession(rt: { ref(address: string): { stream(e: { type: 'prompt'; text: string }): Observable<{ type: string; text?: string }> } }, i: number, tr: Tracker): Subscription {
  return rt.ref(`session/s${i}`).stream({ type: 'prompt', text: 'hello' }).subscribe(new SessionObserver(i, tr));
}

/** Interlock: the bundled session machine in a runtime; one `ref.stream(prompt)` per session. */
export function interlockLaunch(api: StreamApi, provider: () => Provider, spread = true): Launch {
  return async (n, tr) => {
    const machine = api.sessionMachine({ provider: provider() });
    const rt = api.createRuntime({ kinds: { session: { machine, cancelEvent: 'cancel', mailbox: { capacity: 16 } } } });
    const subs: Subscription[] = new Array(n);
    const start = (i: number) => {
      subs[i] = promptSession(rt, i, tr);
    };
    if (spread) await startSpread(n, start);
    else for (let i = 0; i < n; i++) start(i);
    const released = () => {
      for (let i = 0; i < n; i++) if (rt.snapshot(`session/s${i}`)?.value !== 'idle') return false;
      return true;
    };
    const cancel = () => {
      for (const s of subs) s.unsubscribe();
    };
    return {
      cancel,
      released,
      async stop() {
        cancel();
        await waitFor(released, 'every session idle after its stream was cancelled');
        await rt.shutdown();
      },
    };
  };
}

/** Bare: one async generator per session pushing into an RxJS Subject with a subscriber. */
export function bareLaunch(source: (stop: BareStop) => AsyncIterable<string>, spread = true): Launch {
  return async (n, tr) => {
    const stops: BareStop[] = new Array(n);
    let ended = 0;
    const start = (i: number) => {
      const stop = (stops[i] = new BareStop());
      const subject = new Subject<string>();
      subject.subscribe(new TokenObserver(i, tr));
      void (async () => {
        for await (const t of source(stop)) subject.next(t);
        subject.complete();
      })().then(
        () => ended++,
        (err) => {
          tr.fail(err);
          ended++;
        },
      );
    };
    if (spread) await startSpread(n, start);
    else for (let i = 0; i < n; i++) start(i);
    const released = () => ended === n;
    const cancel = () => {
      for (const s of stops) s.cancel();
    };
    return {
      cancel,
      released,
      async stop() {
        cancel();
        await waitFor(released, 'every bare generator ended');
      },
    };
  };
}
