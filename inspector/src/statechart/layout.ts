/**
 * Lays a machine graph out with ELK (elkjs, its main-thread build: no worker, nothing
 * fetched): layered, left to right, compound states containing their children, edges
 * routed across levels of nesting, event labels placed by ELK. Every coordinate comes out
 * of ELK; this file only sizes boxes for their text and converts ELK's relative
 * coordinates to absolute ones. DOM-free (text is measured by the caller's function).
 */
import elkBundled from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkApi, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { ChartNode, MachineGraph } from './machineGraph.js';
import { METRICS } from './metrics.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidNode extends Box {
  readonly node: ChartNode;
  readonly depth: number;
}

export interface LaidEdge {
  readonly id: string;
  /** SVG path data, absolute coordinates. */
  readonly d: string;
  readonly label: (Box & { text: string }) | undefined;
}

export interface LaidInitial {
  /** The compound state whose initial marker this is. */
  readonly parent: string;
  readonly cx: number;
  readonly cy: number;
  readonly d: string;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodes: LaidNode[];
  readonly edges: LaidEdge[];
  readonly initials: LaidInitial[];
}

/** Text metrics the boxes are sized from: width in px of a string in the given font role. */
export type Measure = (text: string, role: 'state' | 'label' | 'internal') => number;

// elk.bundled.js is CommonJS (`module.exports = ELK`): its default import is the constructor
// in Node and in the browser bundle, though NodeNext's types see the module object.
const ELK = elkBundled as unknown as new () => ElkApi;

const INITIAL = '__initial__/';

export async function layoutGraph(graph: MachineGraph, measure: Measure): Promise<Layout> {
  const elk = new ELK();
  const toElk = (n: ChartNode): ElkNode => {
    const textWidth = Math.max(measure(n.key, 'state'), ...n.internal.map((t) => measure(t, 'internal')), 40);
    const extra = n.internal.length * METRICS.line;
    if (n.children.length === 0) {
      return { id: n.id, width: textWidth + 2 * METRICS.pad, height: METRICS.header + extra + (extra > 0 ? METRICS.pad / 2 : 4) };
    }
    const children = n.children.map(toElk);
    if (n.initial !== undefined) children.unshift({ id: `${INITIAL}${n.id}`, width: METRICS.initial, height: METRICS.initial });
    return {
      id: n.id,
      children,
      layoutOptions: {
        // Room at the top for the state's name and its internal events.
        'elk.padding': `[top=${METRICS.header + extra + 8},left=${METRICS.pad},bottom=${METRICS.pad},right=${METRICS.pad}]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${textWidth + 2 * METRICS.pad}, ${METRICS.header + extra})`,
      },
    };
  };

  const edges: ElkExtendedEdge[] = graph.edges.map((e) => ({
    id: e.id,
    sources: [e.source],
    targets: [e.target],
    labels: [{ id: `${e.id}#label`, text: e.label, width: measure(e.label, 'label') + 6, height: METRICS.labelHeight }],
  }));
  for (const n of graph.nodes.values()) {
    if (n.initial !== undefined && n.children.length > 0) edges.push({ id: `${INITIAL}${n.id}→`, sources: [`${INITIAL}${n.id}`], targets: [n.initial] });
  }

  const root: ElkNode = {
    ...toElk(graph.root),
    edges,
    layoutOptions: {
      ...toElk(graph.root).layoutOptions,
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '48',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.edgeLabel': '4',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.edgeLabels.sideSelection': 'ALWAYS_UP',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    },
  };
  const out = await elk.layout(root);

  // ELK gives child coordinates relative to their parent and edge coordinates relative to
  // the edge's container: collect every node's absolute origin first.
  const origin = new Map<string, { x: number; y: number }>();
  const nodes: LaidNode[] = [];
  const initials: { parent: string; box: Box }[] = [];
  const walk = (n: ElkNode, ox: number, oy: number, depth: number, parent: string | undefined): void => {
    const x = ox + (n.x ?? 0);
    const y = oy + (n.y ?? 0);
    origin.set(n.id, { x, y });
    const chart = graph.nodes.get(n.id);
    if (chart) nodes.push({ node: chart, depth, x, y, width: n.width ?? 0, height: n.height ?? 0 });
    else if (n.id.startsWith(INITIAL) && parent !== undefined) initials.push({ parent, box: { x, y, width: n.width ?? 0, height: n.height ?? 0 } });
    for (const c of n.children ?? []) walk(c, x, y, depth + 1, n.id);
  };
  walk(out, 0, 0, 0, undefined);

  const laidEdges: LaidEdge[] = [];
  const initialPaths = new Map<string, string>();
  for (const e of (out.edges ?? []) as ElkExtendedEdge[]) {
    const o = origin.get(e.container ?? out.id) ?? { x: 0, y: 0 };
    const d = (e.sections ?? []).map((s) => pathOf([s.startPoint, ...(s.bendPoints ?? []), s.endPoint], o)).join(' ');
    if (e.id.startsWith(INITIAL)) {
      initialPaths.set(e.sources[0]!, d);
      continue;
    }
    const l = e.labels?.[0];
    laidEdges.push({
      id: e.id,
      d,
      label: l ? { text: l.text ?? '', x: o.x + (l.x ?? 0), y: o.y + (l.y ?? 0), width: l.width ?? 0, height: l.height ?? 0 } : undefined,
    });
  }
  return {
    width: out.width ?? 0,
    height: out.height ?? 0,
    nodes,
    edges: laidEdges,
    initials: initials.map(({ parent, box }) => ({
      parent,
      cx: box.x + box.width / 2,
      cy: box.y + box.height / 2,
      d: initialPaths.get(`${INITIAL}${parent}`) ?? '',
    })),
  };
}

/** Path data through ELK's points (orthogonal routing: a polyline). */
function pathOf(points: { x: number; y: number }[], o: { x: number; y: number }): string {
  return points.map((pt, i) => `${i === 0 ? 'M' : 'L'}${round(pt.x + o.x)},${round(pt.y + o.y)}`).join(' ');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
