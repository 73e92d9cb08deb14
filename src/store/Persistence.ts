import { errors } from '../errors.js';
import type { SnapshotStore } from './SnapshotStore.js';

/**
 * The runtime's use of its {@link SnapshotStore}: loads an address's snapshot for a new
 * activation — after any save of that address still in flight, so a quick reactivation
 * never reads the snapshot before the one being written — and saves snapshots of
 * passivated and stopped actors (or deletes that of a discarded one), remembering the
 * asynchronous saves and deletes until they settle.
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
    return this.call(address, 'save', () => this.store.save(address, persisted));
  }

  /**
   * Deletes the stored snapshot after any save of that address still in flight (a delete that
   * overtook it would leave the saved snapshot behind); a load waits for the delete. Returns a
   * promise like save().
   */
  delete(address: string): Promise<unknown> | undefined {
    const remove = () => this.store.delete(address);
    const saving = this.pending.get(address);
    return saving ? this.track(address, saving.then(remove, remove), 'delete') : this.call(address, 'delete', remove);
  }

  private call(address: string, op: 'save' | 'delete', run: () => unknown): Promise<unknown> | undefined {
    let result: unknown;
    try {
      result = run();
    } catch (err) {
      return Promise.reject(errors.storeFailed(address, op, err));
    }
    return isPromise(result) ? this.track(address, result, op) : undefined;
  }

  private track(address: string, result: Promise<unknown>, op: 'save' | 'delete'): Promise<unknown> {
    const p: Promise<unknown> = result
      .catch((err: unknown) => Promise.reject(errors.storeFailed(address, op, err)))
      .finally(() => {
        if (this.pending.get(address) === p) this.pending.delete(address);
      });
    this.pending.set(address, p);
    return p;
  }

  /** The asynchronous saves and deletes still in flight. */
  inFlight(): Promise<unknown>[] {
    return [...this.pending.values()];
  }
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Promise<unknown>).then === 'function';
}
