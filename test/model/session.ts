/**
 * The session machine's test model: abstract events, abstract key, the invariants checked
 * in every state the model reaches, and the replay of a model path through a real
 * runtime (SimulatedClock, a provider whose streams the test closes).
 */
import type { AnyEventObject as EventObject } from 'xstate';
import { sessionMachine, type BusyPolicy, type DisconnectPolicy, type SessionContext } from '../../machines/session.js';
import { createRuntime, SimulatedClock, flushMicrotasks, type BusRecord } from '../../src/index.js';
import { injectInternal } from '../helpers/internal.js';
import { controlledProvider } from './fakes.js';
import type { AbstractEvent, Delivery, ModelSnapshot, ModelSpec, ModelStep } from './harness.js';

export interface SessionConfig {
  onBusy: BusyPolicy;
  onDisconnect: DisconnectPolicy;
}

export const SESSION_CONFIGS: SessionConfig[] = (['interrupt', 'rollback', 'enqueue', 'reject'] as const).flatMap((onBusy) =>
  (['cancel', 'detach'] as const).map((onDisconnect) => ({ onBusy, onDisconnect })),
);

export const CLEANUP_MS = 2_000;
const TIMEOUT = 'xstate.after.cleanup.session.cancelling';
/** How many prompts may wait postponed (under 'enqueue') in the model: bounds the state space. */
const MAX_POSTPONED = 2;

const ctxOf = (s: ModelSnapshot) => s.machine.context as SessionContext;
const valueOf = (s: ModelSnapshot) => String(s.machine.value);
const genOfTask = (id: string) => Number(id.slice('stream-'.length));

/** A machine whose provider is never called: the model never runs tasks. */
export function modelSessionMachine(cfg: SessionConfig) {
  return sessionMachine({
    provider: { name: 'model', stream: () => ({ async *[Symbol.asyncIterator]() {} }) },
    onBusy: cfg.onBusy,
    onDisconnect: cfg.onDisconnect,
    cleanupDeadlineMs: CLEANUP_MS,
  });
}

/**
 * The concrete `cancel` or `disconnect` of an abstract one: without an id (`cancel`), or
 * naming the active or pending request (`cancel.active`, `disconnect.pending`) or nobody
 * (`.other`). Undefined for any other abstract event.
 */
function namedEvent(type: string, c: SessionContext): EventObject | undefined {
  const [base, whom] = type.split('.');
  if (base !== 'cancel' && base !== 'disconnect') return undefined;
  if (whom === undefined) return { type: base };
  return { type: base, requestId: whom === 'other' ? 'nobody' : whom === 'active' ? c.active?.requestId : c.pending?.requestId };
}

function roleOf(c: SessionContext, id: string): string {
  if (c.active?.requestId === id) return 'active';
  if (c.pending?.requestId === id) return 'pending';
  return 'orphan';
}

