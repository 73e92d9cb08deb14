/**
 * A virtualised list of fixed-height rows: a scrolling viewport, a spacer as tall as every
 * row together, and DOM only for the rows in view (plus a few either side), so 10,000
 * items cost what 40 do. Rows are plain DOM (text is selectable and read by screen
 * readers); `aria-rowcount` / `aria-rowindex` give assistive technology the full size.
 * A row element stays with its item (keyed), so what is under the pointer is what gets
 * clicked, even while rows scroll or new items arrive.
 */
export interface VirtualListOptions<T> {
  rowHeight: number;
  /** A stable identity of an item: its row element is kept for it. */
  key(item: T): string;
  /** Fills a row element for an item (called on every paint; set everything each time). */
  render(row: HTMLElement, item: T, index: number): void;
  /** Extra rows rendered above and below the viewport. Default 8. */
  overscan?: number;
}

export class VirtualList<T> {
  readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rowsEl: HTMLElement;
  private items: readonly T[] = [];
  private rows = new Map<string, HTMLElement>();
  private frame = 0;

  constructor(
    container: HTMLElement,
    private readonly options: VirtualListOptions<T>,
  ) {
    this.viewport = container;
    this.viewport.classList.add('vlist');
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    this.rowsEl = document.createElement('div');
    this.rowsEl.className = 'vlist-rows';
    this.rowsEl.setAttribute('role', 'rowgroup');
    this.spacer.appendChild(this.rowsEl);
    this.viewport.appendChild(this.spacer);
    this.viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  setItems(items: readonly T[]): void {
    this.items = items;
    this.viewport.setAttribute('aria-rowcount', String(items.length));
    this.paint();
  }

  get length(): number {
    return this.items.length;
  }

  /** Scrolls so the item at `index` is in view. */
  reveal(index: number): void {
    const h = this.options.rowHeight;
    const top = index * h;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (top + h > this.viewport.scrollTop + this.viewport.clientHeight) this.viewport.scrollTop = top + h - this.viewport.clientHeight;
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint();
    });
  }

  /** Renders the rows in view now. */
  paint(): void {
    const { rowHeight, render } = this.options;
    const overscan = this.options.overscan ?? 8;
    const n = this.items.length;
    this.spacer.style.height = `${n * rowHeight}px`;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / rowHeight) - overscan);
    const visible = Math.ceil((this.viewport.clientHeight || rowHeight * 20) / rowHeight) + 2 * overscan;
    const last = Math.min(n, first + visible);
    const next = new Map<string, HTMLElement>();
    for (let index = first; index < last; index++) {
      const item = this.items[index]!;
      let key = this.options.key(item);
      while (next.has(key)) key += '\u0000'; // a repeated key (not expected) still gets its own row
      let row = this.rows.get(key);
      if (row === undefined) {
        row = document.createElement('div');
        row.className = 'vlist-row';
        row.setAttribute('role', 'row');
        row.style.height = `${rowHeight}px`;
      }
      next.set(key, row);
      row.style.transform = `translateY(${index * rowHeight}px)`;
      row.setAttribute('aria-rowindex', String(index + 1));
      render(row, item, index);
      if (row.parentNode !== this.rowsEl) this.rowsEl.appendChild(row);
    }
    for (const [key, row] of this.rows) if (next.get(key) !== row) row.remove();
    this.rows = next;
  }
}
