/**
 * The selected actor: its statechart with the current state lit (and transitions flashing
 * as they fire), its mailbox, its context view, the timeline of its records, and the
 * history scrubber. Live, each record is applied in order as it arrives (so every state it
 * passes through is lit, however briefly); scrubbed back, everything shows the actor right
 * after the chosen record, reconstructed from what it published.
 */
import { ActorHistory, type PointInTime } from '../history.js';
import { fields, stateLabel, type MailboxEntry, type Rec } from '../records.js';
import type { Layout } from '../statechart/layout.js';
import { edgesTaken, eventLabel, machineGraph, type ChartEdge, type MachineGraph, type StateNodeJSON } from '../statechart/machineGraph.js';
import { canvasMeasure, StatechartView } from '../statechart/render.js';
import { TimelineView } from './timelineView.js';

export interface ActorViewEls {
  title: HTMLElement;
  meta: HTMLElement;
  chart: HTMLElement;
  scrubber: HTMLInputElement;
  scrubAt: HTMLOutputElement;
  live: HTMLButtonElement;
  mailbox: HTMLTableSectionElement;
  context: HTMLElement;
  timeline: HTMLElement;
}

interface Chart {
  graph: MachineGraph;
  view: StatechartView;
}

interface LaidChart {
  graph: MachineGraph;
  layout: Layout;
}

const TRAIL = 8;

export class ActorView {
  history: ActorHistory | undefined;
  private chart: Chart | undefined;
  /** The record shown (its epoch and seq: indexes shift when older records are backfilled); undefined while live. */
  private pinnedAt: { epoch: number; seq: number } | undefined;
  private readonly timeline: TimelineView;
  private frame = 0;
  private lastState: unknown;
  private lastDelivered: string | undefined;
  private trail: string[] = [];
  private readonly charts = new Map<string, Promise<LaidChart>>();

  constructor(
    private readonly els: ActorViewEls,
    private readonly machineOf: (kind: string) => Promise<StateNodeJSON>,
  ) {
    this.timeline = new TimelineView(els.timeline, (i) => this.scrubTo(i));
    els.scrubber.addEventListener('input', () => {
      const i = Number(els.scrubber.value);
      this.scrubTo(i >= (this.history?.size ?? 0) - 1 ? undefined : i);
    });
    els.live.addEventListener('click', () => this.scrubTo(undefined));
  }

  /** Starts showing `address` (records arrive through {@link add}). */
  async select(address: string, kind: string): Promise<void> {
    this.history = new ActorHistory(address);
    this.pinnedAt = undefined;
    this.lastState = undefined;
    this.trail = [];
    this.els.title.textContent = address;
    this.els.chart.replaceChildren(textDiv('laying out the statechart…'));
    this.chart = undefined;
    const history = this.history;
    try {
      const chart = await this.chartFor(kind);
      if (this.history !== history) return;
      // A fresh SVG per selection: the kind's layout is cached, its lit state is per actor.
      const view = new StatechartView(chart.graph, chart.layout);
      this.chart = { graph: chart.graph, view };
      this.els.chart.replaceChildren(view.svg);
    } catch (err) {
      if (this.history === history) this.els.chart.replaceChildren(textDiv(`No statechart: ${(err as Error).message}`));
    }
    this.repaint();
  }

  /** Records of the selected actor, in arrival order (replayed, then live). */
  add(recs: readonly Rec[]): void {
    const h = this.history;
    if (!h) return;
    for (const rec of recs) {
      if (!h.add(rec)) continue;
      // Only a record that is now the newest moves the live view (a backfilled older one does not).
      if (this.pinnedAt === undefined && h.last === rec) this.applyLive(rec);
    }
    this.scheduleRepaint();
  }

  /** The mailbox the server reports now: what was queued before the buffered records began. */
  setMailbox(entries: MailboxEntry[]): void {
    const last = this.history?.last;
    this.history?.setMailboxBaseline({ epoch: last?.epoch ?? 0, seq: last?.seq ?? 0, entries });
    this.scheduleRepaint();
  }

  /** Shows the actor right after record `index`; undefined: live. */
  scrubTo(index: number | undefined): void {
    const rec = index === undefined ? undefined : this.history?.records[index];
    this.pinnedAt = rec && { epoch: rec.epoch, seq: rec.seq };
    const p = this.point();
    this.chart?.view.light(p.state);
    this.repaint();
  }

  /** Index of the record shown (the newest while live). */
  private get pinned(): number | undefined {
    if (this.pinnedAt === undefined) return undefined;
    const i = this.history!.indexOf(this.pinnedAt.epoch, this.pinnedAt.seq);
    return i < 0 ? 0 : i; // forgotten (past the buffer's bound): the oldest kept
  }

  private point(): PointInTime {
    return this.history!.at(this.pinned ?? this.history!.size - 1);
  }

