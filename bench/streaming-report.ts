/** Section 5 of docs/BENCHMARKS.md (the stream suite, issue 8), with its summary verdicts. */
import { int, type Row, type SuiteResult } from './harness.js';
import { find, num, ratio, sideAndRows, verdict, x2, type Ratio, type Verdict } from './report.js';
import {
  CAP_ID,
  CAP_LADDER,
  CAP_MAX_LAG_MS,
  CAP_MIN_DELIVERY,
  CAP_WINDOW_MS,
  cpuGroupId,
  MEM_IDLE_ID,
  MEM_SESSIONS,
  MEM_STREAM_ID,
  OAI_DELAY_MS,
  OAI_STREAMS,
  OAI_TOKENS,
  oaiId,
  RATE,
  REPLY_TOKENS,
  SIDE,
  WINDOW_MS,
} from './streaming.js';
import { CANCEL_AFTER_MS, CANCEL_SESSIONS, CANCEL_SIDE, cancelId } from './streaming-cancel.js';

export const STREAM_GOALS = { simVsBare: 1.5, ownVsBare: 1.2, capacity: 0.8, oai: 1.3, idleBytes: 8 * 1024, streamingBytes: 10 * 1024 };

const range = (r: Row | undefined) => (r && r.n ? `${num(r.median, r.unit)} (${num(r.min, r.unit)}–${num(r.max, r.unit)})` : '—');