export const sessionSpec: ModelSpec = {
  events(s) {
    const c = ctxOf(s);
    const out: AbstractEvent[] = [];
    if (s.postponed.length < MAX_POSTPONED) out.push({ type: 'prompt' });
    out.push({ type: 'cancel' }, { type: 'cancel.other' });
    if (c.active) out.push({ type: 'cancel.active' });
    if (c.pending) out.push({ type: 'cancel.pending' });
    // A disconnect without an id (one client per session), naming the running or waiting
    // request (a server's client hung up), or naming neither (late, or another client's).
    out.push({ type: 'disconnect' }, { type: 'disconnect.other' });
    if (c.active) out.push({ type: 'disconnect.active' });
    if (c.pending) out.push({ type: 'disconnect.pending' });
    out.push({ type: 'close' });
    for (const t of s.tasks) {
      const role = t.fenced ? 'fenced' : c.active && genOfTask(t.id) === c.active.gen ? 'current' : 'old';
      if (t.fenced) out.push({ type: 'stream.settles', role });
      else if (t.aborted) out.push({ type: 'stream.closes', role, outcome: 'aborted' });
      else out.push({ type: 'stream.closes', role, outcome: 'done' }, { type: 'stream.closes', role, outcome: 'error' });
    }
    // A stale close is an internal event: it can only reach an actor that is active, i.e.
    // after some envelope activated it (a real task's outcome never precedes its actor).
    if (s.seq > 0) for (const outcome of ['done', 'error', 'aborted']) out.push({ type: 'stream.closed.stale', outcome });
    if (s.machine.value === 'cancelling') out.push({ type: 'cleanup.timeout' });
    return out;
  },
  deliver(s, e): Delivery {
    const c = ctxOf(s);
    const tell = (event: EventObject): Delivery => ({ kind: 'mailbox', event, reply: false });
    const named = namedEvent(e.type, c);
    if (named) return tell(named);
    switch (e.type) {
      case 'prompt':
        return { kind: 'mailbox', event: { type: 'prompt', text: `p${s.seq + 1}` }, reply: true };
      case 'close':
        return tell({ type: e.type });
      case 'stream.closed.stale':
        return { kind: 'internal', event: { type: '@stream.closed', gen: c.gen - 1, outcome: (e as { outcome?: string }).outcome, text: '' } };
      case 'cleanup.timeout':
        return { kind: 'timer', event: { type: TIMEOUT } };
      case 'stream.settles':
      case 'stream.closes': {
        const role = (e as { role?: string }).role;
        const outcome = (e as { outcome?: string }).outcome;
        const task = s.tasks.find((t) =>
          role === 'fenced' ? t.fenced : !t.fenced && (role === 'current') === (c.active !== undefined && genOfTask(t.id) === c.active.gen),
        );
        if (!task) throw new Error(`no ${role} task`);
        if (e.type === 'stream.settles') return { kind: 'settle-fenced', taskId: task.id };
        const gen = genOfTask(task.id);
        return {
          kind: 'task',
          taskId: task.id,
          ok: true,
          value: () =>
            outcome === 'done'
              ? { gen, outcome: 'done', text: `answer ${gen}`, finishReason: 'stop' }
              : outcome === 'error'
                ? { gen, outcome: 'error', text: '', error: new Error('upstream failed') }
                : { gen, outcome: 'aborted', text: `partial ${gen}` },
        };
      }
      default:
        throw new Error(`unknown abstract event ${e.type}`);
    }
  },
  key(s) {
    const c = ctxOf(s);
    const fenced = s.tasks.filter((t) => t.fenced).length;
    return JSON.stringify({
      v: valueOf(s),
      active: c.active !== undefined,
      pending: c.pending !== undefined,
      closeAfter: c.closeAfter,
      reason: c.endReason,
      open: s.open.map((id) => roleOf(c, id)).sort(),
      tasks: s.tasks
        .filter((t) => !t.fenced)
        .map((t) => `${c.active && genOfTask(t.id) === c.active.gen ? 'current' : 'old'}${t.aborted ? '/aborted' : ''}`)
        .sort(),
      fenced: Math.min(fenced, 1),
      postponed: s.postponed.map((p) => p.event.type),
    });
  },
};

export const SESSION_INVARIANTS = [
  'the runtime accepts every task the machine starts',
  'active is set exactly in streaming and cancelling',
  'pending is set only in cancelling',
  'closeAfter is set only while cancelling (a close is never carried past it)',
  'gen is monotonic',
  'gen increments exactly once per stream started',
  'never two unfenced streams',
  'streaming has exactly one live, unaborted stream: the active one',
  'cancelling has no unaborted stream',
  'every open request is the active or the pending one (none lost)',
  'idle has no open request',
  'closed has no open request',
  'each request is answered at most once',
  'stream.end names the stream that was active',
  'a cancel naming a request drops no other request',
  'a disconnect naming a request drops or cuts no other request',
  'a disconnect naming a request that neither runs nor waits changes nothing and is recorded as ignored',
  'under detach a disconnect neither aborts a stream nor answers a request',
  "under cancel a disconnect of the running stream's request aborts it (reason disconnected)",
  'INTERLOCK_BUSY names the state the session is in',
  'a stream.closed of another generation changes nothing and is recorded as stale',
  'a rolled-back turn leaves no trace in the history',
] as const;

