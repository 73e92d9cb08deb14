/**
 * The agent machine's test model (seed 004): abstract events, abstract key, invariants,
 * and the replay of a model path through a real runtime with a fake `handle` and a fake
 * `restart` whose calls the test settles.
 */
import type { AnyEventObject as EventObject } from 'xstate';
import { agentMachine, type AgentContext, type Subscription } from '../../machines/agent.js';
import { createRuntime, SimulatedClock, flushMicrotasks, type BusRecord } from '../../src/index.js';
import { controlledCalls } from './fakes.js';
import type { AbstractEvent, Delivery, ModelSnapshot, ModelSpec, ModelStep, TaskRec } from './harness.js';

export const SUBSCRIPTIONS: Subscription[] = [{ id: 'A' }, { id: 'B' }, { id: 'C' }];
export const AGENT_OPTIONS = { restartAttempts: 2, restartTimeoutMs: 1_000, restartBackoffMs: 100, cancelDeadlineMs: 500 };
const MAX_POSTPONED = 1;
const T = {
  restart: 'xstate.after.restartTimeout.agent.restarting.attempt',
  backoff: 'xstate.after.backoff.agent.restarting.backoff',
  cancel: 'xstate.after.cancelDeadline.agent.cancelling',
};

const ctxOf = (s: ModelSnapshot) => s.machine.context as AgentContext;
const valueOf = (s: ModelSnapshot) => JSON.stringify(s.machine.value);
const quota = () => Object.assign(new Error('quota exceeded'), { details: { status: 429 } });
const other = () => new Error('tool failed');

/** The model's agent: time stands still at 0, so a cooldown never ends within a path. */
export function modelAgentMachine() {
  return agentMachine({
    subscriptions: SUBSCRIPTIONS,
    handle: async () => undefined,
    restart: async () => {},
    now: () => 0,
    ...AGENT_OPTIONS,
  });
}

const isWork = (t: TaskRec) => t.id === 'work';
const currentRestartId = (c: AgentContext) => `restart-${c.epoch}-${c.attempt}`;
/** Fenced restart tasks of the current epoch may collide with a later attempt's id; older ones cannot. */
const relevantFencedRestart = (c: AgentContext, t: TaskRec) => t.fenced && !isWork(t) && t.id.startsWith(`restart-${c.epoch}-`);

function taskFor(s: ModelSnapshot, role: string): TaskRec | undefined {
  const c = ctxOf(s);
  switch (role) {
    case 'work':
      return s.tasks.find((t) => isWork(t) && !t.fenced);
    case 'work.fenced':
      return s.tasks.find((t) => isWork(t) && t.fenced);
    case 'restart':
      return s.tasks.find((t) => !isWork(t) && !t.fenced);
    case 'restart.fenced':
      return s.tasks.find((t) => relevantFencedRestart(c, t));
    default:
      return undefined;
  }
}