export function streamSection(suite: SuiteResult | undefined): { verdicts: Verdict[]; lines: string[] } {
  const rows = suite?.rows ?? [];
  const verdicts: Verdict[] = [];
  if (!suite) return { verdicts: [{ target: 'streaming at scale (issue 8)', measured: 'the stream suite did not run', ok: undefined }], lines: [] };
  const G = STREAM_GOALS;
  const div = (a: number, b: number) => a / b;
  const sizes = [...new Set(rows.map((r) => /^stream per-token CPU ([\d,]+) sessions\//.exec(r.id)?.[1]).filter((x): x is string => !!x))].map((s) => Number(s.replace(/,/g, '')));
  const main = sizes[0];

  // Side-by-side lines: | figure | Interlock | bare baseline | ratio | goal | verdict |
  const side: string[] = ['| figure | Interlock, median (min–max) | bare baseline, median (min–max) | Interlock / bare | goal | verdict |', '|---|---:|---:|---|---|---|'];
  const line = (figure: string, il: Row | undefined, bare: Row | undefined, r: Ratio | undefined, goal: string, ok: boolean | undefined) =>
    side.push(`| ${figure} | ${range(il)}${il?.error ? ' **FAILED**' : ''} | ${range(bare)}${bare?.error ? ' **FAILED**' : ''} | ${x2(r)} | ${goal} | ${goal ? verdict(ok) : ''} |`);

  for (const n of sizes) {
    const id = cpuGroupId(n);
    for (const [il, bare, goal, what] of [
      [SIDE.sim, SIDE.bareTimer, n === main ? G.simVsBare : undefined, 'simulated() vs own-timer generator'],
      [SIDE.sim, SIDE.bareWheel, undefined, 'simulated() vs generator on shared per-ms timers (same timer strategy)'],
      [SIDE.tick, SIDE.bareTick, n === main ? G.ownVsBare : undefined, "runtime's own cost: both fed by one shared tick"],
    ] as const) {
      const a = find(rows, `${id}/${il}`, 'cpu');
      const b = find(rows, `${id}/${bare}`, 'cpu');
      // A comparison this size does not run (only the main size runs every baseline) is left out; a case that ran and failed still shows.
      const ran = (side: string) => rows.some((r) => r.id === `${id}/${side}`);
      if (!ran(il) || !ran(bare)) continue;
      const r = ratio(a, b, div);
      const ok = r && goal !== undefined ? r.value <= goal : undefined;
      line(`CPU per token, ${int(n)} sessions, ${what} (µs)`, a, b, r, goal === undefined ? '' : `≤ ${goal}×`, ok);
      if (goal !== undefined) verdicts.push({ target: `stream, ${int(n)} sessions: CPU per token, ${what} ≤ ${goal}×`, measured: `${x2(r)}; ${num(a?.median ?? NaN, 'µs')} vs ${num(b?.median ?? NaN, 'µs')} µs/token`, ok });
      for (const [metric, label] of [
        ['delivery', `delivery (% of ${RATE} tok/s)`],
        ['lag', 'event-loop lag p99 (ms)'],
      ] as const) {
        side.push(`| ↳ ${label} | ${range(find(rows, `${id}/${il}`, metric))} | ${range(find(rows, `${id}/${bare}`, metric))} | | | |`);
      }
    }
  }

  const capA = find(rows, `${CAP_ID}/${SIDE.sim}`);
  const capB = find(rows, `${CAP_ID}/${SIDE.bareTimer}`);
  const capR = ratio(capA, capB, div);
  const capOk = capR ? capR.value >= G.capacity : undefined;
  line(`capacity: sessions at ≥ ${CAP_MIN_DELIVERY}% delivery and lag p99 < ${CAP_MAX_LAG_MS} ms`, capA, capB, capR, `≥ ${G.capacity}× (80% of the baseline)`, capOk);
  verdicts.push({ target: `stream capacity (50 tok/s sessions): Interlock + simulated() ≥ ${G.capacity * 100}% of the bare baseline's`, measured: `${x2(capR)}; ${num(capA?.median ?? NaN, 'sessions')} vs ${num(capB?.median ?? NaN, 'sessions')} sessions`, ok: capOk });
  const capW = find(rows, `${CAP_ID}/${SIDE.bareWheel}`);
  line('↳ against a generator on shared per-ms timers (same timer strategy as simulated())', capA, capW, ratio(capA, capW, div), '', undefined);

  const oa = find(rows, `${oaiId()}/${SIDE.oaiSession}`);
  const op = find(rows, `${oaiId()}/${SIDE.oaiProvider}`);
  const or = find(rows, `${oaiId()}/${SIDE.oaiRaw}`);
  const oR = ratio(oa, or, div);
  const oOk = oR ? oR.value <= G.oai : undefined;
  line(`CPU per token, ${int(OAI_STREAMS)} streams from a local SSE server, session + openAICompatible() vs raw fetch + eventsource-parser (µs)`, oa, or, oR, `≤ ${G.oai}×`, oOk);
  line('↳ openAICompatible() alone (no runtime) vs raw fetch + eventsource-parser (µs)', op, or, ratio(op, or, div), '', undefined);
  verdicts.push({ target: `stream, openAICompatible(): CPU per token, session vs raw fetch + eventsource-parser ≤ ${G.oai}×`, measured: `${x2(oR)}; ${num(oa?.median ?? NaN, 'µs')} vs ${num(or?.median ?? NaN, 'µs')} µs/token`, ok: oOk });

  const mi = find(rows, `${MEM_IDLE_ID}/${SIDE.memIdle}`);
  const mb = find(rows, `${MEM_IDLE_ID}/${SIDE.memIdleBare}`);
  const mt = find(rows, `${MEM_IDLE_ID}/${SIDE.memText}`);
  const idleLimit = mt && mt.n ? G.idleBytes + mt.median : NaN;
  const idleOk = mi && mi.n && !mi.error && Number.isFinite(idleLimit) ? mi.median <= idleLimit : undefined;
  line(`heap per idle session after one ${REPLY_TOKENS}-token reply (B); bare = history kept in a Map`, mi, mb, ratio(mi, mb, div), `≤ 8 KB + history text (${num(mt?.median ?? NaN, 'B/session')} B: ≤ ${num(idleLimit, 'B/session')} B)`, idleOk);
  side.push(`| ↳ the history's text alone (prompt + reply as flat strings, B) | ${range(mt)} | | | | |`);
  verdicts.push({ target: `stream memory: idle session after one ${REPLY_TOKENS}-token reply ≤ 8 KB + its history's text`, measured: `${num(mi?.median ?? NaN, 'B/session')} B vs limit ${num(idleLimit, 'B/session')} B (history text ${num(mt?.median ?? NaN, 'B/session')} B); bare ${num(mb?.median ?? NaN, 'B/session')} B`, ok: idleOk });

  const ms = find(rows, `${MEM_STREAM_ID}/${SIDE.memStream}`);
  const msb = find(rows, `${MEM_STREAM_ID}/${SIDE.memStreamBare}`);
  const msOk = ms && ms.n && !ms.error ? ms.median <= G.streamingBytes : undefined;
  line('heap per streaming session (B)', ms, msb, ratio(ms, msb, div), `≤ ${int(G.streamingBytes)} B`, msOk);
  verdicts.push({ target: 'stream memory: a streaming session ≤ 10 KB', measured: `${num(ms?.median ?? NaN, 'B/session')} B vs limit ${int(G.streamingBytes)} B (10 KiB); bare ${num(msb?.median ?? NaN, 'B/session')} B (${x2(ratio(ms, msb, div))})`, ok: msOk });

  const ca = find(rows, `${cancelId()}/${CANCEL_SIDE.interlock}`, 'ms');
  const cb = find(rows, `${cancelId()}/${CANCEL_SIDE.bare}`, 'ms');
  line(`cancel ${int(CANCEL_SESSIONS)} streams at once: until every stream is released (ms)`, ca, cb, ratio(ca, cb, div), '', undefined);
  const cca = find(rows, `${cancelId()}/${CANCEL_SIDE.interlock}`, 'cpu');
  const ccb = find(rows, `${cancelId()}/${CANCEL_SIDE.bare}`, 'cpu');
  line('↳ CPU per cancelled stream (µs)', cca, ccb, ratio(cca, ccb, div), '', undefined);

  const lines = [
    '## 6. streaming at scale (issue 8)',
    '',
    `Sessions of the bundled \`sessionMachine\` (machines/session.ts) in one runtime, kind \`session\` with \`cancelEvent: 'cancel'\`; each is sent one \`prompt\` with \`rt.ref(address).stream(...)\` and a subscriber consumes its \`chunk\` events, as a server would. Every reply is a fixed text \`t0 t1 t2 …\`, long enough that no stream ends inside a window. Sessions start spread evenly over one token interval (20 ms), as clients arriving at random phases would, on both sides.`,
    '',
    `- **simulated() vs own-timer generator**: \`simulated({ tokensPerSecond: ${RATE} })\` on the system clock, against one async generator per session that awaits a ${1000 / RATE} ms \`setTimeout\` per token (after the previous one was consumed, like simulated()) and pushes each token into an RxJS \`Subject\` with one subscriber (the issue's baseline: what a hand-written generator per session does). simulated() shares one clock timer among the streams due at the same millisecond (src/providers/TickWheel.ts), so a second bare baseline does the same: **generator on shared per-ms timers**, one \`setTimeout\` per millisecond that has streams due, each stream awaiting a promise per token. Both bare generators read their reply one token at a time, as simulated() does.`,
    "- **runtime's own cost**: both sides iterate the same provider generator, whose tokens all come from one shared 20 ms `setInterval` (a promise per token, no timer per session); Interlock runs it as the session's provider, the baseline pushes its deltas into a `Subject`. The difference is the session machine, its task, the runtime's routing and the Observable the caller gets.",
    `- **CPU per token** = \`process.cpuUsage()\` (user + system, all threads, so GC included) over a ${WINDOW_MS / 1000} s window that opens 0.5 s after the last session started, divided by the tokens delivered to subscribers in it. **Delivery** = tokens delivered / (sessions × ${RATE} × window). **Lag** = p99 of \`perf_hooks.monitorEventLoopDelay({ resolution: 5 })\` over the window.`,
    `- **Capacity**: each repetition climbs the ladder ${CAP_LADDER.map(int).join(', ')} (a ${CAP_WINDOW_MS / 1000} s window per size) and stops at the first size that delivers < ${CAP_MIN_DELIVERY}% or has lag p99 ≥ ${CAP_MAX_LAG_MS} ms; the figure is the last size that passed (0 if none). The warm-up repetition climbs only the first two sizes. Every step's per-step figures are in the run's log.`,
    `- **openAICompatible()**: ${int(OAI_STREAMS)} concurrent streams of ${OAI_TOKENS} content chunks ${OAI_DELAY_MS} ms apart from test/fixtures/upstream.ts (a real node:http SSE server on 127.0.0.1, port 0, run in a separate process so its CPU is not counted), against raw \`fetch\` + \`eventsource-parser\` reading the same stream into a \`Subject\`. CPU over the whole repetition (connect to [DONE]) / tokens.`,
    `- **Memory**: \`gc()\` twice, \`process.memoryUsage().heapUsed\` before and after, / ${int(MEM_SESSIONS)} sessions. *Idle*: each session streamed one ${REPLY_TOKENS}-token reply from simulated() on a clock that fires every delay on the next macrotask (\`setImmediate\`), then rests in \`idle\` with its history; the bare baseline keeps the same prompt and the reply (joined flat) in a \`Map\`; "history text alone" is the prompt and reply as fresh flat strings. *Streaming*: ~1 s into a ${REPLY_TOKENS}-token reply at ${RATE} tok/s; simulated() reads its reply one token at a time (nothing split up front), and so does the bare generator. Both sides' subscribers are class instances: the bench runs through tsx, whose keepNames would give each arrow-function subscriber ~300 B of \`name\` property.`,
    `- **Cancel**: ${int(CANCEL_SESSIONS)} streaming sessions (simulated() / own-timer generator), cancelled ${CANCEL_AFTER_MS / 1000} s in, all in one synchronous loop, as a mass client disconnect would: Interlock unsubscribes each \`ref.stream()\` (the runtime sends the session its cancel event, the session aborts its task, the provider rejects its pending read, the session returns to \`idle\`); bare stops each generator with its own switch, clearing the timer it waits on. Time from the loop until a check run once per macrotask turn sees every session \`idle\` (bare: every generator ended), and \`process.cpuUsage()\` over that span per stream. Checked: no stream ran out before the cancel, no token reaches a subscriber after it.`,
    '- Checks, every repetition: each session\'s tokens arrive in order with none lost or repeated (compared to the expected token), per-session counts add up to the total, every session got at least one token in the window, no stream failed or ran out early; openAICompatible rows and idle memory rows check that every stream delivered all its tokens and completed; idle sessions are `idle` with exactly their prompt and reply in history (checked after the heap reading, since comparing flattens the reply). A failed check fails the row.',
    `- Run only this suite: \`node --expose-gc --import tsx bench/child.ts stream\` (JSON to stdout, ≈ 6 min; it builds its own bundle of src/ + machines/ into bench/.build/stream/, and like every suite needs bench/.build/index.js from one \`npm run bench\`, or \`BENCH_TARGET=src\`); \`BENCH_QUICK=1\` for a smoke run with tiny sizes and 1 repetition (numbers meaningless; test/bench/stream-suite.smoke.test.ts runs it). Profile the main Interlock case: \`node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/streaming-profile.ts 1000 10000\`, then \`bench/profile-top.ts\` as below.`,
    ...sideAndRows(side, rows),
    ...(suite.notes.length ? [...suite.notes.map((n) => `- ${n}`), ''] : []),
  ];
  return { verdicts, lines };
}