/** The invariants of one step: `[name, detail]` for each violated one (names from SESSION_INVARIANTS). */
export function sessionStepInvariants(before: ModelSnapshot, event: AbstractEvent, after: ModelSnapshot): [string, string][] {
  const out: [string, string][] = [];
  const v = valueOf(after);
  const c = ctxOf(after);
  const c0 = ctxOf(before);
  const fx = after.last!;
  const bad = (name: (typeof SESSION_INVARIANTS)[number], detail: string) => out.push([name, detail]);
  for (const x of fx.violations) bad('the runtime accepts every task the machine starts', x);
  if (fx.restarted) {
    // Closed: the runtime restarted the session fresh (gen 0) in this step.
  } else {
    if ((c.active !== undefined) !== (v === 'streaming' || v === 'cancelling')) bad('active is set exactly in streaming and cancelling', `${v} with active=${JSON.stringify(c.active)}`);
    if (c.pending !== undefined && v !== 'cancelling') bad('pending is set only in cancelling', `${v} with pending=${JSON.stringify(c.pending)}`);
    if (c.closeAfter && v !== 'cancelling') bad('closeAfter is set only while cancelling (a close is never carried past it)', `${v} with closeAfter=true`);
  }
  const started = fx.emitted.filter((e) => e.type === 'stream.started') as unknown as { gen: number }[];
  if (!fx.restarted) {
    if (c.gen < c0.gen) bad('gen is monotonic', `${c0.gen} -> ${c.gen}`);
    if (c.gen - c0.gen !== started.length) bad('gen increments exactly once per stream started', `${c0.gen} -> ${c.gen} with ${started.length} started`);
  }
  const live = after.tasks.filter((t) => !t.fenced);
  if (live.length > 1) bad('never two unfenced streams', live.map((t) => t.id).join(', '));
  if (v === 'streaming') {
    const cur = live.find((t) => genOfTask(t.id) === c.active?.gen);
    if (!cur || cur.aborted) bad('streaming has exactly one live, unaborted stream: the active one', `tasks ${JSON.stringify(after.tasks.map((t) => [t.id, t.aborted, t.fenced]))}`);
  }
  if (v === 'cancelling' && live.some((t) => !t.aborted)) bad('cancelling has no unaborted stream', JSON.stringify(live));
  for (const id of after.open) {
    if (roleOf(c, id) === 'orphan') bad('every open request is the active or the pending one (none lost)', `${id} open in ${v}`);
  }
  if (v === 'idle' && after.open.length > 0) bad('idle has no open request', after.open.join(','));
  if (fx.restarted && fx.restarted.open.length > 0) bad('closed has no open request', fx.restarted.open.join(','));
  for (const a of fx.answers) {
    if (a.to !== undefined && !a.closed && before.answered.includes(a.to)) bad('each request is answered at most once', `${a.to} answered again`);
  }
  const ends = fx.emitted.filter((e) => e.type === 'stream.end') as unknown as { gen: number }[];
  for (const e of ends) if (e.gen !== c0.active?.gen) bad('stream.end names the stream that was active', `end gen ${e.gen}, active ${c0.active?.gen}`);
  const named = (event as { type: string }).type;
  if ((named === 'cancel.active' || named === 'cancel.other') && c0.pending) {
    const dropped = fx.answers.find((a) => a.to === c0.pending!.requestId && a.closed);
    if (dropped) bad('a cancel naming a request drops no other request', `${named} in ${valueOf(before)} answered the pending ${dropped.to} with ${(dropped.value as { code?: string })?.code}`);
  }
  if (named.startsWith('disconnect') && !fx.restarted) sessionDisconnectInvariants(before, named, after, bad);
  for (const a of fx.answers) {
    const err = a.value as { code?: string; details?: { state?: string } };
    // Only a prompt delivered by this very step is rejected in `before`'s state; a step that
    // ends a closing session also delivers the postponed prompts to the fresh one.
    if (!a.ok && err?.code === 'INTERLOCK_BUSY' && named === 'prompt' && err.details?.state !== valueOf(before)) {
      bad('INTERLOCK_BUSY names the state the session is in', `rejected in ${valueOf(before)} as busy (${err.details?.state})`);
    }
  }
  if (named === 'stream.closed.stale' && !fx.restarted) {
    const same = (x: SessionContext) => JSON.stringify([x.gen, x.active, x.pending, x.history, x.endReason, x.closeAfter]);
    const changed = valueOf(before) !== v || same(c0) !== same(c) || fx.answers.length > 0 || fx.started.length + fx.aborted.length + fx.fenced.length > 0;
    const recorded = fx.emitted.length === 1 && fx.emitted[0]!.type === 'stream.stale';
    if (changed || !recorded) {
      bad('a stream.closed of another generation changes nothing and is recorded as stale', `${valueOf(before)} -> ${v}, emitted ${JSON.stringify(fx.emitted)}, answers ${fx.answers.length}`);
    }
  }
  // A rolled-back stream ends from cancelling (closed, or fenced at the deadline).
  if (c0.active && valueOf(before) === 'cancelling' && c0.endReason === 'rolledback' && ends.length > 0 && !fx.restarted) {
    const trace = c.history.filter((m) => m.content === c0.active!.prompt || m.content.endsWith(` ${c0.active!.gen}`));
    if (trace.length > 0) bad('a rolled-back turn leaves no trace in the history', `history ${JSON.stringify(c.history)} after rolling back gen ${c0.active.gen}`);
  }
  return out;
}

