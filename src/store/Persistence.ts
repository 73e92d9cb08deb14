import { errors } from '../errors.js';
import type { SnapshotStore } from './SnapshotStore.js';

/**
 * The runtime's use of its {@link SnapshotStore}: loads an address's snapshot for a new
 * activation — after any save of that address still in flight, so a quick reactivation
 * never reads the snapshot before the one being written — and saves snapshots of
 * passivated and stopped actors, remembering the asynchronous saves until they settle.
 * A store may answer synchronously (the memory store does: activation costs no tick).
 * @internal
 */
export class Persistence {
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(private readonly store: SnapshotStore) {}

  /** Calls `loaded` with the stored snapshot (undefined: none), or `failed` with the store's error. */
  load(address: string, loaded: (persisted: unknown) => void, failed: (err: unknown) => void): void {
    const read = () => {
      let result: unknown;
      try {
        result = this.store.load(address);
      } catch (err) {
        // Reported as a rejection would be, a microtask later: the send that activated the
        // address is queued by then, so its caller learns why the actor stopped.
        return void Promise.reject(err).catch(failed);
      }
      if (isPromise(result)) result.then(loaded, failed);
      else loaded(result);
    };
    const saving = this.pending.get(address);
    // A failed save is reported by save()'s caller; the load goes ahead either way.
    if (saving) saving.then(read, read);
    else read();
  }

  /** Saves; returns a promise when the store is asynchronous (rejected with INTERLOCK_STORE_FAILED), else undefined. */
  save(address: string, persisted: unknown): Promise<unknown> | undefined {
    let result: unknown;
    try {
      result = this.store.save(address, persisted);
    } catch (err) {
      return Promise.reject(errors.storeFailed(address, 'save', err));
    }
    if (!isPromise(result)) return undefined;
    const p: Promise<unknown> = result
      .catch((err: unknown) => Promise.reject(errors.storeFailed(address, 'save', err)))
      .finally(() => {
        if (this.pending.get(address) === p) this.pending.delete(address);
      });
    this.pending.set(address, p);
    return p;
  }

  /** The asynchronous saves still in flight. */
  inFlight(): Promise<unknown>[] {
    return [...this.pending.values()];
  }
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Promise<unknown>).then === 'function';
}
