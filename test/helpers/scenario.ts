import fc from 'fast-check';
import { createRuntime, flushMicrotasks, isInterlockError, SimulatedClock, type Priority, type Runtime } from '../../src/index.js';
import { BusRecorder } from './bus.js';
import { newProbeLog, probeMachine, type Mode, type ProbeLog, type TaskRecord } from './probe.js';

/**
 * Random runs over one runtime: up to 3 addresses of one probe kind, up to 12 caller
 * operations. The caller's operations run in order as one `scheduleSequence`, and the
 * fast-check scheduler decides how they interleave with the probe's async work (each
 * task awaits a promise the scheduler releases) — so asks, aborts, clock advances and
 * passivations land before, between and after the steps of running turns.
 */
export type Op =
  | { k: 'ask'; a: number; mode: Mode; pri: Priority; timeoutMs?: number; sleepMs?: number; abortable: boolean }
  | { k: 'stream'; a: number; mode: Mode; pri: Priority; timeoutMs?: number; sleepMs?: number; abortable: boolean }
  | { k: 'tell'; a: number; mode: Mode; pri: Priority; timeoutMs?: number; sleepMs?: number }
  | { k: 'ping'; a: number; pri: Priority }
  | { k: 'boom'; a: number; pri: Priority }
  | { k: 'abort'; i: number }
  | { k: 'advance'; ms: number }
  | { k: 'tick'; ms: number }
  | { k: 'passivate'; a: number }
  | { k: 'revive'; a: number };

export interface Scenario {
  addresses: number;
  /** Seeds the runtime's `random` (backoff jitter). */
  seed: number;
  ops: Op[];
}

export interface ScenarioOptions {
  /** Modes requests may take. Default: ok (mostly), fail, throw, reject-throw. */
  modes?: readonly Mode[];
  /** Whether ops may be `passivate` and the kind has `idleAfterMs`. Default true. */
  passivation?: boolean;
  /** Whether requests may be clock-paced (`sleepMs`). Default true. */
  sleep?: boolean;
  maxOps?: number;
}

const DEFAULT_MODES: readonly Mode[] = ['ok', 'ok', 'ok', 'ok', 'fail', 'throw', 'reject-throw'];

export function scenarioArb(options: ScenarioOptions = {}): fc.Arbitrary<Scenario> {
  const modes = options.modes ?? DEFAULT_MODES;
  const passivation = options.passivation ?? true;
  const a = fc.nat(2);
  const mode = fc.constantFrom(...modes);
  const pri = fc.constantFrom<Priority>('normal', 'normal', 'normal', 'high', 'low');
  const timeoutMs = fc.option(fc.constantFrom(10, 20, 30, 60), { nil: undefined, freq: 2 });
  // Clock-paced work (a simulated model call of `sleepMs`) instead of scheduler-paced.
  const sleepMs = options.sleep === false ? fc.constant(undefined) : fc.option(fc.constantFrom(10, 20, 30), { nil: undefined, freq: 3 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ k: fc.constant('ask' as const), a, mode, pri, timeoutMs, sleepMs, abortable: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('stream' as const), a, mode, pri, timeoutMs, sleepMs, abortable: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('tell' as const), a, mode, pri, timeoutMs, sleepMs }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('ping' as const), a, pri }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('boom' as const), a, pri }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('abort' as const), i: fc.nat(11) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.constantFrom(1, 5, 10, 20, 40) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.constantFrom(1, 5, 10, 20, 40) }) },
    { weight: passivation ? 1 : 0, arbitrary: fc.record({ k: fc.constant('passivate' as const), a }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('revive' as const), a }) },
  );
  return fc.record({
    addresses: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    ops: fc.array(op, { minLength: 1, maxLength: options.maxOps ?? 12 }),
  });
}

export interface AskOutcome {
  n: number;
  address: string;
  op: Extract<Op, { k: 'ask' }>;
  controller: AbortController;
  aborted: boolean;
  status: 'pending' | 'resolved' | 'rejected';
  value?: unknown;
  error?: unknown;
  /** Settlement callbacks observed (a promise settles once; this guards the harness itself). */
  settlements: number;
}

/** A `stream` subscription; aborting it means unsubscribing. */
export interface StreamOutcome {
  n: number;
  address: string;
  op: Extract<Op, { k: 'stream' }>;
  unsubscribe: () => void;
  /** The subscriber unsubscribed (the caller went away). */
  aborted: boolean;
  chunks: { type: string; n?: number; part?: number }[];
  completions: number;
  errors: unknown[];
}

export interface TellOutcome {
  n: number;
  address: string;
  op: Extract<Op, { k: 'tell' | 'ping' | 'boom' }>;
  /** A coded error thrown synchronously by `tell`, if any. */
  thrown?: unknown;
}