type Bad = (name: (typeof SESSION_INVARIANTS)[number], detail: string) => void;

/** The invariants of a step that delivered a `disconnect` (plain, `.active`, `.pending` or `.other`). */
function sessionDisconnectInvariants(before: ModelSnapshot, named: string, after: ModelSnapshot, bad: Bad): void {
  const c0 = ctxOf(before);
  const c = ctxOf(after);
  const fx = after.last!;
  const was = valueOf(before);
  // A disconnect is in the control lane, never postponed: it is delivered in this step, and
  // postponed prompts it lets through are checked by the other invariants.
  const own = fx.transitions.filter((t) => t.eventType === 'disconnect');
  const answeredTo = fx.answers.map((a) => a.to);
  if (named === 'disconnect.active' && c0.pending && answeredTo.includes(c0.pending.requestId)) {
    bad('a disconnect naming a request drops or cuts no other request', `disconnect.active in ${was} answered the pending ${c0.pending.requestId}`);
  }
  if (named === 'disconnect.pending' && c0.active && (fx.aborted.length > 0 || valueOf(after) !== was)) {
    bad('a disconnect naming a request drops or cuts no other request', `disconnect.pending in ${was} -> ${valueOf(after)}, aborted ${fx.aborted.join(',')}`);
  }
  if (named === 'disconnect.other') {
    const same = (x: SessionContext) => JSON.stringify([x.gen, x.active, x.pending, x.history, x.endReason, x.closeAfter]);
    const changed = valueOf(after) !== was || same(c0) !== same(c) || fx.answers.length > 0 || fx.started.length + fx.aborted.length + fx.fenced.length > 0;
    const recorded = fx.emitted.length === 1 && fx.emitted[0]!.type === 'event.ignored';
    if (changed || !recorded) {
      bad(
        'a disconnect naming a request that neither runs nor waits changes nothing and is recorded as ignored',
        `${was} -> ${valueOf(after)}, emitted ${JSON.stringify(fx.emitted)}, answers ${fx.answers.length}`,
      );
    }
  }
  const policy = (r: { onDisconnect?: string } | undefined) => r?.onDisconnect ?? c0.onDisconnect;
  const target = named === 'disconnect.pending' ? c0.pending : named === 'disconnect.active' ? c0.active : named === 'disconnect' ? (c0.pending ?? c0.active) : undefined;
  if (target && policy(target) === 'detach' && own.length > 0 && (fx.aborted.length > 0 || fx.answers.length > 0 || valueOf(after) !== was)) {
    bad('under detach a disconnect neither aborts a stream nor answers a request', `${named} in ${was} -> ${valueOf(after)}, aborted ${fx.aborted.join(',')}, answers ${answeredTo.join(',')}`);
  }
  const cutsActive = was === 'streaming' && (named === 'disconnect.active' || named === 'disconnect') && policy(c0.active) === 'cancel';
  if (cutsActive) {
    const task = `stream-${c0.active!.gen}`;
    if (valueOf(after) !== 'cancelling' || c.endReason !== 'disconnected' || !fx.aborted.includes(task)) {
      bad("under cancel a disconnect of the running stream's request aborts it (reason disconnected)", `${named}: ${was} -> ${valueOf(after)}, reason ${c.endReason}, aborted ${fx.aborted.join(',')}`);
    }
  }
}

// ---- replay through a real runtime ----------------------------------------------------

interface Caller {
  modelId: string;
  events: EventObject[];
  status: 'open' | 'resolved' | 'rejected';
  value?: unknown;
  error?: { code?: string } | unknown;
}

/**
 * Replays a model path through a runtime and checks after every step that the runtime's
 * actor agrees with the model (state, gen, active/pending, answers) and that the data
 * plane holds: no chunk of a stream after its end or fence, none interleaved with the
 * next stream's. Every provider stream ignores its abort signal, and on every step each
 * stream still open tries to push a chunk, fenced ones included.
 */
