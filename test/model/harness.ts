/**
 * A pure model of "an Interlock runtime hosting one machine", for xstate/graph.
 *
 * xstate/graph traverses an `ActorLogic`. Traversing the bare machine would miss what the
 * runtime adds around it (and what the machines rely on): request ids, postponing events
 * a state does not accept, answers closing turns, tasks that can be aborted or fenced.
 * So the logic traversed here wraps the machine with a small, synchronous mirror of
 * `Activation`:
 * - the machine runs with an actor scope whose `self` has a fake turn host
 *   (src/runtime/hostSlot), so `requestId`, `reply`, `fail`, `runTask`, `abortTask` and
 *   `fenceTask` do what they do in a runtime, recorded instead of performed;
 * - an event from the mailbox that the state cannot take (`!snapshot.can(event)`) is
 *   postponed, a same-type event never overtakes a postponed one, and after each state
 *   change the oldest postponed head the state can take is delivered;
 * - a task's completion is an event of the model ("the provider closed"), offered only
 *   while the task is live; a fenced task may hang forever or settle (its result dropped).
 *
 * The events of the graph are *abstract* (`{ type: 'cancel.active' }`); each machine's spec
 * turns one into a concrete delivery against the current snapshot, so a path of abstract
 * events replays the same way from every concrete state that shares an abstract key.
 *
 * Each transition also records its effects (`last`): the XState transitions taken (from
 * the `@xstate.microstep` inspection events), emitted events, answers and task
 * operations. The adjacency map therefore carries everything the coverage count and the
 * per-step invariants need.
 */
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine, AnyTransitionDefinition } from 'xstate';

type EventObject = AnyEventObject;
import { registerHost, type TurnHost } from '../../src/runtime/hostSlot.js';
import type { TaskContext } from '../../src/runtime/TaskSet.js';

export interface AbstractEvent {
  type: string;
  [detail: string]: unknown;
}

export type Delivery =
  /** Through the mailbox (tell or ask): may be postponed; `reply` opens a turn. */
  | { kind: 'mailbox'; event: EventObject; reply: boolean }
  /** A live task settles; `value` is what its code returns (ok) or throws. */
  | { kind: 'task'; taskId: string; ok: boolean; value: (task: TaskRec) => unknown }
  /** A fenced task finally settles: nothing reaches the machine. */
  | { kind: 'settle-fenced'; taskId: string }
  /** A delayed (`after`) event firing. */
  | { kind: 'timer'; event: EventObject }
  /** An internal (`@`) event through the runtime's door for task outcomes, not the mailbox. */
  | { kind: 'internal'; event: EventObject };

export interface Env {
  id: string;
  seq: number;
  event: EventObject;
  reply: boolean;
}

export interface TaskRec {
  id: string;
  /** 1-based order of all task starts: the n-th task is the runtime's n-th provider or restart call. */
  n: number;
  /** The request the task works for (its emits go there). */
  for: string | undefined;
  aborted: boolean;
  fenced: boolean;
  done: (output: unknown) => EventObject;
  error: (err: unknown) => EventObject;
}

export interface Answer {
  to: string | undefined;
  ok: boolean;
  value: unknown;
  /** Whether the answer closed an open turn (false: its turn was already closed, or nobody). */
  closed: boolean;
}

export interface StepEffects {
  /** Every XState transition taken, in order (one event may take several: eventless ones). */
  transitions: AnyTransitionDefinition[];
  emitted: EventObject[];
  answers: Answer[];
  started: string[];
  aborted: string[];
  fenced: string[];
  /** Requests delivered in this step (ids), including postponed ones delivered later. */
  delivered: string[];
  /** Requests postponed in this step. */
  postponed: string[];
  /** Things the runtime would refuse or crash on (e.g. a task id reused while it still runs). */
  violations: string[];
  /** The machine reached a final state; the runtime restarted it fresh. Requests still open then. */
  restarted: { open: string[] } | undefined;
}