export interface Run {
  rt: Runtime;
  clock: SimulatedClock;
  bus: BusRecorder;
  log: ProbeLog;
  asks: AskOutcome[];
  streams: StreamOutcome[];
  tells: TellOutcome[];
  /** Non-coded errors thrown by the runtime at the caller (always a bug). */
  uncoded: unknown[];
  /** Asks still pending when the scheduler was drained and the clock had no timers left. */
  pendingAtQuiescence: AskOutcome[];
  /** Streams neither completed, errored nor unsubscribed at that point. */
  streamsPendingAtQuiescence: StreamOutcome[];
  /** Whether quiescence was reached within the step budget (timers kept re-arming otherwise). */
  quiescent: boolean;
  addresses: string[];
}

export interface RunOptions {
  /** Declared on the probe's busy/cancelling states. */
  stallAfterMs?: number;
  idleAfterMs?: number;
  maxRestarts?: number;
  /**
   * How quiescence fires due timers: `tick` (default) lets promise callbacks run between
   * timers due at the same instant, as Node's timers do; `advance` fires them all at once.
   */
  settle?: 'tick' | 'advance';
}

/** A small LCG so backoff jitter is reproducible from the scenario's seed. */
export function lcg(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 0x1_0000_0000;
  };
}

function sleep(clock: SimulatedClock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = clock.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clock.clearTimeout(t);
      reject(signal.reason);
    });
  });
}

/**
 * Runs a scenario under the scheduler to quiescence (scheduler drained, no timer left),
 * then shuts the runtime down without draining. Never throws for what the runtime does:
 * the caller asserts on the returned {@link Run}.
 */
export async function runScenario(s: fc.Scheduler, scenario: Scenario, options: RunOptions = {}): Promise<Run> {
  const clock = new SimulatedClock();
  const log = newProbeLog();
  const wait = (task: TaskRecord): Promise<void> => {
    if (task.mode === 'hang') {
      return new Promise<void>((_, reject) => task.signal.addEventListener('abort', () => reject(task.signal.reason)));
    }
    if (task.sleepMs !== undefined) return sleep(clock, task.sleepMs, task.signal);
    return s.schedule(Promise.resolve(), `work#${task.id} ${task.key} n=${task.n} ${task.mode}`).then(() => undefined);
  };
  const passivation = options.idleAfterMs !== undefined;
  const rt = createRuntime({
    clock,
    random: lcg(scenario.seed),
    kinds: {
      probe: {
        machine: probeMachine({ log, wait, stallAfterMs: options.stallAfterMs }),
        input: (key: string) => ({ key }),
        cancelEvent: 'cancel',
        supervision: { maxRestarts: options.maxRestarts ?? 2, windowMs: 1_000, backoff: { initialMs: 5, maxMs: 20, factor: 2, jitter: 0.5 } },
        ...(passivation ? { idleAfterMs: options.idleAfterMs } : {}),
      },
    },
  }) as unknown as Runtime;
  const bus = new BusRecorder(rt.events$);
  const addresses = Array.from({ length: scenario.addresses }, (_, i) => `probe/${String.fromCharCode(97 + i)}`);
  const asks: AskOutcome[] = [];
  const streams: StreamOutcome[] = [];
  const tells: TellOutcome[] = [];
  const uncoded: unknown[] = [];
  const addr = (a: number) => addresses[a % addresses.length]!;

  const apply = async (op: Op, n: number): Promise<void> => {
    switch (op.k) {
      case 'ask': {
        const controller = new AbortController();
        const out: AskOutcome = { n, address: addr(op.a), op, controller, aborted: false, status: 'pending', settlements: 0 };
        asks.push(out);
        const event = { type: 'req', n, mode: op.mode, ...(op.sleepMs === undefined ? {} : { sleepMs: op.sleepMs }) };
        const opts = { priority: op.pri, timeoutMs: op.timeoutMs, signal: op.abortable ? controller.signal : undefined };
        const p = bus.sending({ origin: 'ask', n }, () => rt.ask(out.address, event, opts));
        p.then(
          (value) => {
            out.settlements++;
            out.status = 'resolved';
            out.value = value;
          },
          (error: unknown) => {
            out.settlements++;
            out.status = 'rejected';
            out.error = error;
          },
        );
        return;
      }
      case 'stream': {
        const out: StreamOutcome = {
          n,
          address: addr(op.a),
          op,
          unsubscribe: () => undefined,
          aborted: false,
          chunks: [],
          completions: 0,
          errors: [],
        };
        streams.push(out);
        const event = { type: 'req', n, mode: op.mode, ...(op.sleepMs === undefined ? {} : { sleepMs: op.sleepMs }) };
        const sub = bus.sending({ origin: 'ask', n }, () =>
          rt.stream<{ type: string; n?: number; part?: number }>(out.address, event, { priority: op.pri, timeoutMs: op.timeoutMs }).subscribe({
            next: (e) => out.chunks.push(e),
            complete: () => out.completions++,
            error: (err: unknown) => out.errors.push(err),
          }),
        );
        out.unsubscribe = () => sub.unsubscribe();
        return;
      }
      case 'tell':
      case 'ping':
      case 'boom': {
        const out: TellOutcome = { n, address: addr(op.a), op };
        tells.push(out);
        const event =
          op.k !== 'tell'
            ? { type: op.k, n }
            : { type: 'req', n, mode: op.mode, ...(op.sleepMs === undefined ? {} : { sleepMs: op.sleepMs }) };
        const timeoutMs = op.k === 'tell' ? op.timeoutMs : undefined;
        try {
          bus.sending({ origin: 'tell', n }, () => rt.tell(out.address, event, { priority: op.pri, timeoutMs }));
        } catch (err) {
          out.thrown = err;
          if (!isInterlockError(err)) uncoded.push(err);
        }
        return;
      }
      case 'abort': {
        // The i-th abortable request, in send order: an ask's signal fires, a stream is unsubscribed.
        const abortable = [...asks.filter((x) => x.op.abortable), ...streams.filter((x) => x.op.abortable)].sort((x, y) => x.n - y.n);
        if (abortable.length === 0) return;
        const target = abortable[op.i % abortable.length]!;
        target.aborted = true;
        if ('controller' in target) target.controller.abort();
        else target.unsubscribe();
        return;
      }
      case 'advance':
        clock.advance(op.ms);
        return;
      case 'tick':
        await clock.tick(op.ms);
        return;
      case 'passivate':
        rt.passivate(addr(op.a));
        return;
      case 'revive':
        rt.revive(addr(op.a));
        return;
    }
  };

  s.scheduleSequence(
    scenario.ops.map((op, i) => ({ label: `op${i} ${describeOp(op, addr)}`, builder: () => apply(op, i) })),
  );

  // Quiescence: drain the scheduler, then fire the next instant's timers, until neither has work.
  let quiescent = false;
  for (let step = 0; step < 400; step++) {
    await s.waitAll();
    await flushMicrotasks();
    if (s.count() > 0) continue;
    const at = clock.nextAt();
    if (at === undefined) {
      quiescent = true;
      break;
    }
    if (options.settle === 'advance') clock.advance(at - clock.now());
    else await clock.tick(at - clock.now());
  }
  await flushMicrotasks();
  const pendingAtQuiescence = asks.filter((x) => x.status === 'pending');
  const streamsPendingAtQuiescence = streams.filter((x) => !x.aborted && x.completions + x.errors.length === 0);
  await rt.shutdown({ drain: false });
  await s.waitAll();
  await flushMicrotasks();
  bus.stop();
  return { rt, clock, bus, log, asks, streams, tells, uncoded, pendingAtQuiescence, streamsPendingAtQuiescence, quiescent, addresses };
}