export const agentSpec: ModelSpec = {
  events(s) {
    const c = ctxOf(s);
    const out: AbstractEvent[] = [];
    if (s.postponed.length < MAX_POSTPONED) {
      out.push({ type: 'request' }, { type: 'failed.current' }, { type: 'failed.stale' }, { type: 'failed.noepoch' }, { type: 'reset' });
      out.push({ type: 'cancel' }, { type: 'cancel.other' });
      if (c.inflight) out.push({ type: 'cancel.inflight' });
    }
    if (taskFor(s, 'work')) out.push({ type: '@work.done' }, { type: '@work.error', error: 'subscription' }, { type: '@work.error', error: 'other' });
    if (taskFor(s, 'work.fenced')) out.push({ type: 'work.settles' });
    if (taskFor(s, 'restart')) out.push({ type: '@restart.done' }, { type: '@restart.error' });
    if (taskFor(s, 'restart.fenced')) out.push({ type: 'restart.settles' });
    const v = valueOf(s);
    if (v === JSON.stringify({ restarting: 'attempt' })) out.push({ type: 'timeout', which: 'restart' });
    if (v === JSON.stringify({ restarting: 'backoff' })) out.push({ type: 'timeout', which: 'backoff' });
    if (v === JSON.stringify('cancelling')) out.push({ type: 'timeout', which: 'cancel' });
    return out;
  },
  deliver(s, e): Delivery {
    const c = ctxOf(s);
    const tell = (event: EventObject): Delivery => ({ kind: 'mailbox', event, reply: false });
    const a = e as AbstractEvent & { error?: string; which?: keyof typeof T };
    switch (e.type) {
      case 'request':
        return { kind: 'mailbox', event: { type: 'request', input: `q${s.seq + 1}` }, reply: true };
      case 'failed.current':
        return tell({ type: 'subscription.failed', epoch: c.epoch, reason: 'quota' });
      case 'failed.stale':
        return tell({ type: 'subscription.failed', epoch: c.epoch - 1, reason: 'quota' });
      case 'failed.noepoch':
        return tell({ type: 'subscription.failed', reason: 'quota' });
      case 'reset':
        return tell({ type: 'reset' });
      case 'cancel':
        return tell({ type: 'cancel' });
      case 'cancel.other':
        return tell({ type: 'cancel', requestId: 'nobody' });
      case 'cancel.inflight':
        return tell({ type: 'cancel', requestId: c.inflight!.requestId });
      case '@work.done':
        return { kind: 'task', taskId: 'work', ok: true, value: (t) => `out ${t.n}` };
      case '@work.error':
        return { kind: 'task', taskId: 'work', ok: false, value: () => (a.error === 'subscription' ? quota() : other()) };
      case '@restart.done':
      case '@restart.error': {
        const t = taskFor(s, 'restart')!;
        return e.type === '@restart.done'
          ? { kind: 'task', taskId: t.id, ok: true, value: () => undefined }
          : { kind: 'task', taskId: t.id, ok: false, value: () => new Error('backend did not come up') };
      }
      case 'work.settles':
        return { kind: 'settle-fenced', taskId: 'work' };
      case 'restart.settles':
        return { kind: 'settle-fenced', taskId: taskFor(s, 'restart.fenced')!.id };
      case 'timeout':
        return { kind: 'timer', event: { type: T[a.which!] } };
      default:
        throw new Error(`unknown abstract event ${e.type}`);
    }
  },
  key(s) {
    const c = ctxOf(s);
    const role = (id: string | undefined) => (id === undefined ? 'none' : id === c.inflight?.requestId ? 'inflight' : 'other');
    return JSON.stringify({
      v: s.machine.value,
      current: c.current,
      cooldowns: Object.keys(c.cooldowns).sort(),
      inflight: c.inflight ? (c.inflight.retried ? 'retried' : 'fresh') : 'none',
      attempt: c.attempt,
      failure: c.failure ?? null,
      open: s.open.map(role).sort(),
      // Fenced tasks that still hang behave alike however many there are: one of each kind counts.
      tasks: [
        ...new Set(
          s.tasks
            .filter((t) => !t.fenced || isWork(t) || relevantFencedRestart(c, t))
            .map((t) => `${isWork(t) ? 'work' : t.id === currentRestartId(c) ? 'restart' : `restart@${t.id.split('-')[2]}`}${t.fenced ? '/fenced' : t.aborted ? '/aborted' : ''}`),
        ),
      ].sort(),
      postponed: s.postponed.map((p) => {
        const ev = p.event as { type: string; epoch?: number; requestId?: string };
        if (ev.type === 'subscription.failed') return ev.epoch === undefined ? 'failed@none' : `failed@${ev.epoch - c.epoch}`;
        if (ev.type === 'cancel') return `cancel:${ev.requestId === 'nobody' ? 'nobody' : role(ev.requestId)}`;
        return ev.type;
      }),
    });
  },
};

