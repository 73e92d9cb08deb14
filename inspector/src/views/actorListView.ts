/**
 * The live actor list: the {@link ActorTable} drawn by a {@link VirtualList}, a kind
 * selector and a text filter. New samples are applied at most every 250 ms (the caller
 * feeds them as they come); a filter change applies at once.
 */
import { ActorTable, type ActorInfo, type ActorRow } from '../actorTable.js';
import { sampler, type Sampler } from '../sampler.js';
import { fill } from './timelineView.js';
import { VirtualList } from './virtualList.js';

const ROW = 24;
export const APPLY_EVERY_MS = 250;

export class ActorListView {
  readonly table = new ActorTable();
  private readonly list: VirtualList<ActorRow>;
  private readonly sample: Sampler;
  private next: readonly ActorInfo[] | undefined;
  private selected: string | undefined;

  constructor(
    private readonly els: { list: HTMLElement; kind: HTMLSelectElement; text: HTMLInputElement; count: HTMLElement },
    private readonly onSelect: (address: string) => void,
  ) {
    this.list = new VirtualList<ActorRow>(els.list, {
      rowHeight: ROW,
      key: (r) => r.address,
      render: (row, r) => {
        row.dataset.address = r.address;
        row.setAttribute('aria-selected', String(r.address === this.selected));
        fill(row, [r.address, r.stateText, String(r.depth), String(r.postponed), String(r.restarts)]);
        const cells = row.children;
        cells[1]!.className = r.status === 'failed' ? 'status-failed' : '';
        if (r.status === 'failed') cells[1]!.textContent = `failed (${r.stateText})`;
        for (let i = 2; i < 5; i++) cells[i]!.classList.add('num');
      },
    });
    this.sample = sampler(() => this.apply(), APPLY_EVERY_MS, {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      now: () => performance.now(),
    });
    els.list.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.vlist-row');
      if (row?.dataset.address) this.select(row.dataset.address);
    });
    els.list.addEventListener('keydown', (e) => this.onKey(e));
    els.kind.addEventListener('change', () => this.filter());
    els.text.addEventListener('input', () => this.filter());
  }

  /** A new sample of every live actor; painted within {@link APPLY_EVERY_MS}. */
  update(actors: readonly ActorInfo[]): void {
    this.next = actors;
    this.sample.request();
  }

  select(address: string): void {
    this.selected = address;
    this.list.paint();
    this.onSelect(address);
  }

  private filter(): void {
    this.table.setFilter({ kind: this.els.kind.value, text: this.els.text.value });
    this.paint();
  }

  private apply(): void {
    if (this.next) {
      this.table.replace(this.next);
      this.next = undefined;
      this.syncKinds();
    }
    this.paint();
  }

  private paint(): void {
    const rows = this.table.view();
    this.list.setItems(rows);
    this.els.count.textContent = rows.length === this.table.total ? `(${this.table.total})` : `(${rows.length} of ${this.table.total})`;
    // For timing (bench/inspector.ts reads it): when each list paint finished, with its size.
    performance.mark('inspector:actors-painted', { detail: { shown: rows.length, total: this.table.total } });
  }

  private syncKinds(): void {
    const have = new Set([...this.els.kind.options].map((o) => o.value));
    for (const k of this.table.kinds) {
      if (have.has(k)) continue;
      const o = document.createElement('option');
      o.value = k;
      o.textContent = k;
      this.els.kind.appendChild(o);
    }
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const rows = this.table.view();
    const at = rows.findIndex((r) => r.address === this.selected);
    const next = Math.min(rows.length - 1, Math.max(0, at + (e.key === 'ArrowDown' ? 1 : -1)));
    const row = rows[next];
    if (!row) return;
    e.preventDefault();
    this.list.reveal(next);
    this.select(row.address);
  }
}
