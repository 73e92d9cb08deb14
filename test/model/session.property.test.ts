/**
 * Scheduled model runs of the session machine (seed 002) in a real runtime.
 *
 * fast-check generates a sequence of caller commands (prompts, caller aborts and
 * unsubscribes, cancels and disconnects without an id, naming the running request or
 * naming nobody, close, clock ticks) under a
 * random busy × disconnect policy, and `fc.scheduler()` decides when each provider chunk
 * and each stream's end arrive relative to them. Each stream has a random plan: how many
 * chunks, whether it ends with done or an error, and whether it honours its abort signal
 * (a stubborn one keeps streaming after the abort, like seed 002's model server). After
 * the commands everything is released and every timer fired. Then:
 * - never two provider streams live at once (started and neither closed nor aborted);
 * - on the bus and at each subscriber, no chunk of a stream after its end or fence, and
 *   none of stream g after stream g+1 started;
 * - every prompt's stream settles exactly once, completing or erroring with a catalogue code;
 * - a prompt is cancelled only by its caller, or by a cancel, disconnect or close sent after
 *   it (one naming a request counts only for that request; one naming nobody, never);
 * - the actor never crashes.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { AnyEventObject, EventObject } from 'xstate';
import { sessionMachine, type BusyPolicy, type DisconnectPolicy, type SessionContext } from '../../machines/session.js';
import { type ActorHandle, createRuntime, errors, SimulatedClock, type BusRecord, type Runtime } from '../../src/index.js';
import type { Provider, ProviderChunk } from '../../src/providers/types.js';
import { crashes, fcParams, quiesce, settlementProblems, Tick, type Caller } from './props.js';

interface Plan {
  chunks: number;
  outcome: 'done' | 'error';
  honourAbort: boolean;
}

interface StreamRec {
  n: number;
  signal: AbortSignal;
  closed: boolean;
}

interface World {
  s: fc.Scheduler;
  plans: Plan[];
  streams: StreamRec[];
  violations: string[];
}

interface Real {
  rt: { shutdown: Runtime['shutdown'] };
  clock: SimulatedClock;
  ref: ActorHandle<AnyEventObject>;
  callers: (Caller & { abort: AbortController; unsubscribe: () => void; since: number; selfAborted: boolean })[];
  records: BusRecord[];
  /** Cancels, disconnects and closes sent, in order (`requestId` for a cancel naming one). */
  sent: { what: string; requestId?: string }[];
}

type Model = { prompts: number };

const CLEANUP_MS = 1_000;
let world: World | undefined;

/** One provider for every run: it asks the current run's scheduler for each chunk. */
const provider: Provider = {
  name: 'scheduled',
  async *stream(_request, signal) {
    const w = world!;
    const n = w.streams.length + 1;
    const plan = w.plans[(n - 1) % w.plans.length]!;
    const live = w.streams.filter((x) => !x.closed && !x.signal.aborted);
    if (live.length > 0) w.violations.push(`stream ${n} started while stream(s) ${live.map((x) => x.n).join(',')} still live`);
    const rec: StreamRec = { n, signal, closed: false };
    w.streams.push(rec);
    const stop = () => {
      if (plan.honourAbort && signal.aborted) throw errors.cancelled('provider', 'running');
    };
    try {
      for (let i = 0; i < plan.chunks; i++) {
        await w.s.schedule(Promise.resolve(), `stream ${n} chunk ${i}`);
        stop();
        yield { type: 'delta', text: `s${n}.${i} ` } as ProviderChunk;
      }
      await w.s.schedule(Promise.resolve(), `stream ${n} end (${plan.outcome})`);
      stop();
      if (plan.outcome === 'error') throw new Error(`stream ${n} failed upstream`);
      yield { type: 'done', finishReason: 'stop' } as ProviderChunk;
    } finally {
      rec.closed = true;
    }
  },
};

