/**
 * Where passivated actors keep their snapshot. Methods may answer synchronously (the
 * memory store does, so activation costs no extra tick) or with a promise.
 */
export interface SnapshotStore {
  /** The persisted snapshot of `address`, or undefined when there is none. */
  load(address: string): unknown | Promise<unknown>;
  save(address: string, snapshot: unknown): void | Promise<void>;
  delete(address: string): void | Promise<void>;
}

/** The default store: a Map in this process. */
export function memoryStore(): SnapshotStore & { readonly size: number } {
  const map = new Map<string, unknown>();
  return {
    load: (address) => map.get(address),
    save: (address, snapshot) => {
      map.set(address, snapshot);
    },
    delete: (address) => {
      map.delete(address);
    },
    get size() {
      return map.size;
    },
  };
}