export interface ModelSnapshot {
  /** 'error': the runtime would crash the actor here (a violation); the model stops there. */
  status: 'active' | 'done' | 'error';
  output: undefined;
  error: undefined;
  machine: AnyMachineSnapshot;
  postponed: Env[];
  seq: number;
  /** Open turns: requests delivered with a reply channel and not answered yet. */
  open: string[];
  /** Tasks started and not settled (fenced ones included: they may still be running). */
  tasks: TaskRec[];
  /** Requests answered so far (ids): an answer to one of these again is a double answer. */
  answered: string[];
  /** Tasks started so far. */
  taskCount: number;
  /** Times the machine reached a final state and was restarted. */
  restarts: number;
  /** What the transition that produced this snapshot did. */
  last: StepEffects | undefined;
}

export interface ModelSpec {
  /** The abstract events offered in a state. */
  events(s: ModelSnapshot): AbstractEvent[];
  /** The concrete delivery of an abstract event in a state. */
  deliver(s: ModelSnapshot, e: AbstractEvent): Delivery;
  /** The abstract key: equal keys must behave the same for every abstract event. */
  key(s: ModelSnapshot): string;
}

function emptyEffects(): StepEffects {
  return { transitions: [], emitted: [], answers: [], started: [], aborted: [], fenced: [], delivered: [], postponed: [], violations: [], restarted: undefined };
}

/** The mutable working copy of a model snapshot during one transition. */
interface Work {
  machine: AnyMachineSnapshot;
  postponed: Env[];
  seq: number;
  open: string[];
  tasks: TaskRec[];
  answered: string[];
  taskCount: number;
  restarts: number;
  fx: StepEffects;
  delivering: string | undefined;
  currentTurn: string | undefined;
  pendingAnswers: { to: string | undefined; ok: boolean; value: unknown }[];
}

/**
 * Builds the model logic for `machine`. The returned object is an `ActorLogic` that
 * xstate/graph can traverse (`getAdjacencyMap`, `getShortestPaths`, `getSimplePaths`).
 */