export const AGENT_INVARIANTS = [
  'the runtime accepts every task the machine starts',
  'epoch increments exactly on a switch',
  'at most one switch per epoch',
  'the current subscription is not on cooldown right after a switch',
  'inflight is set only where a request can be in flight',
  'processing runs exactly one live, unaborted work task',
  'no work runs while switching or restarting',
  'a restart attempt runs exactly one live restart task, and no restart runs outside one',
  'every open request is the inflight one (none lost)',
  'idle and failed have no open request',
  'each request is answered at most once',
  'a stale failure never switches',
  'a failure report without an epoch never switches and is recorded as ignored',
] as const;

export function agentStepInvariants(before: ModelSnapshot, event: AbstractEvent, after: ModelSnapshot): [string, string][] {
  const out: [string, string][] = [];
  const bad = (name: (typeof AGENT_INVARIANTS)[number], detail: string) => out.push([name, detail]);
  const c0 = ctxOf(before);
  const c = ctxOf(after);
  const v = after.machine.value as string | { restarting: string };
  const top = typeof v === 'string' ? v : 'restarting';
  const fx = after.last!;
  for (const x of fx.violations) bad('the runtime accepts every task the machine starts', x);
  const switched = fx.emitted.filter((e) => e.type === 'subscription.switched') as unknown as { epoch: number; to: string }[];
  if (c.epoch - c0.epoch !== switched.length) bad('epoch increments exactly on a switch', `${c0.epoch} -> ${c.epoch} with ${switched.length} switches`);
  if (switched.length > 1 || switched.some((sw) => sw.epoch !== c0.epoch + 1)) bad('at most one switch per epoch', JSON.stringify(switched));
  if (switched.length > 0 && (c.cooldowns[c.subscriptions[c.current]!] ?? -Infinity) > 0) {
    bad('the current subscription is not on cooldown right after a switch', `switched to ${c.subscriptions[c.current]!}, cooldowns ${JSON.stringify(c.cooldowns)}`);
  }
  if ((top === 'idle' || top === 'failed') && c.inflight) bad('inflight is set only where a request can be in flight', `${JSON.stringify(v)} with inflight`);
  if ((top === 'processing' || top === 'cancelling') && !c.inflight) bad('inflight is set only where a request can be in flight', `${JSON.stringify(v)} without inflight`);
  const liveWork = after.tasks.filter((t) => isWork(t) && !t.fenced);
  // A task the runtime would refuse (see the first invariant) is missing below: reported once, there.
  const refused = fx.violations.length > 0;
  if (!refused && top === 'processing' && (liveWork.length !== 1 || liveWork[0]!.aborted)) bad('processing runs exactly one live, unaborted work task', JSON.stringify(after.tasks.map((t) => [t.id, t.aborted, t.fenced])));
  if (top === 'restarting' && liveWork.length > 0) bad('no work runs while switching or restarting', JSON.stringify(liveWork.map((t) => t.id)));
  const liveRestarts = after.tasks.filter((t) => !isWork(t) && !t.fenced);
  const inAttempt = JSON.stringify(v) === JSON.stringify({ restarting: 'attempt' });
  if (!refused && (inAttempt ? liveRestarts.length !== 1 || liveRestarts[0]!.id !== currentRestartId(c) : liveRestarts.length > 0)) {
    bad('a restart attempt runs exactly one live restart task, and no restart runs outside one', `${JSON.stringify(v)}: ${liveRestarts.map((t) => t.id).join(', ')}`);
  }
  for (const id of after.open) if (id !== c.inflight?.requestId) bad('every open request is the inflight one (none lost)', `${id} open in ${JSON.stringify(v)}`);
  if ((top === 'idle' || top === 'failed') && after.open.length > 0) bad('idle and failed have no open request', `${after.open.join(',')} in ${top}`);
  for (const a of fx.answers) {
    if (a.to !== undefined && !a.closed && before.answered.includes(a.to)) bad('each request is answered at most once', `${a.to} answered again`);
  }
  if (event.type === 'failed.stale' && switched.length > 0 && fx.delivered.length === 1) bad('a stale failure never switches', JSON.stringify(switched));
  if (event.type === 'failed.noepoch' && fx.delivered.length === 1) {
    const ignored = fx.emitted.some((e) => e.type === 'event.ignored' && e.event === 'subscription.failed');
    if (switched.length > 0 || !ignored) bad('a failure report without an epoch never switches and is recorded as ignored', JSON.stringify(fx.emitted));
  }
  return out;
}