const machines = new Map<string, ReturnType<typeof sessionMachine>>();
function machineFor(onBusy: BusyPolicy, onDisconnect: DisconnectPolicy) {
  const key = `${onBusy}/${onDisconnect}`;
  let m = machines.get(key);
  if (!m) machines.set(key, (m = sessionMachine({ provider, onBusy, onDisconnect, cleanupDeadlineMs: CLEANUP_MS })));
  return m;
}

// ---- commands -----------------------------------------------------------------------

class Prompt implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    const n = ++m.prompts;
    const abort = new AbortController();
    const caller: Real['callers'][number] = { n, events: [], settlements: 0, status: 'open', abort, unsubscribe: () => {}, since: r.sent.length, selfAborted: false };
    r.callers.push(caller);
    const sub = r.ref.stream({ type: 'prompt', text: `prompt ${n}` }, { signal: abort.signal }).subscribe({
      next: (e) => caller.events.push(e as EventObject),
      complete: () => {
        caller.settlements++;
        caller.status = 'resolved';
      },
      error: (err) => {
        caller.settlements++;
        caller.status = 'rejected';
        caller.error = err;
      },
    });
    caller.unsubscribe = () => {
      if (caller.status === 'open') caller.unsubscribed = true;
      sub.unsubscribe();
    };
  }
  toString = () => 'prompt';
}

class Abort implements fc.AsyncCommand<Model, Real> {
  constructor(readonly i: number, readonly how: 'signal' | 'unsubscribe') {}
  check = (m: Model) => m.prompts > 0;
  async run(m: Model, r: Real) {
    const caller = r.callers[this.i % r.callers.length]!;
    caller.selfAborted = true;
    if (this.how === 'signal') caller.abort.abort();
    else caller.unsubscribe();
  }
  toString = () => `${this.how === 'signal' ? 'abort' : 'unsubscribe'}(#${this.i})`;
}

type Told = 'cancel' | 'cancel.active' | 'cancel.other' | 'disconnect' | 'disconnect.active' | 'disconnect.other' | 'close';

class Tell implements fc.AsyncCommand<Model, Real> {
  constructor(readonly what: Told) {}
  check = () => true;
  async run(_m: Model, r: Real) {
    const ctx = r.ref.snapshot()?.context as SessionContext | undefined;
    const [type, whom] = this.what.split('.') as ['cancel' | 'disconnect' | 'close', 'active' | 'other' | undefined];
    const requestId = whom === 'active' ? (ctx?.active?.requestId ?? 'none') : whom === 'other' ? 'nobody' : undefined;
    r.sent.push({ what: this.what, ...(requestId === undefined ? {} : { requestId }) });
    r.ref.tell(requestId === undefined ? { type } : { type, requestId });
  }
  toString = () => this.what;
}

const commandArbs = [
  fc.constant(new Prompt()),
  fc.constant(new Prompt()),
  fc.tuple(fc.nat(7), fc.constantFrom('signal' as const, 'unsubscribe' as const)).map(([i, how]) => new Abort(i, how)),
  fc.constantFrom<Told>('cancel', 'cancel.active', 'cancel.other', 'disconnect', 'disconnect.active', 'disconnect.other', 'close').map((w) => new Tell(w)),
  fc.constantFrom(10, 500, CLEANUP_MS + 100).map((ms) => new Tick(ms)),
];

const planArb: fc.Arbitrary<Plan> = fc.record({
  chunks: fc.integer({ min: 0, max: 3 }),
  outcome: fc.constantFrom('done' as const, 'done' as const, 'error' as const),
  honourAbort: fc.boolean(),
});

// ---- data plane -----------------------------------------------------------------------