export function modelLogic(machine: AnyStateMachine, spec: ModelSpec) {
  let work: Work | undefined;
  const self: { id: string } = { id: 'model' };
  const host: TurnHost = {
    address: self.id,
    deliveringId: () => work?.delivering,
    answer: (to, ok, value) => work!.pendingAnswers.push({ to: to ? to.id : work!.currentTurn, ok, value }),
    // As the runtime: a caller waits while its turn is open (the model's callers never leave).
    awaitsAnswer: (to) => {
      const id = to ? to.id : work!.currentTurn;
      return id !== undefined && work!.open.includes(id);
    },
    startTask: (id, _run: (ctx: TaskContext) => Promise<unknown>, done, error, forRequest) => {
      const w = work!;
      const taskId = id ?? `task-${w.fx.started.length}`;
      // The runtime frees a fenced task's id at once: only a live task with the id collides.
      if (w.tasks.some((t) => t.id === taskId && !t.fenced)) {
        w.fx.violations.push(`task '${taskId}' started while a task with that id is still running (TaskSet throws: the actor crashes)`);
        return;
      }
      const forId = forRequest ? forRequest.id : w.currentTurn;
      const turn = forId !== undefined && w.open.includes(forId) ? forId : undefined;
      w.tasks.push({ id: taskId, n: ++w.taskCount, for: turn, aborted: false, fenced: false, done, error });
      w.fx.started.push(taskId);
    },
    abortTask: (id) => {
      const w = work!;
      const i = w.tasks.findIndex((t) => t.id === id && !t.fenced);
      if (i < 0) return;
      w.tasks[i] = { ...w.tasks[i]!, aborted: true };
      w.fx.aborted.push(id);
    },
    fenceTask: (id) => {
      const w = work!;
      const i = w.tasks.findIndex((t) => t.id === id && !t.fenced);
      if (i < 0) return;
      // The runtime frees a fenced task's id at once (its late outcome is dropped), so the
      // machine may start a new task under the same id while the old one still hangs: the
      // fenced one stays in the model until it settles (`settle-fenced`).
      w.tasks[i] = { ...w.tasks[i]!, aborted: true, fenced: true };
      w.fx.fenced.push(id);
    },
    heartbeat: () => {},
    // The model's tasks never run their code, so nothing mails the actor from a task.
    tellSelf: () => {},
  };
  registerHost(self, host);
  const system = {
    _sendInspectionEvent: (e: { type: string; _transitions?: AnyTransitionDefinition[] }) => {
      if (e.type === '@xstate.microstep' && work) work.fx.transitions.push(...(e._transitions ?? []));
    },
    _bookId: () => 'x',
    _register: () => {},
    _unregister: () => {},
    _set: () => {},
    get: () => undefined,
    getAll: () => ({}),
    scheduler: { schedule: () => {}, cancel: () => {}, cancelAll: () => {} },
    _clock: { setTimeout: () => 0, clearTimeout: () => {} },
    _logger: () => {},
    _relay: () => {},
  };
  const scope: any = {
    self,
    id: 'model',
    sessionId: 'model',
    logger: () => {},
    system,
    defer: (fn: () => void) => fn(),
    emit: (event: EventObject) => work?.fx.emitted.push(event),
    stopChild: () => {},
    actionExecutor: (action: { type: string; info: unknown; params: any; exec?: (info: unknown, params: unknown) => void }) => {
      // Delayed raises (the `after` timers) are not scheduled: the graph fires them as events.
      if (action.type === 'xstate.raise' || action.type === 'xstate.cancel') return;
      action.exec?.(action.info, action.params);
    },
  };

  const send = (w: Work, event: EventObject): boolean => {
    const before = w.machine;
    const next = machine.transition(before, event, scope) as AnyMachineSnapshot;
    w.machine = next;
    flushAnswers(w);
    return next !== before;
  };

  const flushAnswers = (w: Work) => {
    const answers = w.pendingAnswers;
    w.pendingAnswers = [];
    for (const a of answers) {
      const open = a.to !== undefined && w.open.includes(a.to);
      w.fx.answers.push({ ...a, closed: open });
      if (!open) continue;
      w.open = w.open.filter((id) => id !== a.to);
      w.answered = [...w.answered, a.to!];
      if (w.currentTurn === a.to) w.currentTurn = undefined;
      // Ending a turn fences its tasks (TaskSet.endTurn).
      w.tasks = w.tasks.map((t) => {
        if (t.for !== a.to || t.fenced) return t;
        w.fx.fenced.push(t.id);
        return { ...t, aborted: true, fenced: true };
      });
    }
  };

  /** Activation.deliver for one envelope: returns whether the state changed. */
  const deliverEnv = (w: Work, env: Env): boolean => {
    const prevTurn = w.currentTurn;
    if (env.reply) {
      w.open = [...w.open, env.id];
      w.currentTurn = env.id;
    }
    const can = w.machine.can(env.event);
    if (!can) {
      if (env.reply) {
        w.open = w.open.filter((id) => id !== env.id);
        w.currentTurn = prevTurn;
      }
      w.postponed = [...w.postponed, env];
      w.fx.postponed.push(env.id);
      return false;
    }
    w.delivering = env.id;
    try {
      send(w, env.event);
    } finally {
      w.delivering = undefined;
    }
    w.fx.delivered.push(env.id);
    return true;
  };

  /** After a state change: the oldest postponed head the state can take, again and again. */
  const drainPostponed = (w: Work) => {
    for (let guard = 0; guard < 100; guard++) {
      const heads: Env[] = [];
      const seen = new Set<string>();
      for (const env of [...w.postponed].sort((a, b) => a.seq - b.seq)) {
        if (seen.has(env.event.type)) continue;
        seen.add(env.event.type);
        heads.push(env);
      }
      const head = heads.find((env) => w.machine.can(env.event));
      if (!head) return;
      w.postponed = w.postponed.filter((env) => env !== head);
      deliverEnv(w, head);
    }
    throw new Error('postponed events keep being delivered: a loop in the model');
  };

  /**
   * Activation.restartAfterDone: a machine that reached a final state is torn down (open
   * turns rejected with INTERLOCK_ACTOR_STOPPED, every task fenced and forgotten) and
   * started fresh; what waits in the mailbox is delivered to the new incarnation.
   */
  const restartAfterDone = (w: Work) => {
    w.fx.restarted = { open: [...w.open] };
    w.restarts++;
    for (const id of w.open) w.fx.answers.push({ to: id, ok: false, value: { code: 'INTERLOCK_ACTOR_STOPPED' }, closed: true });
    w.answered = [...w.answered, ...w.open];
    w.open = [];
    w.currentTurn = undefined;
    w.tasks = [];
    w.machine = machine.getInitialSnapshot(scope) as AnyMachineSnapshot;
    drainPostponed(w);
  };

  const logic = {
    config: machine.config,
    transition(s: ModelSnapshot, e: AbstractEvent): ModelSnapshot {
      if (s.status !== 'active') return s;
      const w: Work = {
        machine: s.machine,
        // Copies: the working arrays are mutated; the snapshot traversed from must not be.
        postponed: [...s.postponed],
        seq: s.seq,
        open: [...s.open],
        tasks: [...s.tasks],
        answered: [...s.answered],
        taskCount: s.taskCount,
        restarts: s.restarts,
        fx: emptyEffects(),
        delivering: undefined,
        currentTurn: undefined,
        pendingAnswers: [],
      };
      work = w;
      try {
        const d = spec.deliver(s, e);
        let changed = false;
        if (d.kind === 'mailbox') {
          const env: Env = { id: `r${++w.seq}`, seq: w.seq, event: d.event, reply: d.reply };
          if (w.postponed.some((p) => p.event.type === env.event.type)) {
            w.postponed = [...w.postponed, env];
            w.fx.postponed.push(env.id);
          } else changed = deliverEnv(w, env);
        } else if (d.kind === 'task') {
          const task = w.tasks.find((t) => t.id === d.taskId && !t.fenced);
          if (!task) throw new Error(`model: no task '${d.taskId}' to settle`);
          w.tasks = w.tasks.filter((t) => t !== task);
          if (!task.fenced) {
            const value = d.value(task);
            changed = send(w, d.ok ? task.done(value) : task.error(value));
          }
        } else if (d.kind === 'settle-fenced') {
          w.tasks = w.tasks.filter((t) => !(t.id === d.taskId && t.fenced));
        } else {
          changed = send(w, d.event);
        }
        if (changed) drainPostponed(w);
        if (w.machine.status === 'done') restartAfterDone(w);
        return {
          status: w.fx.violations.length > 0 ? 'error' : w.machine.status === 'done' ? 'done' : 'active',
          output: undefined,
          error: undefined,
          machine: w.machine,
          postponed: w.postponed,
          seq: w.seq,
          open: w.open,
          tasks: w.tasks,
          answered: w.answered,
          taskCount: w.taskCount,
          restarts: w.restarts,
          last: w.fx,
        };
      } finally {
        work = undefined;
      }
    },
    getInitialSnapshot(): ModelSnapshot {
      const w: Work = {
        machine: undefined as never,
        postponed: [],
        seq: 0,
        open: [],
        tasks: [],
        answered: [],
        taskCount: 0,
        restarts: 0,
        fx: emptyEffects(),
        delivering: undefined,
        currentTurn: undefined,
        pendingAnswers: [],
      };
      work = w;
      try {
        w.machine = machine.getInitialSnapshot(scope) as AnyMachineSnapshot;
      } finally {
        work = undefined;
      }
      return { status: 'active', output: undefined, error: undefined, machine: w.machine, postponed: [], seq: 0, open: [], tasks: [], answered: [], taskCount: 0, restarts: 0, last: w.fx };
    },
    getPersistedSnapshot: (s: ModelSnapshot) => s,
  };
  return logic;
}

