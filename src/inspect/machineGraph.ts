/**
 * A kind's machine as JSON a page can lay out as a statechart: nested states with their
 * initial and final states, and every transition labelled by what triggers it, read from
 * XState's state nodes (`machine.root`). Structure only: guard and action *names*, never
 * context, params or closures. Internal transitions (`@…` task outcomes, `after` timers,
 * eventless `always`) are included, because they are structure, and marked `internal`.
 */
import type { AnyStateMachine } from 'xstate';
import { isReservedType } from '../events.js';
import type { Kind } from '../kinds.js';

export type StateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

/** How a transition fires. */
export type Trigger = 'event' | 'always' | 'after' | 'xstate';

export interface GraphTransition {
  /** The event type as XState names it: '' for eventless, `xstate.after.<delay>.<state id>` for a timer. */
  readonly event: string;
  /** What to write on the edge: the event type, `always`, or `after <delay>`. */
  readonly label: string;
  readonly trigger: Trigger;
  /** Not sendable from outside: an `@…` task outcome, a timer, an eventless or other `xstate.…` transition. */
  readonly internal: boolean;
  /** In the kind's `publicEvents`: a remote caller (or the inspector page) may send it. */
  readonly public: boolean;
  /** Id of the state the transition leaves (`session.streaming`). */
  readonly source: string;
  /** Ids of the states it enters; empty for a targetless transition (actions only). */
  readonly targets: readonly string[];
  /** The guard's name (`and(a, b)` for combinators, `inline` for an anonymous function). */
  readonly guard?: string;
  readonly actions: readonly string[];
  readonly reenter: boolean;
  /** `after` transitions: the delay, a name (`cleanup`) or milliseconds. */
  readonly delay?: string | number;
}

export interface GraphState {
  /** XState's state node id (`session.streaming`), unique in the machine; transitions refer to it. */
  readonly id: string;
  readonly key: string;
  /** Keys from the root, e.g. `['restarting', 'backoff']`. */
  readonly path: readonly string[];
  readonly type: StateType;
  /** Compound states: the id of the initial child. */
  readonly initial?: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /** A progress deadline (`meta.stallAfterMs`) the runtime enforces in this state. */
  readonly stallAfterMs?: number;
  readonly entry: readonly string[];
  readonly exit: readonly string[];
  /** Children in document order. */
  readonly states: readonly GraphState[];
  /** Transitions in the order XState tries them (per event, guarded ones first as written). */
  readonly transitions: readonly GraphTransition[];
}

export interface MachineGraph {
  readonly kind: string;
  /** The machine's id (`session`). */
  readonly machine: string;
  readonly publicEvents: readonly string[];
  readonly root: GraphState;
}

/** What the graph reads of XState v5's StateNode; `entry`, `exit` and `tags` are always arrays there (its constructor copies them with toArray). */
interface NodeLike {
  id: string;
  key: string;
  path: string[];
  type: StateType;
  description?: string;
  tags: string[];
  meta?: { stallAfterMs?: unknown };
  entry: unknown[];
  exit: unknown[];
  states: Record<string, NodeLike>;
  /** Every node has one: target `[]`, or `[child]` on a compound node (XState throws for a compound without `initial`). */
  initial: { target: NodeLike[] };
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
}

/** What the graph reads of a transition; `actions` is always an array (XState's formatTransition). */
interface TransitionLike {
  eventType: string;
  source: NodeLike;
  target?: NodeLike[];
  guard?: unknown;
  actions: unknown[];
  reenter?: boolean;
  delay?: string | number;
}

/** The graph of one kind's machine. Built on request (cache it if you serve it often). @internal */
export function machineGraph(kind: Pick<Kind, 'name' | 'machine' | 'publicEvents'>): MachineGraph {
  const machine: AnyStateMachine = kind.machine;
  return {
    kind: kind.name,
    machine: machine.id,
    publicEvents: [...kind.publicEvents].sort(),
    root: node(machine.root as unknown as NodeLike, kind.publicEvents),
  };
}

function node(n: NodeLike, publicEvents: ReadonlySet<string>): GraphState {
  const transitions: GraphTransition[] = [];
  for (const list of n.transitions.values()) for (const t of list) transitions.push(edge(t, publicEvents));
  for (const t of n.always ?? []) transitions.push(edge(t, publicEvents));
  const initial = n.type === 'compound' ? n.initial.target[0]!.id : undefined;
  const stall = n.meta?.stallAfterMs;
  return {
    id: n.id,
    key: n.key,
    path: [...n.path],
    type: n.type,
    ...(initial === undefined ? {} : { initial }),
    ...(n.description ? { description: n.description } : {}),
    tags: [...n.tags],
    ...(typeof stall === 'number' ? { stallAfterMs: stall } : {}),
    entry: n.entry.map(actionName),
    exit: n.exit.map(actionName),
    states: Object.values(n.states).map((child) => node(child, publicEvents)),
    transitions,
  };
}

function edge(t: TransitionLike, publicEvents: ReadonlySet<string>): GraphTransition {
  const event = t.eventType;
  const trigger: Trigger = event === '' ? 'always' : t.delay !== undefined ? 'after' : event.startsWith('xstate.') ? 'xstate' : 'event';
  const label = trigger === 'always' ? 'always' : trigger === 'after' ? `after ${typeof t.delay === 'number' ? `${t.delay} ms` : String(t.delay)}` : event;
  const guard = t.guard === undefined ? undefined : guardName(t.guard);
  return {
    event,
    label,
    trigger,
    internal: isReservedType(event),
    public: publicEvents.has(event),
    source: t.source.id,
    targets: (t.target ?? []).map((s) => s.id),
    ...(guard === undefined ? {} : { guard }),
    actions: t.actions.map(actionName),
    reenter: t.reenter === true,
    ...(t.delay === undefined ? {} : { delay: t.delay }),
  };
}

function guardName(g: unknown): string {
  if (typeof g === 'string') return g;
  if (typeof g === 'function') {
    // Combinators (and, or, not) keep their operands in `guards`.
    const inner = (g as unknown as { guards?: unknown }).guards;
    if (Array.isArray(inner)) return `${g.name || 'guard'}(${inner.map(guardName).join(', ')})`;
    return 'inline';
  }
  if (typeof g === 'object' && g !== null && typeof (g as { type?: unknown }).type === 'string') return (g as { type: string }).type;
  return 'inline';
}

function actionName(a: unknown): string {
  if (typeof a === 'string') return a;
  if (typeof a === 'object' && a !== null && typeof (a as { type?: unknown }).type === 'string') return (a as { type: string }).type;
  // An inline function, or a built-in action object (assign, emit) written inline.
  const name = typeof a === 'function' ? (a as { type?: unknown }).type ?? a.name : undefined;
  return typeof name === 'string' && name !== '' ? name : 'inline';
}
