/** Renders docs/BENCHMARKS.md from the suites' rows: one table per benchmark plus verdicts. */
import type { Env } from './env.js';
import { fmt, int, REPS, WARMUPS, type Row, type SuiteResult } from './harness.js';
import { KEYS, PER_KEY } from './ask.js';
import { BACKLOG_SIZES, PER_REP } from './backlog.js';
import { HEAP_ACTORS } from './heap.js';
import { TSX_SUFFIX } from './tell.js';
import { renderGateway } from './report-gateway.js';
import { streamSection } from './streaming-report.js';
import { inspectSection } from './inspect-report.js';
import { inspectorSection } from './inspector-report.js';
import { fanoutSection } from './fanout-report.js';

export interface RunInfo {
  command: string;
  wallMs: number;
  target: 'bundle' | 'src';
  env: Env;
  /** Main suites, in run order. */
  suites: SuiteResult[];
  /** The tell suite run a second time, later in the same invocation. */
  tellRepeat: SuiteResult | undefined;
  /** How busy the machine was around each suite. */
  loads: SuiteLoad[];
  /** src/ hash at the end of the run (src may be edited while the bench runs). */
  srcHashEnd: string;
  /** Time spent waiting for a quiet machine before suites. */
  waitedMs: number;
}

export interface SuiteLoad {
  suite: string;
  wallMs: number;
  /** Cores busy machine-wide in the 2 s before the suite started. */
  quietBefore: number;
  /** Average cores used by the suite's own process while it ran. */
  ownCores: number;
  /** Average cores used by everything else on the machine while it ran. */
  otherCores: number;
}

const TELL_MAX_RATIO = 2;
const ASK_MIN_RATIO = 2;
const FLAT_BAND = 0.2;
const HEAP_MAX_OVERHEAD = 1536;

