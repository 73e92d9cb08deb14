import { Observable, Subject } from 'rxjs';
import type { Clock } from '../clock.js';
import { Channel } from './Channel.js';
import type { BusRecord, ResumePoint } from './records.js';

/**
 * The runtime's event bus. Every record goes to `all$` and, if anyone listens to that
 * address, to a per-address subject created on demand, so a subscriber to one actor
 * costs nothing for the others (no filter over every record per subscriber).
 */
export class Bus {
  readonly all$ = new Subject<BusRecord>();
  private readonly byAddress = new Map<string, Subject<BusRecord>>();
  private readonly sink = (record: BusRecord): boolean => {
    // Stryker disable next-line BooleanLiteral: the sink's answer matters only to a channel with no ring yet, which publishes only when watched(address) holds, and then all$ or this address's subject (both observed) receives the record
    let seen = false;
    // Stryker disable next-line ConditionalExpression: as above; and next() on a Subject nobody observes does nothing
    if (this.all$.observed) {
      this.all$.next(record);
      seen = true;
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path; get() on an empty map finds nothing
    if (this.byAddress.size > 0) {
      const subject = this.byAddress.get(record.address);
      if (subject) {
        subject.next(record);
        seen = true;
      }
    }
    return seen;
  };

  // Stryker disable next-line ConditionalExpression,EqualityOperator: 'size > 0' is a fast path ('true' or '>= 0' leave has(address) deciding); the test of a watched address kills the rest
  private readonly watched = (address: string): boolean => this.all$.observed || (this.byAddress.size > 0 && this.byAddress.has(address));

  constructor(private readonly clock: Clock) {}

  channel(address: string, epoch: number, capacity: number): Channel {
    return new Channel(address, epoch, capacity, this.sink, this.clock, this.watched);
  }

  /**
   * Records of one address: first those after `since` still in the replay buffer (or one
   * synthetic `replay.gap` record when they are not), then live ones, across
   * reactivations of the address.
   */
  events(address: string, current: () => Channel | undefined, since?: ResumePoint): Observable<BusRecord> {
    return new Observable<BusRecord>((subscriber) => {
      if (since !== undefined) {
        const ch = current();
        const replay = this.replay(ch, since);
        if (replay) for (const r of replay) subscriber.next(r);
        else
          subscriber.next({
            address,
            epoch: ch?.epoch ?? 0,
            seq: ch?.seq ?? 0,
            ts: this.clock.now(),
            type: 'replay.gap',
            data: { requested: since, oldestSeq: ch?.oldestSeq ?? 0 },
          });
      }
      let subject = this.byAddress.get(address);
      if (!subject) {
        subject = new Subject<BusRecord>();
        this.byAddress.set(address, subject);
      }
      const live = subject;
      const sub = live.subscribe(subscriber);
      return () => {
        sub.unsubscribe();
        // Stryker disable next-line ConditionalExpression: the subject in the map is always `live` here (a subject leaves the map only here, once unobserved, and in complete(), whose completion runs this teardown before the clear)
        if (!live.observed && this.byAddress.get(address) === live) this.byAddress.delete(address);
      };
    });
  }

  /**
   * The records of `ch` after `since` still in its replay buffer, oldest first, without
   * subscribing; undefined when some of them are gone (another epoch, overwritten, or no
   * live activation).
   */
  replay(ch: Channel | undefined, since: ResumePoint): BusRecord[] | undefined {
    return ch && ch.epoch === since.epoch ? ch.since(since.seq) : undefined;
  }

  complete(): void {
    this.all$.complete();
    for (const s of this.byAddress.values()) s.complete();
    this.byAddress.clear();
  }
}
