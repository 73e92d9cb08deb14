/**
 * The selected actor's recent records (`seq`, type, what it means, payload) as a
 * virtualised list. The row at the scrub point is marked; rows after it are greyed; a click
 * on a row scrubs there. While live it follows the newest record.
 */
import { summarize, type Rec } from '../records.js';
import { VirtualList } from './virtualList.js';

const ROW = 22;
const PAYLOAD_CHARS = 400;

export class TimelineView {
  private readonly list: VirtualList<Rec>;
  private current = -1;

  constructor(container: HTMLElement, onPick: (index: number) => void) {
    this.list = new VirtualList<Rec>(container, {
      rowHeight: ROW,
      key: (rec) => `${rec.epoch}:${rec.seq}`,
      render: (row, rec, index) => {
        row.className = `vlist-row${index === this.current ? ' current' : index > this.current ? ' future' : ''}`;
        row.dataset.seq = String(rec.seq);
        row.dataset.type = rec.type;
        row.dataset.index = String(index);
        const payload = rec.data === undefined ? '' : JSON.stringify(rec.data);
        fill(row, [String(rec.seq), rec.type, summarize(rec), payload.length > PAYLOAD_CHARS ? `${payload.slice(0, PAYLOAD_CHARS)}…` : payload]);
        (row.lastElementChild as HTMLElement).className = 'payload';
        row.title = rec.ts === undefined ? '' : new Date(rec.ts).toISOString();
      },
    });
    container.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.vlist-row');
      if (row?.dataset.index !== undefined) onPick(Number(row.dataset.index));
    });
  }

  /** Shows `records` with the scrub point at `current` (the last index while live). */
  show(records: readonly Rec[], current: number, follow: boolean): void {
    this.current = current;
    this.list.setItems(records);
    if (follow) this.list.reveal(records.length - 1);
    else this.list.reveal(current);
    this.list.paint();
  }
}

/** Sets a row's cells (spans), reusing the ones it has. */
export function fill(row: HTMLElement, texts: readonly string[]): void {
  while (row.children.length > texts.length) row.lastElementChild!.remove();
  texts.forEach((t, i) => {
    let cell = row.children[i] as HTMLElement | undefined;
    if (!cell) {
      cell = document.createElement('span');
      cell.setAttribute('role', 'gridcell');
      row.appendChild(cell);
    }
    if (cell.textContent !== t) cell.textContent = t;
  });
}