export type ModelLogic = ReturnType<typeof modelLogic>;

/** The key of a model state: its status (a crash ends the model) and the spec's abstract key. */
export function stateKey(spec: ModelSpec) {
  return (s: ModelSnapshot) => `${s.status} ${spec.key(s)}`;
}

/** Traversal options for xstate/graph: the spec's events and abstract key. */
export function traversal(spec: ModelSpec) {
  return {
    events: (s: ModelSnapshot) => (s.status === 'active' ? spec.events(s) : []),
    serializeState: stateKey(spec),
    serializeEvent: (e: AbstractEvent) => JSON.stringify(e),
  };
}

// ---- coverage -------------------------------------------------------------------------

export interface StateNodeLike {
  id: string;
  key: string;
  type: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, AnyTransitionDefinition[]>;
  always?: AnyTransitionDefinition[];
  parent?: StateNodeLike;
}

/** Every state node below the root (the root itself is not a state one can be "in"). */
export function allStates(machine: AnyStateMachine): StateNodeLike[] {
  const out: StateNodeLike[] = [];
  const walk = (n: StateNodeLike) => {
    for (const c of Object.values(n.states)) {
      out.push(c);
      walk(c);
    }
  };
  walk(machine.root as unknown as StateNodeLike);
  return out;
}

