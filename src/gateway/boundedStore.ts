/**
 * A memory snapshot store that holds at most `max` snapshots, evicting the least recently
 * used. `interlock serve` uses it so passivated sessions cannot grow memory without bound
 * (a client inventing 100,000 session ids): an evicted session starts over with an empty
 * history when it comes back.
 */
import type { SnapshotStore } from '../store/SnapshotStore.js';

export function boundedMemoryStore(max: number): SnapshotStore & { readonly size: number; readonly evicted: number } {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`boundedMemoryStore: max must be an integer >= 1, got ${String(max)}`);
  const map = new Map<string, unknown>();
  let evicted = 0;
  return {
    load: (address) => {
      const snapshot = map.get(address);
      if (snapshot !== undefined) {
        // Most recently used goes to the end of the Map's insertion order.
        map.delete(address);
        map.set(address, snapshot);
      }
      return snapshot;
    },
    save: (address, snapshot) => {
      map.delete(address);
      map.set(address, snapshot);
      while (map.size > max) {
        map.delete(map.keys().next().value as string);
        evicted++;
      }
    },
    delete: (address) => {
      map.delete(address);
    },
    get size() {
      return map.size;
    },
    get evicted() {
      return evicted;
    },
  };
}