// ---- replay through a real runtime ----------------------------------------------------

interface Caller {
  modelId: string;
  status: 'open' | 'resolved' | 'rejected';
  value?: unknown;
  error?: unknown;
}

/** What the shared replay machine reaches for: creating a machine per path costs more than the replay. */
const replayWorld: { clock: SimulatedClock; fn: ReturnType<typeof controlledCalls<unknown>>['fn'] } = {
  clock: new SimulatedClock(),
  fn: controlledCalls<unknown>().fn,
};
let sharedMachine: ReturnType<typeof agentMachine<string, unknown>> | undefined;
function replayMachine() {
  sharedMachine ??= agentMachine<string, unknown>({
    subscriptions: SUBSCRIPTIONS,
    now: () => replayWorld.clock.now(),
    ...AGENT_OPTIONS,
    handle: (input, { signal, subscription }) => replayWorld.fn(signal, { input, subscription }),
    restart: (subscription, { signal }) => replayWorld.fn(signal, { subscription }) as Promise<void>,
  });
  return sharedMachine;
}

/**
 * Replays a model path through a runtime. The n-th task the model starts is the n-th call
 * of the fake (`handle` and `restart` share one log); neither honours its abort signal,
 * so a fenced call keeps hanging until the path settles it.
 */
export async function replayAgent(steps: ModelStep[]): Promise<string[]> {
  const clock = new SimulatedClock();
  const { fn, calls } = controlledCalls<unknown>();
  replayWorld.clock = clock;
  replayWorld.fn = fn;
  const machine = replayMachine();
  const rt = createRuntime({ clock, kinds: { agent: { machine, mailbox: { control: ['subscription.failed'] }, cancelEvent: 'cancel' } } });
  const ref = rt.ref('agent/a');
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));
  const callers: Caller[] = [];
  const problems: string[] = [];
  const rid = (modelId: string | undefined) => (modelId === undefined ? undefined : Number(modelId.slice(1)).toString(36));
  let seq = 0;
  const settle = async () => {
    for (let i = 0; i < 1; i++) await flushMicrotasks();
  };
  const rctx = () => (ref.snapshot()?.context ?? { epoch: 0, attempt: 0 }) as AgentContext;
  try {
    for (const [i, step] of steps.entries()) {
      const e = step.event as AbstractEvent & { error?: string; which?: string };
      const where = `step ${i + 1} (${e.type}${e.error ? ` ${e.error}` : ''}${e.which ? ` ${e.which}` : ''})`;
      const c = rctx();
      const before = steps[i - 1]?.state;
      const callOf = (role: string) => {
        const t = before ? taskFor(before, role) : undefined;
        const call = t ? calls[t.n - 1] : undefined;
        if (!call) problems.push(`${where}: no fake call for the model's ${role} task ${t?.id}#${t?.n}`);
        return call;
      };
      switch (e.type) {
        case 'request': {
          seq++;
          const caller: Caller = { modelId: `r${seq}`, status: 'open' };
          callers.push(caller);
          ref.ask({ type: 'request', input: `q${seq}` }).then(
            (value) => Object.assign(caller, { status: 'resolved', value }),
            (error) => Object.assign(caller, { status: 'rejected', error }),
          );
          break;
        }
        case 'failed.current':
        case 'failed.stale':
          seq++;
          ref.tell({ type: 'subscription.failed', epoch: e.type === 'failed.current' ? c.epoch : c.epoch - 1, reason: 'quota' });
          break;
        case 'failed.noepoch':
          seq++;
          // A hand-built kind without agentKind's validate: the machine must refuse it itself.
          ref.tell({ type: 'subscription.failed', reason: 'quota' } as never);
          break;
        case 'reset':
          seq++;
          ref.tell({ type: 'reset' });
          break;
        case 'cancel':
        case 'cancel.other':
        case 'cancel.inflight':
          seq++;
          ref.tell(
            e.type === 'cancel' ? { type: 'cancel' } : { type: 'cancel', requestId: e.type === 'cancel.other' ? 'nobody' : c.inflight?.requestId },
          );
          break;
        case '@work.done':
          callOf('work')?.succeed(`out`);
          break;
        case '@work.error':
          callOf('work')?.fail(e.error === 'subscription' ? quota() : other());
          break;
        case 'work.settles':
          callOf('work.fenced')?.succeed('late');
          break;
        case '@restart.done':
          callOf('restart')?.succeed();
          break;
        case '@restart.error':
          callOf('restart')?.fail(new Error('backend did not come up'));
          break;
        case 'restart.settles':
          callOf('restart.fenced')?.succeed();
          break;
        case 'timeout':
          await settle();
          await clock.tick(
            e.which === 'restart'
              ? AGENT_OPTIONS.restartTimeoutMs
              : e.which === 'cancel'
                ? AGENT_OPTIONS.cancelDeadlineMs
                : AGENT_OPTIONS.restartBackoffMs * 2 ** Math.max(0, rctx().attempt - 1),
          );
          break;
        default:
          problems.push(`${where}: the replay has no driver for this event`);
      }
      await settle();
      problems.push(...compareAgent(where, step.state, ref.snapshot(), callers, rid, records, calls.length));
      if (problems.length > 0) break;
    }
  } finally {
    await rt.shutdown({ drain: false });
  }
  return problems;
}

