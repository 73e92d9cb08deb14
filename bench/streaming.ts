/**
 * Benchmark 5 (issue 8): streaming at scale. Every figure has a bare baseline measured in
 * the same process, interleaved with it, so the ratios are same-run ratios.
 *
 * - Per-token CPU: N sessions of the bundled session machine in one runtime, each sent one
 *   prompt with `ref.stream(...)` and its chunks consumed by a subscriber, streaming from
 *   `simulated({ tokensPerSecond: 50 })` on the system clock; against one async generator
 *   per session sleeping 20 ms (setTimeout) per token and pushing it into an RxJS Subject
 *   with a subscriber. CPU per token = `process.cpuUsage()` over a window / tokens
 *   delivered in it. The runtime's own part: both sides fed by the same generator, whose
 *   tokens all come from one shared 20 ms `setInterval`.
 * - Capacity: the largest size of a ladder at which a window still delivers ≥ 95% of
 *   50 tok/s per session with event-loop lag p99 < 20 ms.
 * - openAICompatible() against raw fetch + eventsource-parser, reading the same SSE
 *   stream from test/fixtures/upstream.ts running in a separate process.
 * - Memory per idle session after one 250-token reply, and per streaming session.
 *
 * `BENCH_QUICK=1` shrinks every size and window (a smoke run, numbers meaningless).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { check, gc, int, msSince, now, type Case, type Metric } from './harness.js';
import { streamApi, type StreamApi } from './streaming-api.js';
import type { Provider, ProviderChunk } from '../src/providers/types.js';

export const QUICK = process.env.BENCH_QUICK === '1';

/** Tokens per second per session, and the gap between tokens. */
export const RATE = 50;
const INTERVAL_MS = 1000 / RATE;
/** After the last session started, before the window opens. */
const WARM_MS = QUICK ? 100 : 500;
export const WINDOW_MS = QUICK ? 200 : 3_000;
export const CAP_WINDOW_MS = QUICK ? 200 : 2_000;
/** Sessions for the per-token CPU rows; the first is the main (goal) size. */
export const CPU_SIZES = QUICK ? [40] : [1_000, 100, 3_000];
export const MAIN_SIZE = CPU_SIZES[0]!;
export const CAP_LADDER = QUICK ? [20, 40] : [250, 500, 1_000, 2_000, 3_000, 5_000];
export const CAP_MIN_DELIVERY = 95;
export const CAP_MAX_LAG_MS = 20;
export const OAI_STREAMS = QUICK ? 5 : 100;
export const OAI_TOKENS = QUICK ? 20 : 200;
export const OAI_DELAY_MS = QUICK ? 2 : 10;
export const MEM_SESSIONS = QUICK ? 100 : 1_000;
export const REPLY_TOKENS = 250;
/** Repetitions of the long rows (extra sizes, capacity); every row gets 1 in quick mode. */
const LONG_REPS = QUICK ? 1 : Math.min(3, Number(process.env.BENCH_REPS ?? 3));
const QUICK_REPS = QUICK ? { reps: 1 } : {};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls on real time (10 ms steps) until `done()`; throws after `limitMs`. */
async function waitFor(done: () => boolean, what: string, limitMs = 30_000): Promise<void> {
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
/** The same tokenizer as simulated(): a fresh array of fresh strings per call (per stream). */
function tokenize(text: string): string[] {
  return text.trim().match(/\s*\S+/g) ?? [];
}

// ---- correctness: every session's tokens arrive in order, none lost or duplicated ----

class Tracker {
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
interface Fleet {
  /** Ends every stream (cancel / stop) and waits until everything is released. */
  stop(): Promise<void>;
}
type Launch = (n: number, tr: Tracker) => Promise<Fleet>;

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

/** Bare baseline source: sleeps 20 ms on its own timer per token, like simulated() does. */
async function* bareTimerTokens(text: string, stop: { stopped: boolean }): AsyncGenerator<string> {
  for (const token of tokenize(text)) {
    await new Promise<void>((resolve) => setTimeout(resolve, INTERVAL_MS));
    if (stop.stopped) return;
    yield token;
  }
}

/** One shared timer for every session: each tick releases the next token of every waiting stream. */
class Ticker {
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
function tickProvider(ticker: Ticker, text: string): Provider {
  return {
    name: 'shared-tick',
    async *stream(_request, signal): AsyncGenerator<ProviderChunk> {
      for (const token of tokenize(text)) {
        await ticker.next();
        if (signal.aborted) return;
        yield { type: 'delta', text: token };
      }
      yield { type: 'done', finishReason: 'stop' };
    },
  };
}

// ---- the two sides ----

/** Sends session `s<i>` one prompt, as a server would, and counts its chunks on `tr`. */
function promptSession(rt: { ref(address: string): { stream(e: { type: 'prompt'; text: string }): Observable<{ type: string; text?: string }> } }, i: number, tr: Tracker): Subscription {
  return rt
    .ref(`session/s${i}`)
    .stream({ type: 'prompt', text: 'hello' })
    .subscribe({
      next: (e) => {
        if (e.type === 'chunk') tr.token(i, e.text!);
      },
      complete: () => tr.completed++,
      error: (err) => tr.fail(err),
    });
}

/** Interlock: the bundled session machine in a runtime; one `ref.stream(prompt)` per session. */
function interlockLaunch(api: StreamApi, provider: () => Provider, spread = true): Launch {
  return async (n, tr) => {
    const machine = api.sessionMachine({ provider: provider() });
    const rt = api.createRuntime({ kinds: { session: { machine, cancelEvent: 'cancel', mailbox: { capacity: 16 } } } });
    const subs: Subscription[] = new Array(n);
    const start = (i: number) => {
      subs[i] = promptSession(rt, i, tr);
    };
    if (spread) await startSpread(n, start);
    else for (let i = 0; i < n; i++) start(i);
    return {
      async stop() {
        for (const s of subs) s.unsubscribe();
        await waitFor(() => {
          for (let i = 0; i < n; i++) if (rt.snapshot(`session/s${i}`)?.value !== 'idle') return false;
          return true;
        }, 'every session idle after its stream was cancelled');
        await rt.shutdown();
      },
    };
  };
}

/** Bare: one async generator per session pushing into an RxJS Subject with a subscriber. */
function bareLaunch(source: (stop: { stopped: boolean }) => AsyncIterable<string>, spread = true): Launch {
  return async (n, tr) => {
    const stop = { stopped: false };
    let ended = 0;
    const start = (i: number) => {
      const subject = new Subject<string>();
      subject.subscribe({ next: (t) => tr.token(i, t), complete: () => tr.completed++, error: (err) => tr.fail(err) });
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
    return {
      async stop() {
        stop.stopped = true;
        await waitFor(() => ended === n, 'every bare generator ended');
      },
    };
  };
}

/** The tick-fed bare generator: the provider's own generator, its deltas pushed as text. */
async function* tickTokens(provider: Provider, stop: { stopped: boolean }): AsyncGenerator<string> {
  const ac = new AbortController();
  for await (const chunk of provider.stream({ messages: [] }, ac.signal)) {
    if (stop.stopped) return;
    if (chunk.type === 'delta') yield chunk.text;
  }
}

// ---- one measured window ----

interface WindowResult {
  cpu: number;
  delivery: number;
  lag: number;
  tokens: number;
}

/** Tokens each reply needs so that no stream runs out before the window closes. */
function replyTokens(windowMs: number): number {
  return Math.ceil((WARM_MS + windowMs + 3_000) / INTERVAL_MS);
}

async function measureWindow(launch: Launch, n: number, windowMs: number, tokens: string[]): Promise<WindowResult> {
  const tr = new Tracker(n, tokens);
  const fleet = await launch(n, tr);
  let stopped = false;
  try {
    await sleep(WARM_MS);
    const lag = monitorEventLoopDelay({ resolution: 5 });
    const k0 = tr.total;
    const c0 = process.cpuUsage();
    const t0 = now();
    lag.enable();
    await sleep(windowMs);
    const k1 = tr.total;
    const cpu = process.cpuUsage(c0);
    const ms = msSince(t0);
    lag.disable();
    const completedInWindow = tr.completed;
    stopped = true;
    await fleet.stop();
    tr.verify({ everySessionAtLeast: 1 });
    check(completedInWindow === 0, `${completedInWindow} streams ran out of tokens before the window closed`);
    const delivered = k1 - k0;
    check(delivered > 0, 'no token delivered in the window');
    return {
      cpu: (cpu.user + cpu.system) / delivered,
      delivery: (100 * delivered) / ((n * RATE * ms) / 1000),
      lag: lag.percentile(99) / 1e6,
      tokens: delivered,
    };
  } finally {
    if (!stopped) await fleet.stop().catch(() => undefined);
  }
}

const cpuMetrics: Metric[] = [
  { key: 'cpu', unit: 'µs/token', label: 'CPU per token' },
  { key: 'delivery', unit: '%', label: 'delivery', higherIsBetter: true },
  { key: 'lag', unit: 'ms', label: 'event-loop lag p99' },
];

export const SIDE = {
  sim: 'interlock session + simulated()',
  bareTimer: 'bare generator (own timer) → Subject',
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
  memTokens: 'the reply tokenized up front (in both of the above)',
} as const;

export const cpuGroupId = (n: number) => `stream per-token CPU ${int(n)} sessions`;
export const CAP_ID = 'stream capacity, sessions at 50 tokens per second';
export const oaiId = () => `stream openAICompatible ${int(OAI_STREAMS)} streams`;
export const MEM_IDLE_ID = `stream memory idle after one ${REPLY_TOKENS}-token reply`;
export const MEM_STREAM_ID = 'stream memory streaming';

function cpuCase(side: string, n: number, launch: (api: StreamApi) => Launch, reps?: number, text = replyText(replyTokens(WINDOW_MS))): Case {
  const tokens = tokenize(text);
  return {
    id: `${cpuGroupId(n)}/${side}`,
    size: `${int(n)} sessions × ${RATE} tok/s, ${WINDOW_MS / 1000} s window`,
    metrics: cpuMetrics,
    ...(reps === undefined ? QUICK_REPS : { reps }),
    async run() {
      const r = await measureWindow(launch(await streamApi()), n, WINDOW_MS, tokens);
      return { cpu: r.cpu, delivery: r.delivery, lag: r.lag };
    },
  };
}

/** Per-token CPU: simulated() vs the own-timer bare generator, and the shared-tick pair. */
function cpuGroups(): Case[][] {
  const text = replyText(replyTokens(WINDOW_MS));
  const simLaunch = (api: StreamApi) => interlockLaunch(api, () => api.simulated({ tokensPerSecond: RATE, text }));
  const bareTimerLaunch = () => bareLaunch((stop) => bareTimerTokens(text, stop));
  const ticker = new Ticker();
  const tickLaunch = (api: StreamApi): Launch => {
    const inner = interlockLaunch(api, () => tickProvider(ticker, text));
    return withTicker(ticker, inner);
  };
  const bareTickLaunch = (): Launch => {
    const provider = tickProvider(ticker, text);
    return withTicker(ticker, bareLaunch((stop) => tickTokens(provider, stop)));
  };
  const groups: Case[][] = [];
  CPU_SIZES.forEach((n, i) => {
    const reps = i === 0 ? undefined : LONG_REPS;
    const group = [cpuCase(SIDE.sim, n, simLaunch, reps, text), cpuCase(SIDE.bareTimer, n, bareTimerLaunch, reps, text)];
    if (i === 0) group.push(cpuCase(SIDE.tick, n, tickLaunch, reps, text), cpuCase(SIDE.bareTick, n, bareTickLaunch, reps, text));
    groups.push(group);
  });
  return groups;
}

/** Runs the shared ticker while the fleet streams. */
function withTicker(ticker: Ticker, launch: Launch): Launch {
  return async (n, tr) => {
    ticker.start();
    const fleet = await launch(n, tr);
    return {
      async stop() {
        await fleet.stop(); // the streams see their stop flag / abort on the next tick and end
        ticker.stop();
      },
    };
  };
}

// ---- capacity ----

function capacityCase(side: string, launch: (api: StreamApi) => Launch): Case {
  const text = replyText(replyTokens(CAP_WINDOW_MS));
  const tokens = tokenize(text);
  let warmedUp = false;
  return {
    id: `${CAP_ID}/${side}`,
    size: `ladder ${CAP_LADDER.map(int).join(', ')}; ${CAP_WINDOW_MS / 1000} s window per size`,
    metrics: [{ key: 'capacity', unit: 'sessions', label: `sessions at ≥ ${CAP_MIN_DELIVERY}% delivery, lag p99 < ${CAP_MAX_LAG_MS} ms`, higherIsBetter: true }],
    reps: LONG_REPS,
    async run() {
      const api = await streamApi();
      // The warm-up repetition climbs only the first two steps (the JIT is warm from the per-token rows).
      const ladder = warmedUp ? CAP_LADDER : CAP_LADDER.slice(0, 2);
      warmedUp = true;
      let capacity = 0;
      for (const n of ladder) {
        const r = await measureWindow(launch(api), n, CAP_WINDOW_MS, tokens);
        const ok = r.delivery >= CAP_MIN_DELIVERY && r.lag < CAP_MAX_LAG_MS;
        process.stderr.write(`    ${side} @ ${int(n)}: delivery ${r.delivery.toFixed(1)}%, lag p99 ${r.lag.toFixed(1)} ms, ${r.cpu.toFixed(1)} µs/token → ${ok ? 'sustained' : 'not sustained'}\n`);
        if (!ok) break;
        capacity = n;
      }
      return { capacity };
    },
  };
}

function capacityGroups(): Case[][] {
  const text = replyText(replyTokens(CAP_WINDOW_MS));
  return [
    [
      capacityCase(SIDE.sim, (api) => interlockLaunch(api, () => api.simulated({ tokensPerSecond: RATE, text }))),
      capacityCase(SIDE.bareTimer, () => bareLaunch((stop) => bareTimerTokens(text, stop))),
    ],
  ];
}

// ---- openAICompatible against raw fetch + eventsource-parser ----

interface Server {
  url: string;
  child: ChildProcess;
}
let server: Promise<Server> | undefined;

function upstream(): Promise<Server> {
  return (server ??= new Promise<Server>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./streaming-upstream.ts', import.meta.url)), [String(OAI_TOKENS), String(OAI_DELAY_MS)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve({ url: (m as { url: string }).url, child }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`upstream server exited with code ${code}`)));
  }));
}

async function stopUpstream(): Promise<void> {
  if (!server) return;
  const s = await server.catch(() => undefined);
  server = undefined;
  if (!s || s.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    s.child.once('exit', () => resolve());
    s.child.disconnect();
  });
}

/** The fixture's content deltas: `w0`, ` w1`, … (test/fixtures/upstream.ts upstreamTokens). */
const oaiTokens = Array.from({ length: OAI_TOKENS }, (_, i) => (i === 0 ? 'w0' : ` w${i}`));

async function rawStream(url: string, i: number, tr: Tracker): Promise<void> {
  const res = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ model: 'fixture', messages: [{ role: 'user', content: 'hello' }], stream: true }),
  });
  if (!res.ok || !res.body) throw new Error(`upstream answered ${res.status}`);
  const subject = new Subject<string>();
  subject.subscribe({ next: (t) => tr.token(i, t), complete: () => tr.completed++ });
  let done = false;
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.data === '[DONE]') {
        done = true;
        return;
      }
      const content = (JSON.parse(ev.data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content;
      if (content) subject.next(content);
    },
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    parser.feed(decoder.decode(r.value, { stream: true }));
  }
  check(done, `stream ${i} ended without [DONE]`);
  subject.complete();
}

