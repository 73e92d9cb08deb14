/**
 * Which actors are inspected now. Inspection is on for an address while someone asks for it:
 * a `runtime.inspect()` subscription (every actor, or one address), or, when the runtime is
 * created with `inspect: 'watched'`, any subscriber to the address's records (or to every
 * record). Counted per scope, so the last one to leave turns it off and the observers are
 * detached: an actor nobody inspects pays nothing.
 * @internal
 */
import { Observable } from 'rxjs';

/** An actor that can be tapped (the activation). */
export interface Inspectable {
  readonly address: string;
  setInspected(on: boolean): void;
}

export class Inspection {
  private everything = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(
    /** Calls `fn` for the live actor at `address`, or for every live actor when undefined. */
    private readonly each: (address: string | undefined, fn: (a: Inspectable) => void) => void,
  ) {}

  /** Whether the actor at `address` is inspected. O(1); called once per actor start. */
  has(address: string): boolean {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: 'size > 0' is a fast path ('true' or '>= 0' leave byAddress.has(address) deciding, false on an empty map)
    return this.everything > 0 || (this.byAddress.size > 0 && this.byAddress.has(address));
  }

  retain(address: string | undefined): void {
    if (address === undefined) {
      if (this.everything++ === 0) this.each(undefined, (a) => a.setInspected(true));
      return;
    }
    const n = this.byAddress.get(address) ?? 0;
    this.byAddress.set(address, n + 1);
    if (n === 0 && this.everything === 0) this.each(address, (a) => a.setInspected(true));
  }

  release(address: string | undefined): void {
    if (address === undefined) {
      if (this.everything === 0) return;
      if (--this.everything === 0) this.each(undefined, (a) => a.setInspected(this.has(a.address)));
      return;
    }
    const n = this.byAddress.get(address);
    if (n === undefined) return;
    if (n > 1) return void this.byAddress.set(address, n - 1);
    this.byAddress.delete(address);
    if (this.everything === 0) this.each(address, (a) => a.setInspected(false));
  }

  /** `records` with inspection of `address` (every actor when undefined) on while subscribed. */
  while<T>(records: Observable<T>, address: string | undefined): Observable<T> {
    return new Observable<T>((subscriber) => {
      // Subscribed first: the records the taps publish from now on have a reader.
      const sub = records.subscribe(subscriber);
      this.retain(address);
      return () => {
        this.release(address);
        sub.unsubscribe();
      };
    });
  }
}
