/**
 * A machine definition (XState v5's `machine.toJSON()`: the root state node's definition)
 * as a graph to lay out: one node per state, nested as the machine nests them; one edge
 * per (source, target, event) with the event as its label; targetless transitions listed
 * inside their state. DOM-free.
 */

/**
 * A state as the server describes it (src/inspect/machineGraph.ts: `states` an array,
 * transitions with `targets` ids and a `label`), or as XState v5's `machine.toJSON()` does
 * (`states` an object, `target` as `#id`, no eventless transitions).
 */
export interface StateNodeJSON {
  id: string;
  key: string;
  type?: string;
  initial?: { target?: string[] } | string | null;
  states?: Record<string, StateNodeJSON> | StateNodeJSON[];
  transitions?: TransitionJSON[];
  /** Eventless transitions, when given apart (XState's definition). */
  always?: TransitionJSON[];
}

export interface TransitionJSON {
  /** The server's name for the event type; XState's is `eventType`. */
  event?: string;
  eventType?: string | null;
  label?: string;
  targets?: readonly string[];
  target?: readonly string[] | null;
  guard?: string | { type?: string } | null;
}

export interface ChartNode {
  /** The state's id (`session.streaming`). */
  readonly id: string;
  readonly key: string;
  /** Keys from the root's child down to this state (empty for the root). */
  readonly path: readonly string[];
  readonly type: string;
  readonly children: ChartNode[];
  /** Events this state takes without leaving it (targetless transitions), labelled. */
  readonly internal: string[];
  /** The id of the initial child, for compound states. */
  readonly initial: string | undefined;
}

export interface ChartEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** The event type as the machine names it (`xstate.after.cleanup.…` for a delay, '' for eventless). */
  readonly event: string;
  readonly label: string;
  readonly guards: readonly string[];
}

export interface MachineGraph {
  readonly root: ChartNode;
  readonly edges: readonly ChartEdge[];
  readonly nodes: ReadonlyMap<string, ChartNode>;
}

export function machineGraph(def: StateNodeJSON): MachineGraph {
  const nodes = new Map<string, ChartNode>();
  const pending: { source: StateNodeJSON; t: TransitionJSON; always: boolean }[] = [];

  const visit = (d: StateNodeJSON, path: string[]): ChartNode => {
    const kids = Array.isArray(d.states) ? d.states : Object.entries(d.states ?? {}).map(([key, c]) => ({ ...c, key: c.key ?? key }));
    const children = kids.map((c) => visit(c, [...path, c.key]));
    const initialTarget = typeof d.initial === 'string' ? d.initial : d.initial?.target?.[0];
    const node: ChartNode = {
      id: d.id,
      key: d.key,
      path,
      type: d.type ?? (children.length > 0 ? 'compound' : 'atomic'),
      children,
      internal: [],
      initial: initialTarget === undefined ? undefined : resolveTarget(initialTarget, d, children),
    };
    nodes.set(d.id, node);
    for (const t of d.transitions ?? []) pending.push({ source: d, t, always: false });
    for (const t of d.always ?? []) pending.push({ source: d, t, always: true });
    return node;
  };
  const root = visit(def, []);

  const edges = new Map<string, { source: string; target: string; event: string; label: string; guards: string[] }>();
  for (const { source, t, always } of pending) {
    const event = always ? '' : (t.event ?? t.eventType ?? '');
    const label = t.label ?? eventLabel(event);
    const guard = typeof t.guard === 'string' ? t.guard : (t.guard?.type ?? undefined);
    const targets = (t.targets ?? t.target ?? []).map((x) => resolveTarget(x, source, nodes.get(source.id)!.children)).filter((x) => nodes.has(x));
    if (targets.length === 0) {
      const node = nodes.get(source.id)!;
      if (!node.internal.includes(label)) node.internal.push(label);
      continue;
    }
    for (const target of targets) {
      const id = `${source.id}→${target}:${event}`;
      const e = edges.get(id) ?? { source: source.id, target, event, label, guards: [] };
      if (guard !== undefined && !e.guards.includes(guard)) e.guards.push(guard);
      edges.set(id, e);
    }
  }
  return { root, nodes, edges: [...edges.entries()].map(([id, e]) => ({ id, ...e })) };
}

/** `#session.idle` → `session.idle`; an id passes through; a bare key names a child or a sibling. */
function resolveTarget(target: string, source: StateNodeJSON, children: ChartNode[]): string {
  if (target.startsWith('#')) return target.slice(1);
  if (target.includes('.')) return target;
  const child = children.find((c) => c.key === target);
  if (child) return child.id;
  const dot = source.id.lastIndexOf('.');
  return dot < 0 ? `${source.id}.${target}` : `${source.id.slice(0, dot)}.${target}`;
}

/** How an event reads on an edge: delays and eventless transitions get words, not internals. */
export function eventLabel(event: string): string {
  if (event === '') return 'always';
  const after = /^xstate\.after\.([^.]+)\./.exec(event);
  if (after) return /^\d+$/.test(after[1]!) ? `after ${after[1]} ms` : `after ${after[1]}`;
  const done = /^xstate\.done\.actor\.(.+)$/.exec(event);
  if (done) return `done: ${done[1]}`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(event);
  if (error) return `error: ${error[1]}`;
  if (event.startsWith('xstate.done.state.')) return 'done';
  return event;
}

/**
 * The ids of the states a state value makes active, ancestors included:
 * `'streaming'` → root and `root.streaming`; `{ a: 'x' }` → root, `a`, `a.x`.
 */
export function activeIds(graph: MachineGraph, value: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: ChartNode, v: unknown): void => {
    out.add(node.id);
    if (typeof v === 'string') {
      const child = node.children.find((c) => c.key === v);
      if (child) out.add(child.id);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
        const child = node.children.find((c) => c.key === k);
        if (child) walk(child, sub);
      }
    }
  };
  if (value !== undefined && value !== null) walk(graph.root, value);
  return out;
}

/** The deepest active state ids (the leaves): what is lit. */
export function activeLeaves(graph: MachineGraph, value: unknown): string[] {
  const active = activeIds(graph, value);
  return [...active].filter((id) => !graph.nodes.get(id)?.children.some((c) => active.has(c.id)));
}

/**
 * The edges that a change from `before` to `after` most likely took on `event` (when known):
 * edges whose source was active before and whose target is active after.
 */
export function edgesTaken(graph: MachineGraph, before: unknown, after: unknown, event?: string): ChartEdge[] {
  const was = activeIds(graph, before);
  const is = activeIds(graph, after);
  // A real change: the edge leaves a state that is no longer active or enters one that was not.
  const changed = graph.edges.filter((e) => was.has(e.source) && is.has(e.target) && (!was.has(e.target) || !is.has(e.source)));
  const byEvent = event === undefined ? [] : changed.filter((e) => e.event === event);
  return byEvent.length > 0 ? byEvent : changed;
}