function oaiCase(side: string, run: (api: StreamApi, url: string, tr: Tracker) => Promise<void>): Case {
  return {
    id: `${oaiId()}/${side}`,
    size: `${int(OAI_STREAMS)} concurrent streams × ${OAI_TOKENS} tokens, ${OAI_DELAY_MS} ms apart`,
    metrics: [{ key: 'cpu', unit: 'µs/token', label: 'CPU per token' }],
    ...QUICK_REPS,
    async run() {
      const api = await streamApi();
      const { url } = await upstream();
      const tr = new Tracker(OAI_STREAMS, oaiTokens);
      const c0 = process.cpuUsage();
      await run(api, url, tr);
      const cpu = process.cpuUsage(c0);
      tr.verify({ everySessionExactly: OAI_TOKENS, completed: OAI_STREAMS });
      return { cpu: (cpu.user + cpu.system) / tr.total };
    },
  };
}

function oaiGroups(): Case[][] {
  const provider = (api: StreamApi, url: string) => api.openAICompatible({ baseURL: url, model: 'fixture' });
  return [
    [
      oaiCase(SIDE.oaiSession, async (api, url, tr) => {
        const rt = api.createRuntime({ kinds: { session: { machine: api.sessionMachine({ provider: provider(api, url) }), cancelEvent: 'cancel' } } });
        for (let i = 0; i < OAI_STREAMS; i++) promptSession(rt, i, tr);
        await waitFor(() => tr.completed >= OAI_STREAMS || tr.failed !== undefined, 'every session stream completed', 60_000);
        await rt.shutdown();
      }),
      oaiCase(SIDE.oaiProvider, async (api, url, tr) => {
        const p = provider(api, url);
        await Promise.all(
          Array.from({ length: OAI_STREAMS }, async (_, i) => {
            // One signal per stream, as the runtime gives each task its own.
            for await (const chunk of p.stream({ messages: [{ role: 'user', content: 'hello' }] }, new AbortController().signal)) {
              if (chunk.type === 'delta') tr.token(i, chunk.text);
            }
            tr.completed++;
          }),
        );
      }),
      oaiCase(SIDE.oaiRaw, async (_api, url, tr) => {
        await Promise.all(Array.from({ length: OAI_STREAMS }, (_, i) => rawStream(url, i, tr)));
      }),
    ],
  ];
}