function compareAgent(
  where: string,
  model: ModelSnapshot,
  snapshot: { value: unknown; context: unknown } | undefined,
  callers: Caller[],
  rid: (id: string | undefined) => string | undefined,
  records: BusRecord[],
  callCount: number,
): string[] {
  const out: string[] = [];
  if (!snapshot) return [`${where}: the runtime has no snapshot`];
  const crashed = records.filter((r) => r.type === 'lifecycle.crashed');
  if (crashed.length > 0) out.push(`${where}: the actor crashed: ${(crashed[0]!.data as { error?: string }).error}`);
  const rc = snapshot.context as AgentContext;
  const mc = ctxOf(model);
  const shape = (v: unknown, c: AgentContext, id: (x: string | undefined) => string | undefined) => ({
    v,
    current: c.current,
    epoch: c.epoch,
    cooldowns: Object.keys(c.cooldowns).sort(),
    inflight: c.inflight && { requestId: id(c.inflight.requestId), retried: c.inflight.retried },
    attempt: c.attempt,
    failure: c.failure ?? null,
  });
  const got = shape(snapshot.value, rc, (x) => x);
  const want = shape(model.machine.value, mc, rid);
  if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${where}: runtime ${JSON.stringify(got)} != model ${JSON.stringify(want)}`);
  if (callCount !== model.taskCount) out.push(`${where}: the runtime made ${callCount} handle/restart calls, the model started ${model.taskCount} tasks`);
  for (const caller of callers) {
    const modelOpen = model.open.includes(caller.modelId) || model.postponed.some((p) => p.id === caller.modelId);
    if (modelOpen !== (caller.status === 'open')) {
      out.push(`${where}: request ${caller.modelId} is ${caller.status} in the runtime but ${modelOpen ? 'open' : 'answered'} in the model`);
    }
    if (caller.status === 'rejected') {
      const code = (caller.error as { code?: string })?.code;
      if (typeof code !== 'string' || !code.startsWith('INTERLOCK_')) out.push(`${where}: request ${caller.modelId} rejected without a catalogue code: ${String(caller.error)}`);
    }
  }
  // At most one switch per epoch, on the bus.
  const switches = records
    .filter((r) => r.type === 'emitted' && (r.data as { event: { type: string } }).event.type === 'subscription.switched')
    .map((r) => (r.data as { event: { epoch: number } }).event.epoch);
  if (new Set(switches).size !== switches.length) out.push(`${where}: two subscription.switched for one epoch: ${switches.join(',')}`);
  return out;
}
