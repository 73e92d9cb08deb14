/**
 * The live actor list as data: one row per address, replaced wholesale by each sample the
 * server sends, filtered by kind and by text (in the address or the state), sorted by
 * address. The filtered view is recomputed only when the rows or the filter changed, so a
 * repaint of 10,000 rows costs a scroll's worth of DOM, not a sort. DOM-free.
 */
import { stateLabel } from './records.js';

export interface ActorRow {
  readonly address: string;
  readonly kind: string;
  /** The state value as published, and as text. */
  readonly state: unknown;
  readonly stateText: string;
  /** `running`, `restarting`, `failed`, … as the server reports it. */
  readonly status: string;
  readonly depth: number;
  readonly postponed: number;
  readonly restarts: number;
}

/** The fields an actor list entry from the server may carry (unknown ones read as 0 / ''). */
export interface ActorInfo {
  address: string;
  kind?: string;
  state?: unknown;
  status?: string;
  depth?: number;
  postponed?: number;
  restarts?: number;
}

export function toRow(a: ActorInfo): ActorRow {
  return {
    address: a.address,
    kind: a.kind ?? a.address.slice(0, a.address.indexOf('/')),
    state: a.state,
    stateText: stateLabel(a.state),
    status: a.status ?? '',
    depth: a.depth ?? 0,
    postponed: a.postponed ?? 0,
    restarts: a.restarts ?? 0,
  };
}

export interface ActorFilter {
  /** Only this kind; '' for all. */
  kind: string;
  /** Case-insensitive substring of the address or the state; '' for all. */
  text: string;
}

export class ActorTable {
  private rows: ActorRow[] = [];
  private filter: ActorFilter = { kind: '', text: '' };
  private shown: ActorRow[] | undefined;
  private kindsSeen: string[] = [];

  /** Replaces every row (a new sample from the server). */
  replace(infos: readonly ActorInfo[]): void {
    this.rows = infos.map(toRow).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    this.kindsSeen = [...new Set(this.rows.map((r) => r.kind))].sort();
    this.shown = undefined;
  }

  setFilter(filter: Partial<ActorFilter>): void {
    const next = { ...this.filter, ...filter };
    if (next.kind === this.filter.kind && next.text === this.filter.text) return;
    this.filter = next;
    this.shown = undefined;
  }

  get total(): number {
    return this.rows.length;
  }

  /** The kinds present in the last sample. */
  get kinds(): readonly string[] {
    return this.kindsSeen;
  }

  /** The rows the filter lets through, sorted by address. */
  view(): readonly ActorRow[] {
    if (this.shown) return this.shown;
    const { kind } = this.filter;
    const text = this.filter.text.trim().toLowerCase();
    this.shown =
      kind === '' && text === ''
        ? this.rows
        : this.rows.filter((r) => (kind === '' || r.kind === kind) && (text === '' || r.address.toLowerCase().includes(text) || r.stateText.toLowerCase().includes(text)));
    return this.shown;
  }
}
