/**
 * Draws a laid-out statechart as SVG. State names, internal events and edge labels are SVG
 * `<text>`: real DOM text, selectable, read by screen readers. The current state is lit by
 * a class (`active`) and `aria-current`; a transition that fires flashes (class `flash`,
 * removed when its animation ends).
 */
import type { Layout } from './layout.js';
import { METRICS } from './metrics.js';
import { activeIds, activeLeaves, type ChartEdge, type MachineGraph } from './machineGraph.js';

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

/** Measures text in the fonts the chart's CSS uses (a canvas: nothing is drawn). */
export function canvasMeasure(): (text: string, role: 'state' | 'label' | 'internal') => number {
  const ctx = document.createElement('canvas').getContext('2d');
  const family = getComputedStyle(document.body).fontFamily || 'system-ui, sans-serif';
  const fonts = { state: `600 13px ${family}`, label: `11px ${family}`, internal: `11px ${family}` };
  return (text, role) => {
    if (!ctx) return text.length * 7;
    ctx.font = fonts[role];
    return Math.ceil(ctx.measureText(text).width);
  };
}

export class StatechartView {
  readonly svg: SVGSVGElement;
  private readonly stateEls = new Map<string, SVGGElement>();
  private readonly edgeEls = new Map<string, SVGGElement>();
  private lit = new Set<string>();

  constructor(
    private readonly graph: MachineGraph,
    layout: Layout,
  ) {
    const margin = 8;
    this.svg = el('svg', {
      class: 'statechart',
      viewBox: `${-margin} ${-margin} ${layout.width + 2 * margin} ${layout.height + 2 * margin}`,
      width: layout.width + 2 * margin,
      height: layout.height + 2 * margin,
      role: 'img',
      'aria-label': `Statechart of machine ${graph.root.id}`,
    });
    const defs = el('defs', {}, this.svg);
    const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }, marker);

    const states = el('g', { class: 'states' }, this.svg);
    for (const n of [...layout.nodes].sort((a, b) => a.depth - b.depth)) {
      const g = el('g', { class: `state state-${n.node.type}${n.node.children.length > 0 ? ' compound' : ''}`, 'data-state': n.node.id, 'data-path': n.node.path.join('.') }, states);
      el('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 8, ry: 8 }, g);
      if (n.node.type === 'final') el('rect', { x: n.x + 3, y: n.y + 3, width: n.width - 6, height: n.height - 6, rx: 6, ry: 6, class: 'final-inner' }, g);
      const name = el('text', { x: n.x + METRICS.pad, y: n.y + 18, class: 'state-name' }, g);
      name.textContent = n.node.path.length === 0 ? n.node.id : n.node.key;
      n.node.internal.forEach((ev, i) => {
        const t = el('text', { x: n.x + METRICS.pad, y: n.y + METRICS.header + 8 + i * METRICS.line, class: 'internal', 'data-event': ev }, g);
        t.textContent = ev;
      });
      this.stateEls.set(n.node.id, g);
    }
    for (const i of layout.initials) {
      const g = el('g', { class: 'initial' }, this.svg);
      el('circle', { cx: i.cx, cy: i.cy, r: METRICS.initial / 2 }, g);
      if (i.d) el('path', { d: i.d, 'marker-end': 'url(#arrow)' }, g);
    }
    const edges = el('g', { class: 'edges' }, this.svg);
    const byId = new Map(graph.edges.map((e) => [e.id, e]));
    for (const e of layout.edges) {
      const chart = byId.get(e.id)!;
      const g = el('g', { class: 'edge', 'data-event': chart.event, 'data-source': chart.source, 'data-target': chart.target }, edges);
      el('path', { d: e.d, 'marker-end': 'url(#arrow)' }, g);
      if (e.label) {
        el('rect', { x: e.label.x, y: e.label.y, width: e.label.width, height: e.label.height, rx: 3, class: 'label-bg' }, g);
        const t = el('text', { x: e.label.x + 3, y: e.label.y + e.label.height - 4, class: 'edge-label' }, g);
        t.textContent = e.label.text;
        if (chart.guards.length > 0) el('title', {}, t).textContent = `${chart.event} [${chart.guards.join(' | ')}]`;
      }
      this.edgeEls.set(e.id, g);
    }
  }

  /** Lights the states a state value makes active: leaves `active`, their ancestors `active-parent`. */
  light(value: unknown): void {
    const ids = activeIds(this.graph, value);
    if (ids.size === this.lit.size && [...ids].every((id) => this.lit.has(id))) return;
    const leaves = new Set(activeLeaves(this.graph, value));
    for (const id of this.lit) {
      const g = this.stateEls.get(id);
      g?.classList.remove('active', 'active-parent');
      g?.removeAttribute('aria-current');
    }
    for (const id of ids) {
      const g = this.stateEls.get(id);
      if (!g) continue;
      g.classList.add(leaves.has(id) ? 'active' : 'active-parent');
      if (leaves.has(id)) g.setAttribute('aria-current', 'true');
    }
    this.lit = ids;
  }

  /** Flashes edges that fired, and the internal event of a state that took one without leaving. */
  flash(edges: readonly ChartEdge[], internal?: { state: string; event: string }): void {
    const targets: Element[] = edges.map((e) => this.edgeEls.get(e.id)).filter((g): g is SVGGElement => g !== undefined);
    if (internal) {
      const t = this.stateEls.get(internal.state)?.querySelector(`text.internal[data-event="${CSS.escape(internal.event)}"]`);
      if (t) targets.push(t);
    }
    for (const t of targets) {
      t.classList.remove('flash');
      // Restart the animation: a reflow between removing and adding the class.
      void (t as SVGGraphicsElement).getBBox?.();
      t.classList.add('flash');
      t.addEventListener('animationend', () => t.classList.remove('flash'), { once: true });
    }
  }
}