// ---- memory ----

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** simulated() with every inter-token delay replaced by one macrotask turn: a 250-token reply without 5 s of waiting. */
const immediateClock = {
  now: () => Date.now(),
  setTimeout: (fn: () => void) => setImmediate(fn),
  clearTimeout: (h: unknown) => clearImmediate(h as NodeJS.Immediate),
};

function memCase(id: string, side: string, size: string, measure: (api: StreamApi) => Promise<number>): Case {
  return {
    id: `${id}/${side}`,
    size,
    metrics: [{ key: 'heap', unit: 'B/session' }],
    ...QUICK_REPS,
    async run() {
      return { heap: await measure(await streamApi()) };
    },
  };
}

function memGroups(): Case[][] {
  const n = MEM_SESSIONS;
  const text = replyText(REPLY_TOKENS);
  const idleSize = `${int(n)} sessions, 1 prompt + 1 reply of ${REPLY_TOKENS} tokens (${text.length} chars)`;
  const idle = [
    memCase(MEM_IDLE_ID, SIDE.memIdle, idleSize, async (api) => {
      const tr = new Tracker(n, tokenize(text));
      const h0 = heapUsed();
      const rt = api.createRuntime({ kinds: { session: { machine: api.sessionMachine({ provider: api.simulated({ text, clock: immediateClock }) }), cancelEvent: 'cancel' } } });
      for (let i = 0; i < n; i++) {
        rt.ref(`session/s${i}`)
          .stream({ type: 'prompt', text: `hello ${i}` })
          .subscribe({
            next: (e) => {
              if (e.type === 'chunk') tr.token(i, (e as { text: string }).text);
            },
            complete: () => tr.completed++,
            error: (err) => tr.fail(err),
          });
      }
      await waitFor(() => tr.completed === n || tr.failed !== undefined, 'every reply complete', 60_000);
      await waitFor(() => rt.snapshot(`session/s${n - 1}`)?.value === 'idle', 'sessions idle');
      const h1 = heapUsed();
      // Checked after the measurement: comparing strings flattens the reply ropes.
      tr.verify({ everySessionExactly: REPLY_TOKENS, completed: n });
      check(rt.size === n, `live sessions ${rt.size} != ${n}`);
      for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 50))) {
        const s = rt.snapshot(`session/s${i}`)!;
        const h = s.context.history as { role: string; content: string }[];
        check(s.value === 'idle' && h.length === 2 && h[0]!.content === `hello ${i}` && h[1]!.content === text, `session ${i}: idle with its prompt and reply in history`);
      }
      await rt.shutdown();
      return (h1 - h0) / n;
    }),
    memCase(MEM_IDLE_ID, SIDE.memIdleBare, idleSize, async () => {
      const tr = new Tracker(n, tokenize(text));
      const h0 = heapUsed();
      const sessions = new Map<string, { history: { role: string; content: string }[] }>();
      const stop = { stopped: false };
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const history = [{ role: 'user', content: `hello ${i}` }];
          sessions.set(`session/s${i}`, { history });
          const subject = new Subject<string>();
          const parts: string[] = [];
          subject.subscribe((t) => {
            tr.token(i, t);
            parts.push(t);
          });
          for await (const t of immediateTokens(text, stop)) subject.next(t);
          subject.complete();
          history.push({ role: 'assistant', content: parts.join('') });
          tr.completed++;
        }),
      );
      const h1 = heapUsed();
      tr.verify({ everySessionExactly: REPLY_TOKENS, completed: n });
      check(sessions.size === n && sessions.get(`session/s${n - 1}`)!.history[1]!.content === text, 'bare history');
      return (h1 - h0) / n;
    }),
    memCase(MEM_IDLE_ID, SIDE.memText, idleSize, async () => {
      const texts: string[] = new Array(2 * n).fill('');
      const h0 = heapUsed();
      // Each session's prompt and reply as flat strings of their own (fresh copies, nothing shared).
      for (let i = 0; i < n; i++) {
        texts[2 * i] = `hello ${i}`;
        texts[2 * i + 1] = Buffer.from(text, 'latin1').toString('latin1');
      }
      const h1 = heapUsed();
      check(texts[2 * n - 1] === text && texts[2 * n - 2] === `hello ${n - 1}`, 'history texts');
      return (h1 - h0) / n;
    }),
  ];
  const streamText = replyText(REPLY_TOKENS);
  const streamSize = `${int(n)} sessions × ${RATE} tok/s, measured ~1 s into a ${REPLY_TOKENS}-token reply`;
  const streaming = [
    memCase(MEM_STREAM_ID, SIDE.memStream, streamSize, (api) => streamingHeap(interlockLaunch(api, () => api.simulated({ tokensPerSecond: RATE, text: streamText })), n, streamText)),
    memCase(MEM_STREAM_ID, SIDE.memStreamBare, streamSize, () => streamingHeap(bareLaunch((stop) => bareTimerTokens(streamText, stop)), n, streamText)),
    memCase(MEM_STREAM_ID, SIDE.memTokens, streamSize, async () => {
      const held: string[][] = new Array(n).fill(undefined);
      const h0 = heapUsed();
      for (let i = 0; i < n; i++) held[i] = tokenize(streamText);
      const h1 = heapUsed();
      check(held[n - 1]!.length === REPLY_TOKENS && held[n - 1]!.join('') === streamText, 'tokenized reply');
      return (h1 - h0) / n;
    }),
  ];
  return [idle, streaming];
}