export function num(x: number, unit: string): string {
  if (!Number.isFinite(x)) return '—';
  if (unit.endsWith('/s')) return fmt(x);
  if (unit.startsWith('B/')) return int(Math.round(x));
  if (unit === '×') return `${x.toFixed(2)}×`;
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function find(rows: Row[], id: string, metric?: string): Row | undefined {
  return rows.find((r) => r.id === id && (metric === undefined || r.metric === metric));
}

export function table(rows: Row[], name: (r: Row) => string = (r) => r.id + (r.label ? ` — ${r.label}` : '')): string {
  const out = ['| case | size | unit | median | min | max | n |', '|---|---|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    const failed = r.error ? ` **FAILED: ${r.error}**` : '';
    out.push(`| ${name(r)}${failed} | ${r.size} | ${r.unit} | ${num(r.median, r.unit)} | ${num(r.min, r.unit)} | ${num(r.max, r.unit)} | ${r.n} |`);
  }
  return out.join('\n');
}

/** The end of a suite's section: its side-by-side table, then every row. */
export const sideAndRows = (side: string[], rows: Row[]): string[] => ['', side.join('\n'), '', 'All rows:', '', table(rows), ''];

/** Ratio of medians, plus the range of per-repetition ratios (repetitions are interleaved, so pairs are neighbours in time). */
export interface Ratio {
  value: number;
  lo: number;
  hi: number;
  ok: boolean;
}

export function ratio(a: Row | undefined, b: Row | undefined, f: (x: number, y: number) => number): Ratio | undefined {
  if (!a || !b || a.error || b.error || !a.n || !b.n) return undefined;
  const value = f(a.median, b.median);
  const pairs = a.samples.length === b.samples.length ? a.samples.map((x, i) => f(x, b.samples[i]!)) : [value];
  return { value, lo: Math.min(...pairs), hi: Math.max(...pairs), ok: true };
}

export const x2 = (r: Ratio | undefined) => (r ? `${r.value.toFixed(2)}× (per-rep ${r.lo.toFixed(2)}–${r.hi.toFixed(2)}×)` : 'n/a (a case failed)');
export const verdict = (ok: boolean | undefined) => (ok === undefined ? '**not measured**' : ok ? '**met**' : '**missed**');

export interface Verdict {
  target: string;
  measured: string;
  ok: boolean | undefined;
}

export function render(run: RunInfo): string {
  const rows = run.suites.flatMap((s) => s.rows);
  const e = run.env;
  const verdicts: Verdict[] = [];
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines);

  // ---- 1. tell ----
  const tellRows = run.suites.find((s) => s.suite === 'tell')?.rows ?? [];
  const tellPairs: [string, string][] = [
    ['tell/1 actor/interlock', 'tell/1 actor/xstate'],
    ['tell/10,000 actors round-robin/interlock', 'tell/10,000 actors round-robin/xstate'],
  ];
  const tellRatios = tellPairs.map(([il, raw]) => ratio(find(rows, raw), find(rows, il), (r, i) => r / i)); // per-event cost = 1/throughput
  tellPairs.forEach(([il], i) => {
    const r = tellRatios[i];
    verdicts.push({
      target: `tell, ${il.split('/')[1]}: per-event cost Interlock / raw XState ≤ ${TELL_MAX_RATIO}×`,
      measured: `${x2(r)}; ${num(find(rows, il)?.median ?? NaN, 'events/s')} vs ${num(find(rows, tellPairs[i]![1])?.median ?? NaN, 'events/s')} events/s`,
      ok: r ? r.value <= TELL_MAX_RATIO : undefined,
    });
  });

  // ---- 2. ask ----
  const askRows = run.suites.find((s) => s.suite === 'ask')?.rows ?? [];
  const askRatio = (w: string, peer: string) =>
    ratio(find(rows, `${w}/interlock`), find(rows, `${w}/${peer}`), (i, x) => i / x);
  const seqId = 'ask seq 1 key';
  const closedId = `ask closed ${int(KEYS)} keys`;
  const openId = `ask open ${int(KEYS)} keys`;
  for (const w of [seqId, closedId]) {
    const r = askRatio(w, 'xstate invoke(fromPromise)');
    verdicts.push({
      target: `${w.replace('ask ', 'ask, ')}: asks/s Interlock / XState invoke(fromPromise) ≥ ${ASK_MIN_RATIO}×`,
      measured: `${x2(r)}; ${num(find(rows, `${w}/interlock`)?.median ?? NaN, 'asks/s')} vs ${num(find(rows, `${w}/xstate invoke(fromPromise)`)?.median ?? NaN, 'asks/s')} asks/s`,
      ok: r ? r.value >= ASK_MIN_RATIO : undefined,
    });
  }

  // ---- 3. backlog ----
  const backlogRows = run.suites.find((s) => s.suite === 'backlog')?.rows ?? [];
  const modes = [
    { name: 'tell burst drained', id: (n: number) => `backlog tell burst drained/${int(n)} queued` },
    { name: 'postponed backlog released', id: (n: number) => `backlog postponed released/${int(n)} postponed` },
  ];
  const flat = modes.map((m) => {
    const meds = BACKLOG_SIZES.map((n) => find(rows, m.id(n), 'deliver'));
    if (meds.some((r) => !r || r.error || !r.n)) return { m, ok: undefined, text: 'n/a (a case failed)' };
    const xs = meds.map((r) => r!.median);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const dev = xs.map((x) => x / mean - 1);
    const ok = dev.every((d) => Math.abs(d) <= FLAT_BAND);
    // Do the sizes' min–max ranges all overlap? Then the differences are within this run's noise.
    const overlap = Math.max(...meds.map((r) => r!.min)) <= Math.min(...meds.map((r) => r!.max));
    const text =
      `${xs.map((x, i) => `${num(x, 'µs')} µs @ ${int(BACKLOG_SIZES[i]!)}`).join(', ')}; ` +
      `deviation from their mean ${dev.map((d) => `${d >= 0 ? '+' : ''}${(d * 100).toFixed(0)}%`).join(' / ')}, ` +
      `largest/smallest ${(Math.max(...xs) / Math.min(...xs)).toFixed(2)}×; ` +
      `the three sizes' min–max ranges ${overlap ? 'overlap' : 'do not all overlap'}`;
    return { m, ok, text };
  });
  for (const f of flat) {
    verdicts.push({ target: `delivery cost per envelope, ${f.m.name}: flat within ±${FLAT_BAND * 100}% from 10 to 100,000`, measured: f.text, ok: f.ok });
  }

  // ---- 4. heap ----
  const heapRows = run.suites.find((s) => s.suite === 'heap')?.rows ?? [];
  const hId = `heap ${int(HEAP_ACTORS)} idle actors`;
  const ilHeap = find(rows, `${hId}/interlock`, 'heap');
  const rawHeap = find(rows, `${hId}/xstate root actors`, 'heap');
  const overhead = ratio(ilHeap, rawHeap, (i, r) => i - r);
  verdicts.push({
    target: `heap per idle activated actor (${int(HEAP_ACTORS)}): Interlock − raw XState ≤ ${int(HEAP_MAX_OVERHEAD)} B`,
    measured: overhead
      ? `${int(Math.round(overhead.value))} B (per-rep ${int(Math.round(overhead.lo))}–${int(Math.round(overhead.hi))}); ${int(Math.round(ilHeap!.median))} vs ${int(Math.round(rawHeap!.median))} B/actor`
      : 'n/a (a case failed)',
    ok: overhead ? overhead.value <= HEAP_MAX_OVERHEAD : undefined,
  });

  // ---- 5. gateway ----
  const gatewaySection = renderGateway(run.suites.find((s) => s.suite === 'gateway')?.rows ?? [], table);
  verdicts.push(...gatewaySection.verdicts);
  // ---- 5. stream (issue 8) ----
  const stream = streamSection(run.suites.find((s) => s.suite === 'stream'));
  verdicts.push(...stream.verdicts);
  // ---- 7. inspect (issue 11) ----
  const inspect = inspectSection(run.suites.find((s) => s.suite === 'inspect'));
  verdicts.push(...inspect.verdicts);
  // ---- 9. fan-out (issue 10) ----
  const fanout = fanoutSection(run.suites.find((s) => s.suite === 'fanout'));
  verdicts.push(...fanout.verdicts);

  // ---- document ----
  const totalMin = (run.wallMs / 60_000).toFixed(1);
  p(
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts). Do not edit by hand: rerun instead. -->',
    '',
    `Generated ${e.date} by \`${run.command}\` in **${totalMin} min** (whole run, one invocation).`,
    '',
    '## Machine and versions',
    '',
    `- **CPU:** ${e.cpu} (${e.cpuMHz} MHz), **${e.cores} cores** visible to Node; **memory** ${e.memGiB} GiB; ${e.kernel}`,
    `- **Node** ${e.node} (V8 ${e.v8})`,
    `- **Packages:** ${Object.entries(e.packages)
      .map(([k, v]) => `${k}@${v}`)
      .join(', ')}`,
    `- **Interlock measured:** ${run.target === 'bundle' ? 'an esbuild bundle of `src/index.ts` built at the start of the run with the options of `esbuild.mjs` (ESM, node20, dependencies external), i.e. the code `npm run build` ships' : '`src/` run through tsx'}; ` +
      `git ${e.git}, src/ sha256 \`${e.srcHash}\`${e.srcDirty.length ? `, with ${e.srcDirty.length} uncommitted change(s) under src/ (${e.srcDirty.map((l) => l.trim()).join('; ')})` : ', clean'}.` +
      (run.srcHashEnd && run.srcHashEnd !== e.srcHash
        ? ` **src/ changed during the run** (sha256 \`${run.srcHashEnd}\` at the end): the bundle rows are the code at the start, but the "(src via tsx)" rows loaded src/ as it was when each suite started.`
        : ''),
    '',
    '## Method',
    '',
    `- Each suite runs in its own child process (\`node --expose-gc --import tsx bench/child.ts <suite>\`), so heap growth and JIT state do not carry over. Timing is \`process.hrtime.bigint()\`; heap is \`process.memoryUsage().heapUsed\` after \`gc()\` twice.`,
    `- Every case gets ${WARMUPS} unmeasured warm-up repetition, then ${REPS} measured ones (unless the n column says otherwise). Within a table group the repetitions are **interleaved** (A1 B1 A2 B2 …), so a slow phase of this noisy VM hits every case alike; the ratios also show the range of per-repetition ratios of those neighbouring pairs. \`gc()\` runs before every repetition, outside the timing.`,
    '- Every repetition checks its own result and throws if it is wrong, so a broken variant cannot post a number: tell counts every event in the machine\'s context (and the runtime\'s delivered counter); every ask checks that its reply equals its request\'s value; backlog checks counts and that nothing ran while the actor was busy; heap checks the live actor count and the state of actors after their one event.',
    '- Sizes were chosen so one repetition takes ~0.2–2 s where the workload allows; the closed/open ask workloads are fixed at 1,000 keys × 100 asks, which takes ~3–8 s per repetition for the XState-based implementations.',
    '- Rerun: `npm run bench` (≈ the time above). One suite by hand: `node --expose-gc --import tsx bench/child.ts tell|ask|backlog|heap|gateway|stream|inspect|inspector|fanout` (JSON to stdout); `BENCH_REPS=n` changes the repetition count; `BENCH_TARGET=src` measures `src/` through tsx instead of the bundle; `node --import tsx bench/run.ts --render` rewrites this page from the raw samples of the last run (bench/.results/last-run.json, not committed) without measuring.',
    '- Treat every number as ±30 %: on this VM medians of separate invocations differed by up to ~1.6× in earlier measurements (shared/research/perf-baselines.md). The tell suite is run twice below to show this run\'s own spread.',
    '',
    '## Summary',
    '',
    '| target | measured (medians) | verdict |',
    '|---|---|---|',
    ...verdicts.map((v) => `| ${v.target} | ${v.measured} | ${verdict(v.ok)} |`),
    '',
  );

  p(
    '## 1. tell throughput',
    '',
    'The same machine definition for both: a 2-state toggle with an `assign` counter. Raw XState: `createActor(machine).start()` then `actor.send(ev)` N times (synchronous processing). Interlock: `createRuntime({ kinds: { t: { machine, mailbox: { capacity: N + 1 } } } })`, the actor activated before the timing, then `rt.tell(address, ev)` N times back to back, and the clock runs until the machine\'s counter shows all N processed (enqueue + full delivery). Round-robin: 10,000 actors created/activated before the timing, event i goes to actor i mod 10,000.',
    '',
    table(tellRows),
    '',
    ...tellPairs.map(([il], i) => `- Per-event cost Interlock / raw XState, ${il.split('/')[1]}: ${x2(tellRatios[i])} — target ≤ ${TELL_MAX_RATIO}×: ${verdict(tellRatios[i] ? tellRatios[i]!.value <= TELL_MAX_RATIO : undefined)}.`),
    ...(tellRatios[1] && tellRatios[1].value < 1.05
      ? [
          '- Across 10,000 actors Interlock can match or beat raw XState because it does not deliver in send order: each actor\'s drain runs all of that actor\'s queued events back to back (one actor\'s machine and snapshot stay hot in cache), whereas raw round-robin `send` touches a different actor on every event.',
        ]
      : []),
    '',
  );
  if (run.tellRepeat) {
    const rep = run.tellRepeat.rows;
    p(
      '**Repeatability.** The tell suite ran a second time in a fresh process at the end of the same invocation:',
      '',
      '| case | run 1 median | run 2 median | run 2 min–max | run 2 / run 1 |',
      '|---|---:|---:|---:|---:|',
      ...tellRows.map((r) => {
        const r2 = find(rep, r.id, r.metric);
        return `| ${r.id} | ${num(r.median, r.unit)} | ${num(r2?.median ?? NaN, r.unit)} | ${num(r2?.min ?? NaN, r.unit)}–${num(r2?.max ?? NaN, r.unit)} | ${r2 ? `${((r2.median / r.median - 1) * 100).toFixed(0)}%` : '—'} |`;
      }),
      '',
      ...tellPairs.map(([il, raw]) => {
        const r2 = ratio(find(rep, raw), find(rep, il), (a, b) => a / b);
        return `- Run 2 per-event cost ratio, ${il.split('/')[1]}: ${x2(r2)}.`;
      }),
      '',
    );
  }

  p(
    '## 2. ask round trips (async work per request)',
    '',
    `Every implementation runs the same work unit, \`async (v) => v\`, serialized per key. *seq*: one key, each ask awaited before the next. *closed*: ${int(KEYS)} keys, each with a loop of ${PER_KEY} asks, one outstanding per key. *open*: the same ${int(KEYS * PER_KEY)} asks issued at once (the implementation must queue per key; plain XState cannot, it would drop a request arriving in \`processing\`).`,
    '',
    '- **interlock**: `idle --chat--> processing`, `processing` has `entry: runTask(async ({ event }) => work(event.v), { done, error })` and `done → idle` with `reply(({ event }) => event.o)`; called as `rt.ask(address, { type: "chat", v })`. Mailbox capacity 1,000; in *open* the requests that arrive while `processing` are postponed by the runtime.',
    '- **xstate invoke(fromPromise)**: same states; `processing` invokes `fromPromise(({ input }) => work(input.v))`; the caller\'s resolve/reject travel in the `chat` event, are assigned to context, and `onDone` calls resolve.',
    '- **xstate-ext**: no child actor; the `chat` transition action starts `work(v).then(o => self.send({ type: "done", o }))`, and `done` resolves (2 transitions per request).',
    '- **p-queue per key** (`new PQueue({ concurrency: 1 })`), **async-mutex per key** (`runExclusive`), **promise chain per key** (`tail = tail.then(run, run)`): a `Map` from the same address strings.',
    '',
    table(askRows),
    '',
    ...[seqId, closedId].map((w) => `- ${w}: Interlock / fromPromise ${x2(askRatio(w, 'xstate invoke(fromPromise)'))} — target ≥ ${ASK_MIN_RATIO}×: ${verdict(askRatio(w, 'xstate invoke(fromPromise)') ? askRatio(w, 'xstate invoke(fromPromise)')!.value >= ASK_MIN_RATIO : undefined)}. For reference, Interlock / xstate-ext ${x2(askRatio(w, 'xstate-ext (action + DONE event)'))}, Interlock / p-queue ${x2(askRatio(w, 'p-queue per key'))}.`),
    `- ${openId}: no XState peer can take this load; Interlock / p-queue ${x2(askRatio(openId, 'p-queue per key'))}, Interlock / closed-workload Interlock ${x2(ratio(find(rows, `${openId}/interlock`), find(rows, `${closedId}/interlock`), (a, b) => a / b))}.`,
    '',
  );
  const askNotes = run.suites.find((s) => s.suite === 'ask')?.notes ?? [];
  if (askNotes.length) p('Serialization check (untimed, before the timed runs):', '', ...askNotes.map((n) => `- ${n}`), '');

  p(
    '## 3. delivery cost per envelope vs. queue length',
    '',
    `One actor; the machine (\`bench/machines.ts\` \`backlogMachine\`) counts each \`req\` and stamps \`process.hrtime.bigint()\` itself when the count reaches the batch's last one, so the span contains deliveries only (no polling). Each repetition processes about ${int(PER_REP)} envelopes (many rounds for small N).`,
    '',
    '- **tell burst drained**: N `tell`s back to back while the actor cannot run (the drain only starts on the next microtask), then the time from the end of the burst to the last one processed. The second row is the cost of the `tell` calls themselves.',
    '- **postponed backlog released**: the actor sits in `busy`, which does not accept `req`; N reqs are told and postponed (second row: tell + postpone, per envelope); then `release` is told and the span from the release transition to the last postponed `req` processed is measured.',
    '',
    table(backlogRows),
    '',
    ...flat.map((f) => `- ${f.m.name}: ${f.text} — target flat within ±${FLAT_BAND * 100}% (each size within ±${FLAT_BAND * 100}% of the mean of the three medians): ${verdict(f.ok)}.`),
    '',
  );

  p(
    '## 4. heap and activation time per idle actor',
    '',
    `Interlock: a fresh runtime, ${int(HEAP_ACTORS)} addresses each activated by one \`tell\` (toggle), all processed, then \`gc()\` twice: (heapUsed after − before) / n. Raw XState: ${int(HEAP_ACTORS)} root actors, \`createActor(machine).start()\` plus the same one event each, kept in a \`Map<address, actor>\`. Activation time: from the first tell (create) to all processed, per actor.`,
    '',
    table(heapRows),
    '',
    `- Interlock's overhead beyond XState's own: ${overhead ? `${int(Math.round(overhead.value))} B/actor (per-rep ${int(Math.round(overhead.lo))}–${int(Math.round(overhead.hi))})` : 'n/a'} — target ≤ ${int(HEAP_MAX_OVERHEAD)} B: ${verdict(overhead ? overhead.value <= HEAP_MAX_OVERHEAD : undefined)}.`,
    `- Activation time Interlock / raw XState: ${x2(ratio(find(rows, `${hId}/interlock`, 'activate'), find(rows, `${hId}/xstate root actors`, 'activate'), (a, b) => a / b))}.`,
    '',
  );
  if (gatewaySection.lines.length) p(...gatewaySection.lines);
  p(...stream.lines);
  p(...inspect.lines);
  p(...inspectorSection(run.suites.find((s) => s.suite === 'inspector')).lines);
  p(...fanout.lines);
  const tsxRows = rows.filter((r) => r.id.endsWith(TSX_SUFFIX));
  p('## Notes', '');
  if (run.tellRepeat) {
    const rep = run.tellRepeat.rows;
    const diffs = tellRows.map((r) => (find(rep, r.id, r.metric)?.median ?? NaN) / r.median - 1).filter(Number.isFinite);
    const r2 = tellPairs.map(([il, raw]) => ratio(find(rep, raw), find(rep, il), (a, b) => a / b));
    const pct = (d: number) => `${d >= 0 ? '+' : ''}${(d * 100).toFixed(0)}%`;
    p(
      `**Repeatability.** The tell suite ran twice in one invocation (section 1): its medians moved by ${pct(Math.min(...diffs))} to ${pct(Math.max(...diffs))} between the two runs, ` +
        `and the per-event cost ratios were ${tellRatios.map((r) => (r ? `${r.value.toFixed(2)}×` : 'n/a')).join(' and ')} in run 1, ${r2.map((r) => (r ? `${r.value.toFixed(2)}×` : 'n/a')).join(' and ')} in run 2 (1 actor and 10,000 actors). ` +
        'Within one run a case\'s min and max are often ±15–30% apart on this VM, so compare ratios of interleaved cases rather than absolute rates across runs.',
      '',
    );
  }
  if (tsxRows.length) {
    const rs = tsxRows.map((r) => ({ r, q: ratio(find(rows, r.id.slice(0, -TSX_SUFFIX.length), r.metric), r, (a, c) => a / c) }));
    const noise = rs.every(({ q }) => q && q.lo <= 1 && q.hi >= 1);
    p(
      `**Bundle vs. \`src/\` through tsx.** The tables measure the bundle. The rows marked "${TSX_SUFFIX.trim()}" run the same source straight from \`src/\` through tsx (what the tests do), interleaved with the bundle rows in the same process. tsx compiles with esbuild's \`keepNames\`, which wraps each function object created at run time in a \`__name(fn, "…")\` call; whether that shows in throughput depends on how many closures the hot path creates. In this run:`,
      '',
      ...rs.map(({ r, q }) => `- ${r.id.slice(0, -TSX_SUFFIX.length)}: bundle / tsx-src throughput ${x2(q)}.`),
      noise ? '- Every per-repetition range includes 1×: no difference beyond this run\'s noise.' : '',
      '',
    );
  }
  const busyRows = rows.filter((r) => r.otherLoad.length && Math.max(...r.otherLoad) > 0.25);
  p(
    `**Machine load.** The VM has ${e.cores} cores, and anything else running on it (tests, a compiler) slows the benchmark process directly. Before each suite the run waits (up to 30 s per suite and 90 s per run; ${Math.round(run.waitedMs / 1e3)} s in total this time) until other processes use < 0.15 core; during each repetition it reads \`/proc/stat\` and records how many cores *other* processes used.`,
    '',
    '| suite | wall | own process (cores) | other processes (cores, average) | other before start |',
    '|---|---:|---:|---:|---:|',
    ...run.loads.map((l) => `| ${l.suite} | ${(l.wallMs / 1e3).toFixed(0)} s | ${l.ownCores.toFixed(2)} | ${l.otherCores.toFixed(2)} | ${l.quietBefore.toFixed(2)} |`),
    '',
    busyRows.length
      ? `Rows with at least one repetition during which other processes used more than 0.25 core (their min/max spread may be load, not the code): ${busyRows
          .filter((r, i, a) => a.findIndex((x) => x.id === r.id) === i)
          .map((r) => `${r.id} (max ${Math.max(...r.otherLoad).toFixed(2)})`)
          .join('; ')}.`
      : 'No measured repetition ran while other processes used more than 0.25 core.',
    '',
  );
  p(
    '**Profiling.** `bench/profile.ts` runs one Interlock workload (`tell-one`, `tell-many`, `ask-seq`, `ask-closed`, `activate`, `backlog-postponed`) for `node --cpu-prof`, and `bench/profile-top.ts` lists the top self-time functions of the resulting `.cpuprofile`:',
    '',
    '```sh',
    'node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts ask-seq',
    'node --import tsx bench/profile-top.ts "$(ls -S /tmp/prof/*.cpuprofile | head -1)" 30',
    '```',
    '',
    '(tsx adds a loader thread, whose profile is the smaller file.)',
    '',
  );
  return out.join('\n');
}

