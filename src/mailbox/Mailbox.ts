import { EnvelopeList, LANES, PRIORITY_LANE, type Envelope } from './envelope.js';

/**
 * One actor's mailbox: four lanes (control, high, normal, low), FIFO within a lane, and
 * a postponed set kept as one FIFO per event type.
 *
 * Every operation is O(1) except {@link postponedHeads}, which is O(k) in the number of
 * distinct postponed event types (a handful). Keeping postponed envelopes per type gives
 * two things: an arriving envelope whose type already has postponed ones joins them
 * without asking the machine (it cannot overtake them), and a retry after a state change
 * asks the machine about one head per type instead of every postponed envelope.
 *
 * The mailbox lives outside the machine's context: XState context updates are
 * immutable copies, and a queue kept there costs O(n) per enqueue.
 */
export class Mailbox {
  /** Lists per lane, created on first use; most actors only ever use the normal lane. */
  private normal: EnvelopeList | undefined;
  private others: (EnvelopeList | undefined)[] | undefined;
  private postponedByType: Map<string, EnvelopeList> | undefined;
  private queuedCount = 0;
  private postponedCount = 0;

  constructor(readonly capacity: number) {}

  /** Envelopes waiting to be delivered: queued plus postponed. */
  get depth(): number {
    return this.queuedCount + this.postponedCount;
  }

  get queued(): number {
    return this.queuedCount;
  }

  get postponed(): number {
    return this.postponedCount;
  }

  get isFull(): boolean {
    return this.queuedCount + this.postponedCount >= this.capacity;
  }

  /** Adds to the tail of the envelope's lane. The caller checks {@link isFull} first. */
  enqueue(env: Envelope): void {
    this.lane(env.lane, true)!.push(env);
    env.state = 'queued';
    this.queuedCount++;
  }

  /** The next queued envelope in lane, then FIFO order. */
  dequeue(): Envelope | undefined {
    if (this.queuedCount === 0) return undefined;
    for (let i = 0; i < LANES; i++) {
      // Stryker disable next-line BooleanLiteral: creating an empty lane on read changes nothing but memory
      const lane = this.lane(i, false);
      if (lane && lane.size > 0) {
        this.queuedCount--;
        return lane.shift();
      }
    }
    return undefined;
  }

  hasPostponed(type: string): boolean {
    const list = this.postponedByType?.get(type);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a per-type list in the map is never empty (remove() deletes it with its last envelope)
    return list !== undefined && list.size > 0;
  }

  postpone(env: Envelope): void {
    if (!this.postponedByType) this.postponedByType = new Map();
    let list = this.postponedByType.get(env.event.type);
    if (!list) {
      list = new EnvelopeList();
      this.postponedByType.set(env.event.type, list);
    }
    list.push(env);
    env.state = 'postponed';
    this.postponedCount++;
  }

  /** The oldest postponed envelope of each type, oldest first. */
  postponedHeads(): Envelope[] {
    const heads: Envelope[] = [];
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a fast path; with nothing postponed the loop below finds no list
    if (this.postponedCount === 0 || !this.postponedByType) return heads;
    // Stryker disable next-line ConditionalExpression: a list in the map always has a head (see hasPostponed)
    for (const list of this.postponedByType.values()) if (list.head) heads.push(list.head);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: sorting zero or one element is a no-op
    if (heads.length > 1) heads.sort((a, b) => a.seq - b.seq);
    return heads;
  }

  /** Removes an envelope from wherever it waits (queued or postponed). */
  remove(env: Envelope): boolean {
    const list = env.list;
    if (!list) return false;
    list.remove(env);
    if (env.state === 'postponed') {
      this.postponedCount--;
      // Stryker disable next-line OptionalChaining: a postponed envelope implies the map exists
      if (list.size === 0) this.postponedByType?.delete(env.event.type);
    } else {
      this.queuedCount--;
    }
    return true;
  }

  /** Removes and returns everything waiting: postponed (oldest first), then the lanes in order. */
  takeAll(): Envelope[] {
    const out: Envelope[] = [];
    if (this.postponedByType) {
      for (const list of this.postponedByType.values()) for (let e = list.head; e; e = e.next) out.push(e);
      out.sort((a, b) => a.seq - b.seq);
    }
    // Stryker disable next-line EqualityOperator,BooleanLiteral: lane(LANES) is undefined, and an empty lane created on read holds nothing
    for (let i = 0; i < LANES; i++) for (let e = this.lane(i, false)?.head; e; e = e.next) out.push(e);
    for (const e of out) this.remove(e);
    return out;
  }

  /** Appends the queued envelopes to `out` in delivery order (lane, then FIFO), leaving them in place. O(queued); for inspection. */
  queuedInOrder(out: Envelope[]): void {
    // Stryker disable next-line EqualityOperator,BooleanLiteral: as in takeAll
    for (let i = 0; i < LANES; i++) for (let e = this.lane(i, false)?.head; e; e = e.next) out.push(e);
  }

  /** Appends the postponed envelopes to `out`, oldest first, leaving them in place. For inspection. */
  postponedInOrder(out: Envelope[]): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a fast path; with nothing postponed nothing is appended
    if (this.postponedCount === 0 || !this.postponedByType) return;
    const start = out.length;
    for (const list of this.postponedByType.values()) for (let e = list.head; e; e = e.next) out.push(e);
    const mine = out.splice(start).sort((a, b) => a.seq - b.seq);
    for (const e of mine) out.push(e);
  }

  private lane(i: number, create: boolean): EnvelopeList | undefined {
    // Stryker disable next-line ConditionalExpression: the normal lane's own field is a memory shortcut; without it the lane lives in `others` and behaves the same
    if (i === PRIORITY_LANE.normal) return this.normal ?? (create ? (this.normal = new EnvelopeList()) : undefined);
    // Stryker disable next-line ArrayDeclaration: a JS array grows on write; the preset length only sizes it
    const others = this.others ?? (create ? (this.others = new Array<EnvelopeList | undefined>(LANES)) : undefined);
    return others?.[i] ?? (create ? (others![i] = new EnvelopeList()) : undefined);
  }
}