/** A readable name of one transition definition: `source --event [guard]--> target`. */
export function describeTransition(t: AnyTransitionDefinition): string {
  const guard = t.guard ? ` [${typeof t.guard === 'string' ? t.guard : ((t.guard as { type?: string }).type ?? 'inline')}]` : '';
  const event = t.eventType === '' ? 'always' : t.eventType;
  const target = t.target?.length ? t.target.map((s) => (s as unknown as StateNodeLike).id).join(',') : '(self)';
  const idx = indexInList(t);
  return `${(t.source as unknown as StateNodeLike).id} --${event}${guard}#${idx}--> ${target}`;
}

function indexInList(t: AnyTransitionDefinition): number {
  const src = t.source as unknown as StateNodeLike;
  const list = t.eventType === '' ? (src.always ?? []) : (src.transitions.get(t.eventType) ?? []);
  return list.indexOf(t);
}

/** Every transition definition: each `on` branch (guarded ones separately), `after` and `always`. */
export function allTransitions(machine: AnyStateMachine): AnyTransitionDefinition[] {
  const out: AnyTransitionDefinition[] = [];
  const walk = (n: StateNodeLike) => {
    for (const defs of n.transitions.values()) out.push(...defs);
    out.push(...(n.always ?? []));
    for (const c of Object.values(n.states)) walk(c);
  };
  walk(machine.root as unknown as StateNodeLike);
  return out;
}

/** State node ids active in a snapshot (atomic states and their ancestors, root excluded). */
export function activeStateIds(s: AnyMachineSnapshot): string[] {
  return (s._nodes as unknown as StateNodeLike[]).filter((n) => n.parent !== undefined).map((n) => n.id);
}

/** State node ids passed through within a step: every transition's source and target subtree entered. */
export function statesOfStep(fx: StepEffects): string[] {
  const ids: string[] = [];
  for (const t of fx.transitions) {
    for (const target of t.target ?? []) {
      let n: StateNodeLike | undefined = target as unknown as StateNodeLike;
      while (n && n.parent) {
        ids.push(n.id);
        n = n.parent;
      }
    }
  }
  return ids;
}

export interface Coverage {
  states: { covered: Set<string>; all: string[] };
  /** By {@link describeTransition}, so coverage adds up over instances of one machine (one per policy). */
  transitions: { covered: Set<string>; all: string[] };
}