export async function replaySession(cfg: SessionConfig, steps: ModelStep[]): Promise<string[]> {
  const clock = new SimulatedClock();
  const { provider, streams } = controlledProvider();
  const machine = sessionMachine({ provider, onBusy: cfg.onBusy, onDisconnect: cfg.onDisconnect, cleanupDeadlineMs: CLEANUP_MS });
  const rt = createRuntime({ clock, kinds: { session: { machine, cancelEvent: 'cancel' } } });
  const ref = rt.ref('session/s');
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));
  const callers: Caller[] = [];
  const problems: string[] = [];
  /** Model request id -> runtime envelope id: both count mailbox envelopes of this one address. */
  const rid = (modelId: string | undefined) => (modelId === undefined ? undefined : Number(modelId.slice(1)).toString(36));
  let seq = 0;
  const settle = async () => {
    for (let i = 0; i < 1; i++) await flushMicrotasks();
  };
  // Not activated before its first envelope: a fresh session's context until then.
  const rctx = () => (ref.snapshot()?.context ?? { gen: 0 }) as SessionContext;
  /** The model's n-th task is the runtime's n-th provider call. */
  const streamOfTask = (n: number) => streams[n - 1];
  try {
    await settle();
    for (const [i, step] of steps.entries()) {
      const e = step.event as AbstractEvent & { role?: string; outcome?: string };
      const where = `step ${i + 1} (${e.type}${e.role ? ` ${e.role}` : ''}${e.outcome ? ` ${e.outcome}` : ''})`;
      // Data plane noise: every stream that is still open pushes a chunk, fenced or not.
      for (const s of streams) if (!s.closed) s.push(`c${s.n}.${i} `);
      await settle();
      const c = rctx();
      switch (e.type) {
        case 'prompt': {
          seq++;
          const caller: Caller = { modelId: `r${seq}`, events: [], status: 'open' };
          callers.push(caller);
          ref.stream({ type: 'prompt', text: `p${seq}` }).subscribe({
            next: (ev) => caller.events.push(ev),
            complete: () => (caller.status = 'resolved'),
            error: (err) => {
              caller.status = 'rejected';
              caller.error = err;
            },
          });
          break;
        }
        case 'cancel':
        case 'cancel.other':
        case 'cancel.active':
        case 'cancel.pending':
        case 'disconnect':
        case 'disconnect.other':
        case 'disconnect.active':
        case 'disconnect.pending':
        case 'close':
          seq++;
          ref.tell((namedEvent(e.type, c) ?? { type: e.type }) as never);
          break;
        case 'stream.closed.stale':
          injectInternal(rt, 'session/s', { type: '@stream.closed', gen: c.gen - 1, outcome: e.outcome as 'done', text: '' } as EventObject);
          break;
        case 'cleanup.timeout':
          await clock.tick(CLEANUP_MS);
          break;
        case 'stream.settles':
        case 'stream.closes': {
          // The model's task for this event: the same one, by generation.
          const before = steps[i - 1]?.state;
          const mc = before ? ctxOf(before) : undefined;
          const task = before?.tasks.find((t) =>
            e.role === 'fenced' ? t.fenced : !t.fenced && (e.role === 'current') === (mc?.active !== undefined && genOfTask(t.id) === mc.active.gen),
          );
          const s = task ? streamOfTask(task.n) : undefined;
          if (!s) {
            problems.push(`${where}: no provider stream for the model's task ${task?.id}`);
            break;
          }
          if (e.type === 'stream.closes' && e.outcome === 'done') s.push(`last${s.n} `);
          s.close(e.outcome === 'error' ? 'error' : 'done');
          break;
        }
        default:
          problems.push(`${where}: the replay has no driver for this event`);
      }
      await settle();
      problems.push(...compareSession(where, step.state, ref.snapshot(), callers, rid, records));
      if (problems.length > 0) break;
    }
    problems.push(...dataPlane(records, callers));
  } finally {
    await rt.shutdown({ drain: false });
  }
  return problems;
}