async function* immediateTokens(text: string, stop: { stopped: boolean }): AsyncGenerator<string> {
  for (const token of tokenize(text)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (stop.stopped) return;
    yield token;
  }
}

async function streamingHeap(launch: Launch, n: number, text: string): Promise<number> {
  const tr = new Tracker(n, tokenize(text));
  const h0 = heapUsed();
  const fleet = await launch(n, tr);
  try {
    await sleep(QUICK ? 150 : 1_000);
    const h1 = heapUsed();
    const completed = tr.completed;
    await fleet.stop();
    tr.verify({ everySessionAtLeast: 1 });
    check(completed === 0, 'a stream ended before the heap was measured');
    return (h1 - h0) / n;
  } catch (err) {
    await fleet.stop().catch(() => undefined);
    throw err;
  }
}

export function streamGroups(): Case[][] {
  const groups = [...cpuGroups(), ...capacityGroups(), ...oaiGroups(), ...memGroups()];
  // The upstream server process goes when its group is done.
  const oai = groups.find((g) => g[0]!.id.startsWith(oaiId()))!;
  oai[oai.length - 1]!.dispose = stopUpstream;
  return groups;
}

export async function streamPrepare(): Promise<string[]> {
  const api = await streamApi();
  return [`Interlock measured: ${api.from}`];
}

/** For `bench/streaming-profile.ts`: one window of `n` Interlock sessions streaming from simulated(). */
export async function interlockSimulatedWindow(n: number, windowMs: number): Promise<WindowResult> {
  const api = await streamApi();
  const text = replyText(replyTokens(windowMs));
  return measureWindow(interlockLaunch(api, () => api.simulated({ tokensPerSecond: RATE, text })), n, windowMs, tokenize(text));
}
