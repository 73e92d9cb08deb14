/**
 * Scheduled model runs of the agent machine (seed 004) in a real runtime.
 *
 * fast-check generates caller commands (requests with a deadline, caller aborts, subscription
 * failures of the current epoch, of the previous one and of a random epoch, reset, cancel,
 * clock ticks), and `fc.scheduler()` decides when each `handle` and `restart` call settles
 * relative to them. Each call has a random plan: `handle` succeeds, fails with a
 * subscription failure (HTTP 429) or another error, or hangs; `restart` succeeds, fails
 * or hangs; a hanging call honours its abort signal or ignores it. After the commands
 * everything is released and every timer fired. Then:
 * - at most one `subscription.switched` per epoch, each one epoch after the last;
 * - no `handle` call starts while a restart is running, and never two at once;
 * - every request settles exactly once, by a reply or an error with a catalogue code;
 * - the actor never crashes.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { AnyEventObject } from 'xstate';
import { agentMachine, type AgentContext, type Subscription } from '../../machines/agent.js';
import { type ActorHandle, createRuntime, SimulatedClock, type BusRecord, type Runtime } from '../../src/index.js';
import { crashes, fcParams, quiesce, settlementProblems, Tick, type Caller } from './props.js';

type WorkPlan = 'done' | 'subscription' | 'error' | 'hang' | 'hang-stubborn';
type RestartPlan = 'done' | 'error' | 'hang' | 'hang-stubborn';

interface Call {
  kind: 'work' | 'restart';
  n: number;
  signal: AbortSignal;
  settled: boolean;
}

interface World {
  s: fc.Scheduler;
  work: WorkPlan[];
  restarts: RestartPlan[];
  calls: Call[];
  violations: string[];
}

interface Real {
  rt: { shutdown: Runtime['shutdown'] };
  clock: SimulatedClock;
  ref: ActorHandle<AnyEventObject>;
  callers: (Caller & { abort: AbortController })[];
  records: BusRecord[];
}

type Model = { requests: number };

const SUBS: Subscription[] = [{ id: 'A' }, { id: 'B' }, { id: 'C' }];
const OPTIONS = { restartAttempts: 2, restartTimeoutMs: 1_000, restartBackoffMs: 100, cancelDeadlineMs: 500 };
const ASK_TIMEOUT_MS = 3_000;
let world: World | undefined;
let clockNow = () => 0;

function call(kind: 'work' | 'restart', signal: AbortSignal): Promise<unknown> {
  const w = world!;
  const live = (k: Call['kind']) => w.calls.filter((c) => c.kind === k && !c.settled && !c.signal.aborted);
  if (kind === 'work') {
    if (live('restart').length > 0) w.violations.push(`handle called while restart #${live('restart')[0]!.n} runs`);
    if (live('work').length > 0) w.violations.push(`handle called while handle #${live('work')[0]!.n} runs`);
  } else if (live('restart').length > 0) w.violations.push(`restart called while restart #${live('restart')[0]!.n} runs`);
  const n = w.calls.filter((c) => c.kind === kind).length + 1;
  const rec: Call = { kind, n, signal, settled: false };
  w.calls.push(rec);
  const plans = kind === 'work' ? w.work : w.restarts;
  const plan = plans[(n - 1) % plans.length]!;
  const result = new Promise<unknown>((resolve, reject) => {
    if (plan === 'hang') signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    if (plan === 'hang' || plan === 'hang-stubborn') return;
    w.s.schedule(Promise.resolve(), `${kind} #${n} ${plan}`).then(() => {
      if (plan === 'done') resolve(kind === 'work' ? `answer ${n}` : undefined);
      else if (plan === 'subscription') reject(Object.assign(new Error('quota exceeded'), { details: { status: 429 } }));
      else reject(new Error(`${kind} #${n} failed`));
    });
  });
  return result.finally(() => (rec.settled = true));
}

const machine = agentMachine<string, unknown>({
  subscriptions: SUBS,
  now: () => clockNow(),
  ...OPTIONS,
  handle: (_input, { signal }) => call('work', signal),
  restart: (_sub, { signal }) => call('restart', signal).then(() => undefined),
});

class Request implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    const n = ++m.requests;
    const abort = new AbortController();
    const caller: Real['callers'][number] = { n, events: [], settlements: 0, status: 'open', abort };
    r.callers.push(caller);
    r.ref.ask({ type: 'request', input: `q${n}` }, { signal: abort.signal, timeoutMs: ASK_TIMEOUT_MS }).then(
      () => {
        caller.settlements++;
        caller.status = 'resolved';
      },
      (err: unknown) => {
        caller.settlements++;
        caller.status = 'rejected';
        caller.error = err;
      },
    );
  }
  toString = () => 'request';
}

class Abort implements fc.AsyncCommand<Model, Real> {
  constructor(readonly i: number) {}
  check = (m: Model) => m.requests > 0;
  async run(_m: Model, r: Real) {
    r.callers[this.i % r.callers.length]!.abort.abort();
  }
  toString = () => `abort(request ${this.i} mod n)`;
}

class Failure implements fc.AsyncCommand<Model, Real> {
  constructor(readonly which: 'current' | 'previous' | number) {}
  check = () => true;
  async run(_m: Model, r: Real) {
    const epoch = (r.ref.snapshot()?.context as AgentContext | undefined)?.epoch ?? 0;
    const e = this.which === 'current' ? epoch : this.which === 'previous' ? epoch - 1 : this.which;
    r.ref.tell({ type: 'subscription.failed', epoch: e, reason: `failure@${this.which}` });
  }
  toString = () => `subscription.failed(${this.which})`;
}

class Tell implements fc.AsyncCommand<Model, Real> {
  constructor(readonly type: 'reset' | 'cancel') {}
  check = () => true;
  async run(_m: Model, r: Real) {
    r.ref.tell({ type: this.type });
  }
  toString = () => this.type;
}

const commandArbs = [
  fc.constant(new Request()),
  fc.constant(new Request()),
  fc.nat(7).map((i) => new Abort(i)),
  fc.oneof(fc.constantFrom('current' as const, 'current' as const, 'previous' as const), fc.nat(3)).map((w) => new Failure(w)),
  fc.constantFrom('reset' as const, 'cancel' as const).map((t) => new Tell(t)),
  fc.constantFrom(100, 600, 1_100).map((ms) => new Tick(ms)),
];

/** At most one switch per epoch, each the epoch after the last (per incarnation: a restarted actor starts at 0). */
function switches(records: BusRecord[]): string[] {
  const out: string[] = [];
  let last = 0;
  for (const r of records) {
    if (r.type === 'lifecycle.restarted') last = 0;
    if (r.type !== 'emitted') continue;
    const ev = (r.data as { event: { type: string; epoch?: number } }).event;
    if (ev.type !== 'subscription.switched') continue;
    if (ev.epoch !== last + 1) out.push(`subscription.switched to epoch ${ev.epoch} after epoch ${last}`);
    last = ev.epoch ?? last;
  }
  return out;
}