export function describeOp(op: Op, addr: (a: number) => string = (a) => `#${a}`): string {
  switch (op.k) {
    case 'ask':
    case 'stream':
      return `${op.k} ${addr(op.a)} ${op.mode} ${op.pri}${op.timeoutMs ? ` timeout=${op.timeoutMs}` : ''}${op.sleepMs ? ` sleep=${op.sleepMs}` : ''}${op.abortable ? ' abortable' : ''}`;
    case 'tell':
      return `tell ${addr(op.a)} ${op.mode} ${op.pri}${op.timeoutMs ? ` timeout=${op.timeoutMs}` : ''}${op.sleepMs ? ` sleep=${op.sleepMs}` : ''}`;
    case 'ping':
    case 'boom':
      return `${op.k} ${addr(op.a)} ${op.pri}`;
    case 'abort':
      return `abort ask[${op.i}]`;
    case 'advance':
    case 'tick':
      return `${op.k} ${op.ms}ms`;
    case 'passivate':
    case 'revive':
      return `${op.k} ${addr(op.a)}`;
  }
}

/** Per-test timeout that grows with FC_RUNS (about 5 ms a run here; leave room for slow machines). */
export function propertyTimeout(): number {
  return Math.max(60_000, Number(process.env.FC_RUNS ?? 1000) * 40);
}

/**
 * fast-check parameters shared by the property files. `verbose: 1` lists the failures
 * met while shrinking; the error always names the seed and path. To replay a failure:
 * `FC_SEED=<seed> FC_PATH=<path> npx vitest run test/property/<file>`. FC_RUNS sets the
 * number of runs (default 1,000).
 */
export function fcParams<T>(): fc.Parameters<T> {
  const params: fc.Parameters<T> = { numRuns: Number(process.env.FC_RUNS ?? 1000), verbose: 1 };
  if (process.env.FC_SEED !== undefined) params.seed = Number(process.env.FC_SEED);
  if (process.env.FC_PATH !== undefined) params.path = process.env.FC_PATH;
  return params;
}
