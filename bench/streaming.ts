/**
 * Benchmark 5 (issue 8): streaming at scale. Every figure has a bare baseline measured in
 * the same process, interleaved with it, so the ratios are same-run ratios.
 *
 * - Per-token CPU: N sessions of the bundled session machine in one runtime, each sent one
 *   prompt with `ref.stream(...)` and its chunks consumed by a subscriber, streaming from
 *   `simulated({ tokensPerSecond: 50 })` on the system clock; against one async generator
 *   per session sleeping 20 ms (setTimeout) per token and pushing it into an RxJS Subject
 *   with a subscriber, and against the same generator sleeping on shared per-ms timers
 *   (simulated()'s timer strategy). CPU per token = `process.cpuUsage()` over a window /
 *   tokens delivered in it. The runtime's own part: both sides fed by the same generator,
 *   whose tokens all come from one shared 20 ms `setInterval`.
 * - Capacity: the largest size of a ladder at which a window still delivers ≥ 95% of
 *   50 tok/s per session with event-loop lag p99 < 20 ms.
 * - openAICompatible() against raw fetch + eventsource-parser, reading the same SSE
 *   stream from test/fixtures/upstream.ts running in a separate process.
 * - Memory per idle session after one 250-token reply, and per streaming session
 *   (bench/streaming-memory.ts).
 * - Cancelling N streams at once (bench/streaming-cancel.ts).
 * The sessions and bare generators themselves are in bench/streaming-fleet.ts.
 *
 * `BENCH_QUICK=1` shrinks every size and window (a smoke run, numbers meaningless).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import { Subject } from 'rxjs';
import { check, int, msSince, now, type Case, type Metric } from './harness.js';
import { streamApi, type StreamApi } from './streaming-api.js';
import { cancelGroups } from './streaming-cancel.js';
import { memGroups } from './streaming-memory.js';
import {
  bareLaunch,
  bareTimerTokens,
  BareWheel,
  bareWheelTokens,
  INTERVAL_MS,
  interlockLaunch,
  promptSession,
  QUICK,
  RATE,
  replyText,
  SIDE,
  sleep,
  Ticker,
  tickProvider,
  tickTokens,
  tokenize,
  Tracker,
  waitFor,
  type Launch,
} from './streaming-fleet.js';

export { QUICK, RATE, replyText, SIDE };
export { MEM_IDLE_ID, MEM_SESSIONS, MEM_STREAM_ID, REPLY_TOKENS } from './streaming-memory.js';

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
/** Repetitions of the long rows (extra sizes, capacity); every row gets 1 in quick mode. */
const LONG_REPS = QUICK ? 1 : Math.min(3, Number(process.env.BENCH_REPS ?? 3));
const QUICK_REPS = QUICK ? { reps: 1 } : {};

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


export const cpuGroupId = (n: number) => `stream per-token CPU ${int(n)} sessions`;
export const CAP_ID = 'stream capacity, sessions at 50 tokens per second';
export const oaiId = () => `stream openAICompatible ${int(OAI_STREAMS)} streams`;

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
  const bareWheelLaunch = () => {
    const wheel = new BareWheel();
    return bareLaunch((stop) => bareWheelTokens(text, wheel, stop));
  };
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
    if (i === 0) group.push(cpuCase(SIDE.bareWheel, n, bareWheelLaunch, reps, text), cpuCase(SIDE.tick, n, tickLaunch, reps, text), cpuCase(SIDE.bareTick, n, bareTickLaunch, reps, text));
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
      cancel: fleet.cancel,
      released: fleet.released,
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
      capacityCase(SIDE.bareWheel, () => {
        const wheel = new BareWheel();
        return bareLaunch((stop) => bareWheelTokens(text, wheel, stop));
      }),
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

export function streamGroups(): Case[][] {
  const groups = [...cpuGroups(), ...capacityGroups(), ...oaiGroups(), ...memGroups(), ...cancelGroups()];
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