export function newCoverage(machine: AnyStateMachine): Coverage {
  return {
    states: { covered: new Set(), all: allStates(machine).map((n) => n.id) },
    transitions: { covered: new Set(), all: allTransitions(machine).map(describeTransition) },
  };
}

export function coverStep(cov: Coverage, s: ModelSnapshot): void {
  for (const id of activeStateIds(s.machine)) cov.states.covered.add(id);
  if (!s.last) return;
  for (const id of statesOfStep(s.last)) cov.states.covered.add(id);
  for (const t of s.last.transitions) cov.transitions.covered.add(describeTransition(t));
}

export function coverageLine(name: string, cov: Coverage): string {
  const st = cov.states.all.filter((id) => cov.states.covered.has(id)).length;
  const tr = cov.transitions.all.filter((t) => cov.transitions.covered.has(t)).length;
  return `${name}: ${st}/${cov.states.all.length} states, ${tr}/${cov.transitions.all.length} transitions`;
}

export function uncovered(cov: Coverage): { states: string[]; transitions: string[] } {
  return {
    states: cov.states.all.filter((id) => !cov.states.covered.has(id)),
    transitions: cov.transitions.all.filter((t) => !cov.transitions.covered.has(t)),
  };
}

// ---- paths ------------------------------------------------------------------------------

export interface ModelStep {
  event: AbstractEvent;
  /** The model snapshot after the event. */
  state: ModelSnapshot;
}

export interface ModelPath {
  steps: ModelStep[];
}

/**
 * One path per edge of the adjacency map: the shortest path to the edge's source state
 * followed by the edge. Together they take every (abstract state, event) pair once, so
 * they cover whatever transition the model can take. Paths that are a prefix of another
 * are dropped (replaying the longer one checks the same steps).
 */
export function edgePaths(
  adjacency: Record<string, { state: ModelSnapshot; transitions: Record<string, { event: AbstractEvent; state: ModelSnapshot }> }>,
  shortest: { state: ModelSnapshot; steps: { state: ModelSnapshot; event: AbstractEvent }[] }[],
  key: (s: ModelSnapshot) => string,
  logic: ModelLogic,
): ModelPath[] {
  const prefix = new Map<string, AbstractEvent[]>();
  // Steps are (event, state after it), the first one being `xstate.init`.
  for (const p of shortest) prefix.set(key(p.state), p.steps.map((st) => st.event).filter((e) => e.type !== 'xstate.init'));
  const raw: AbstractEvent[][] = [];
  for (const [k, v] of Object.entries(adjacency)) {
    const head = prefix.get(k);
    if (!head) throw new Error(`no shortest path to ${k}`);
    for (const t of Object.values(v.transitions)) raw.push([...head, t.event]);
  }
  // Drop strict prefixes of another path.
  const ser = raw.map((evs) => evs.map((e) => JSON.stringify(e)));
  const keys = new Set(ser.map((s) => s.join('\n')));
  const prefixes = new Set<string>();
  for (const s of ser) for (let i = 1; i < s.length; i++) prefixes.add(s.slice(0, i).join('\n'));
  const kept = [...keys].filter((k) => !prefixes.has(k));
  return kept.map((k) => replayModel(logic, k.split('\n').map((s) => JSON.parse(s) as AbstractEvent)));
}

/** Runs abstract events through the model from its initial state. */
export function replayModel(logic: ModelLogic, events: AbstractEvent[]): ModelPath {
  let s = logic.getInitialSnapshot();
  const steps: ModelStep[] = [];
  for (const event of events) {
    s = logic.transition(s, event);
    steps.push({ event, state: s });
  }
  return { steps };
}

export function describePath(path: ModelPath | AbstractEvent[]): string {
  const evs = Array.isArray(path) ? path : path.steps.map((s) => s.event);
  return evs.map((e) => e.type).join(' → ') || '(initial)';
}