describe('agent machine: scheduled model runs in a real runtime', () => {
  it('switches at most once per epoch, never works against a restarting backend, and settles every request once', async () => {
    const t0 = Date.now();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.constantFrom<WorkPlan>('done', 'done', 'subscription', 'error', 'hang', 'hang-stubborn'), { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom<RestartPlan>('done', 'done', 'error', 'hang', 'hang-stubborn'), { minLength: 1, maxLength: 6 }),
        fc.commands(commandArbs, { maxCommands: 12 }),
        async (s, work, restarts, cmds) => {
          runs++;
          const clock = new SimulatedClock();
          clockNow = () => clock.now();
          world = { s, work, restarts, calls: [], violations: [] };
          const rt = createRuntime({ clock, kinds: { agent: { machine, mailbox: { control: ['subscription.failed'] }, cancelEvent: 'cancel' } } });
          const records: BusRecord[] = [];
          rt.events$.subscribe((r) => records.push(r));
          const real: Real = { rt, clock, ref: rt.ref('agent/a'), callers: [], records };
          try {
            await fc.scheduledModelRun(s, () => ({ model: { requests: 0 }, real }), cmds);
            await quiesce(s, clock);
            const problems = [...world.violations, ...crashes(records), ...switches(records), ...settlementProblems(real.callers)];
            if (problems.length > 0) throw new Error(`agent:\n  ${problems.join('\n  ')}`);
          } finally {
            await rt.shutdown({ drain: false });
          }
        },
      ),
      fcParams(),
    );
    console.log(`agent scheduled model runs: ${runs} runs in ${Date.now() - t0} ms`);
  });
});