function compareSession(
  where: string,
  model: ModelSnapshot,
  snapshot: ReturnType<ReturnType<ReturnType<typeof createRuntime>['ref']>['snapshot']>,
  callers: Caller[],
  rid: (id: string | undefined) => string | undefined,
  records: BusRecord[],
): string[] {
  const out: string[] = [];
  if (!snapshot) return [`${where}: the runtime has no snapshot`];
  const crashed = records.filter((r) => r.type === 'lifecycle.crashed');
  if (crashed.length > 0) out.push(`${where}: the actor crashed: ${JSON.stringify(crashed[0]!.data)}`);
  const mv = valueOf(model);
  const mc = ctxOf(model);
  const rc = snapshot.context as SessionContext;
  const restarts = records.filter((r) => r.type === 'lifecycle.restarted' && (r.data as { reason?: string }).reason === 'done').length;
  const modelRestarts = model.restarts;
  if (restarts !== modelRestarts) out.push(`${where}: the runtime restarted the closed session ${restarts} times, the model ${modelRestarts}`);
  {
    const got = {
      v: snapshot.value,
      gen: rc.gen,
      active: rc.active && { gen: rc.active.gen, requestId: rc.active.requestId },
      pending: rc.pending && { requestId: rc.pending.requestId },
      closeAfter: rc.closeAfter,
      endReason: rc.endReason,
      // The prompts in the history (answers differ: the replay's streams push other text).
      prompts: rc.history.filter((m) => m.role === 'user').map((m) => m.content),
    };
    const want = {
      v: mv,
      gen: mc.gen,
      active: mc.active && { gen: mc.active.gen, requestId: rid(mc.active.requestId) },
      pending: mc.pending && { requestId: rid(mc.pending.requestId) },
      closeAfter: mc.closeAfter,
      endReason: mc.endReason,
      prompts: mc.history.filter((m) => m.role === 'user').map((m) => m.content),
    };
    if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${where}: runtime ${JSON.stringify(got)} != model ${JSON.stringify(want)}`);
  }
  // Every caller the model has answered is settled in the runtime, and vice versa.
  for (const caller of callers) {
    const modelOpen = model.open.includes(caller.modelId) || model.postponed.some((p) => p.id === caller.modelId);
    const runtimeOpen = caller.status === 'open';
    if (modelOpen !== runtimeOpen) {
      out.push(`${where}: request ${caller.modelId} is ${runtimeOpen ? 'open' : caller.status} in the runtime but ${modelOpen ? 'open' : 'answered'} in the model`);
    }
    if (caller.status === 'rejected') {
      const code = (caller.error as { code?: string })?.code;
      if (typeof code !== 'string' || !code.startsWith('INTERLOCK_')) out.push(`${where}: request ${caller.modelId} rejected without a catalogue code: ${String(caller.error)}`);
    }
  }
  return out;
}

/** Data-plane checks over the bus and each caller's stream. */
function dataPlane(records: BusRecord[], callers: Caller[]): string[] {
  const out: string[] = [];
  // Per incarnation: a closed session restarts with gen 0.
  const emitted: (EventObject & { gen?: number })[] = [];
  let endedAt = new Map<number, number>();
  let newest = 0;
  for (const r of records) {
    if (r.type === 'lifecycle.restarted') {
      endedAt = new Map();
      newest = 0;
    }
    if (r.type !== 'emitted') continue;
    const ev = (r.data as { event: EventObject & { gen?: number } }).event;
    const i = emitted.push(ev) - 1;
    const gen = ev.gen ?? -1;
    if (ev.type === 'stream.started') {
      if (gen <= newest) out.push(`stream.started gen ${gen} after gen ${newest}`);
      newest = Math.max(newest, gen);
    }
    if (ev.type === 'stream.end' || ev.type === 'stream.fenced') if (!endedAt.has(gen)) endedAt.set(gen, i);
    if (ev.type === 'chunk') {
      if (endedAt.has(gen)) out.push(`chunk of gen ${gen} on the bus after its ${emitted[endedAt.get(gen)!]!.type}`);
      if (gen < newest) out.push(`chunk of gen ${gen} on the bus after gen ${newest} started (interleaved streams)`);
    }
  }
  for (const caller of callers) {
    let ended = false;
    for (const ev of caller.events) {
      if (ev.type === 'chunk' && ended) out.push(`request ${caller.modelId} got a chunk after its stream ended`);
      if (ev.type === 'stream.end') ended = true;
    }
    const gens = new Set(caller.events.filter((ev) => ev.type === 'chunk').map((ev) => (ev as { gen?: number }).gen));
    if (gens.size > 1) out.push(`request ${caller.modelId} got chunks of several streams: ${[...gens].join(',')}`);
  }
  return out;
}