  /** Live: light the state each snapshot reaches and flash what moved it, record by record. */
  private applyLive(rec: Rec): void {
    const d = fields(rec);
    if (rec.type === 'mailbox.delivered' && typeof d.type === 'string') this.lastDelivered = d.type;
    const chart = this.chart;
    if (rec.type === 'transition' && chart) {
      const steps = Array.isArray(d.transitions) ? (d.transitions as { source: string; targets: string[]; event: string }[]) : [];
      const edges: ChartEdge[] = [];
      for (const s of steps) {
        if (s.targets.length === 0) chart.view.flash([], { state: s.source, event: eventLabel(s.event) });
        for (const t of s.targets) {
          const e = chart.graph.edges.find((x) => x.source === s.source && x.target === t && x.event === s.event);
          if (e) edges.push(e);
        }
      }
      chart.view.flash(edges);
      return;
    }
    if (rec.type !== 'snapshot' || rec.data === undefined) return;
    const value = d.value;
    if (chart) {
      chart.view.light(value);
      // Without transition records (inspection off), infer the edge from the state change.
      if (this.lastState !== undefined && stateLabel(this.lastState) !== stateLabel(value) && !this.hasTransitions()) {
        chart.view.flash(edgesTaken(chart.graph, this.lastState, value, this.lastDelivered));
      }
    }
    if (stateLabel(this.lastState) !== stateLabel(value)) this.trail = [...this.trail, stateLabel(value)].slice(-TRAIL);
    this.lastState = value;
  }

  private hasTransitions(): boolean {
    return this.history?.records.some((r) => r.type === 'transition') ?? false;
  }

  /** The kind's graph and layout, computed once per kind. */
  private chartFor(kind: string): Promise<LaidChart> {
    let p = this.charts.get(kind);
    if (!p) {
      p = (async () => {
        // ELK is most of the page's code: loaded when the first chart is drawn, not before the list.
        const [def, { layoutGraph }] = await Promise.all([this.machineOf(kind), import('../statechart/layout.js')]);
        const graph = machineGraph(def);
        return { graph, layout: await layoutGraph(graph, canvasMeasure()) };
      })();
      p.catch(() => this.charts.delete(kind));
      this.charts.set(kind, p);
    }
    return p;
  }

  private scheduleRepaint(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.repaint();
    });
  }

  private repaint(): void {
    const h = this.history;
    if (!h) return;
    const p = this.point();
    const pinned = this.pinned;
    const live = pinned === undefined;
    const size = h.size;
    const { scrubber, scrubAt, live: liveButton } = this.els;
    scrubber.max = String(Math.max(0, size - 1));
    scrubber.value = String(live ? size - 1 : pinned);
    scrubber.disabled = size < 2;
    scrubber.setAttribute('aria-valuetext', p.at ? `seq ${p.at.seq}` : 'no records');
    scrubAt.value = live ? `live · seq ${p.at?.seq ?? '—'}` : `seq ${p.at?.seq} of ${h.last?.seq}`;
    scrubAt.parentElement!.classList.toggle('past', !live);
    liveButton.disabled = live;
    this.chart?.view.light(p.state);

    this.els.meta.replaceChildren(
      span('state ', ''),
      span(stateLabel(p.state), 'state'),
      span(`  ·  status ${p.status ?? '—'}  ·  ${p.mailbox.length} waiting  ·  `, ''),
      span(`states: ${this.trail.join(' → ')}`, 'trail'),
    );
    this.els.context.textContent = p.context === undefined ? '(no snapshot buffered)' : JSON.stringify(p.context, null, 2);
    this.paintMailbox(p, live);
    this.timeline.show(h.records, live ? size - 1 : pinned, live);
  }

  private paintMailbox(p: PointInTime, live: boolean): void {
    const now = live ? Date.now() : (p.at?.ts ?? Date.now());
    const rows = p.mailbox.map((e) => {
      const tr = document.createElement('tr');
      if (e.postponed) tr.className = 'postponed';
      tr.dataset.id = e.id;
      for (const text of [
        e.id,
        e.type,
        e.lane ?? '—',
        e.enqueuedAt === undefined ? '—' : `${Math.max(0, Math.round(now - e.enqueuedAt))} ms`,
        e.deadline === undefined || e.deadline === null ? '—' : `in ${Math.max(0, Math.round(e.deadline - now))} ms`,
        e.postponed ? 'postponed' : 'queued',
      ]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      tr.className = 'none';
      const td = document.createElement('td');
      td.colSpan = 6;
      td.textContent = 'empty';
      tr.appendChild(td);
      rows.push(tr);
    }
    this.els.mailbox.replaceChildren(...rows);
  }
}

function span(text: string, cls: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.textContent = text;
  if (cls) s.className = cls;
  return s;
}

function textDiv(text: string): HTMLDivElement {
  const d = document.createElement('div');
  d.className = 'empty';
  d.textContent = text;
  return d;
}