function dataPlane(records: BusRecord[], callers: Caller[]): string[] {
  const out: string[] = [];
  let ended = new Set<number>();
  let newest = 0;
  for (const r of records) {
    // A closed session restarts with gen 0.
    if (r.type === 'lifecycle.restarted') {
      ended = new Set();
      newest = 0;
    }
    if (r.type !== 'emitted') continue;
    const ev = (r.data as { event: EventObject & { gen?: number } }).event;
    const gen = ev.gen ?? -1;
    if (ev.type === 'stream.started') newest = Math.max(newest, gen);
    if (ev.type === 'stream.end' || ev.type === 'stream.fenced') ended.add(gen);
    if (ev.type === 'chunk') {
      if (ended.has(gen)) out.push(`bus: a chunk of gen ${gen} after its end or fence`);
      if (gen < newest) out.push(`bus: a chunk of gen ${gen} after gen ${newest} started`);
    }
  }
  for (const c of callers) {
    let done = false;
    const gens = new Set<number | undefined>();
    for (const e of c.events) {
      if (e.type === 'chunk') {
        if (done) out.push(`request #${c.n}: a chunk after its stream.end`);
        gens.add((e as { gen?: number }).gen);
      }
      if (e.type === 'stream.end') done = true;
    }
    if (gens.size > 1) out.push(`request #${c.n}: chunks of streams ${[...gens].join(',')}`);
  }
  return out;
}

/**
 * A prompt is cancelled only by its own caller, or by a cancel, disconnect or close sent
 * after it was made (one naming a request counts only for that request, so one naming
 * nobody never counts). Cancelled: a waiting prompt's stream errors INTERLOCK_CANCELLED; a
 * running one's ends `stream.end { reason: 'cancelled' | 'disconnected' }`.
 */
function cancelledByOthers(r: Real): string[] {
  const out: string[] = [];
  for (const c of r.callers) {
    if (c.selfAborted) continue;
    const end = c.events.find((e) => e.type === 'stream.end') as { reason?: string } | undefined;
    const cut = end?.reason === 'cancelled' || end?.reason === 'disconnected';
    if (!cut && !(c.status === 'rejected' && (c.error as { code?: string })?.code === 'INTERLOCK_CANCELLED')) continue;
    const mine = (c.events.find((e) => e.type === 'stream.started') as { requestId?: string } | undefined)?.requestId;
    const why = r.sent.slice(c.since).filter((x) => x.requestId === undefined || x.requestId === mine);
    if (why.length === 0) out.push(`request #${c.n} was cancelled (${cut ? `stream.end ${end.reason}` : 'INTERLOCK_CANCELLED'}) though neither its caller nor a cancel, disconnect or close asked for it`);
  }
  return out;
}

describe('session machine: scheduled model runs in a real runtime', () => {
  it('never runs two streams at once, never leaks a chunk past its end or fence, and settles every prompt once', async () => {
    const t0 = Date.now();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom<BusyPolicy>('interrupt', 'interrupt', 'enqueue', 'reject'),
        fc.constantFrom<DisconnectPolicy>('cancel', 'detach'),
        fc.array(planArb, { minLength: 1, maxLength: 6 }),
        fc.commands(commandArbs, { maxCommands: 12 }),
        async (s, onBusy, onDisconnect, plans, cmds) => {
          runs++;
          const clock = new SimulatedClock();
          world = { s, plans, streams: [], violations: [] };
          const rt = createRuntime({ clock, kinds: { session: { machine: machineFor(onBusy, onDisconnect), cancelEvent: 'cancel' } } });
          const records: BusRecord[] = [];
          rt.events$.subscribe((r) => records.push(r));
          const real: Real = { rt, clock, ref: rt.ref('session/s'), callers: [], records, sent: [] };
          try {
            await fc.scheduledModelRun(s, () => ({ model: { prompts: 0 }, real }), cmds);
            await quiesce(s, clock);
            const problems = [...world.violations, ...crashes(records), ...dataPlane(records, real.callers), ...settlementProblems(real.callers), ...cancelledByOthers(real)];
            if (problems.length > 0) throw new Error(`session [${onBusy}/${onDisconnect}]:\n  ${problems.join('\n  ')}`);
          } finally {
            await rt.shutdown({ drain: false });
          }
        },
      ),
      fcParams(),
    );
    console.log(`session scheduled model runs: ${runs} runs in ${Date.now() - t0} ms`);
  });
});
