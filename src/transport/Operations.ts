/**
 * The operations of one connection, by the id the client chose: subscriptions (to an
 * address or a pattern) and requests (`send`, `ask`). One id table for both, so a duplicate
 * id is caught whatever it names (close 4409); an id is free again once its operation
 * ended (`result`, `error`, or the `complete` the server answers a client's `complete` with).
 *
 * Order of checks for each operation: the frame's shape (schema.ts, before this), the
 * address (`kind/key` of a kind the runtime has), the `authorize` hook, then for sends the
 * event (`runtime.checkPublic`: public types only). An async `authorize` holds the
 * connection's later frames until it answers (see Connection), so sends keep their order.
 */
import type { Observable, Subscription } from 'rxjs';
import type { EventObject } from 'xstate';
import { parseAddress } from '../address.js';
import { errors } from '../errors.js';
import type { Priority } from '../mailbox/envelope.js';
import type { Runtime } from '../runtime/Runtime.js';
import type { AuthorizeRequest, Authorize, TransportLimits } from './options.js';
import type { Outbox } from './Outbox.js';
import type { AskMessage, ResumeFrom, ResumeMap, SendMessage, SubscribeMessage } from './protocol.js';
import { addressStream, patternMatcher, patternStream, type WireItem } from './recordStreams.js';

/** What every connection of one server shares. @internal */
export interface ServerContext {
  readonly runtime: Runtime;
  readonly limits: TransportLimits;
  /** The runtime's boot epoch (wireRecord.ts). */
  readonly base: number;
  readonly kinds: ReadonlySet<string>;
  readonly verify: (token: string | undefined) => boolean;
  readonly authorize: Authorize | undefined;
}

/** What operations need from their connection. @internal */
export interface OperationsHost {
  readonly ctx: ServerContext;
  readonly token: string | undefined;
  readonly outbox: Outbox;
  /** Closes the connection (4409 for a duplicate id; 1001 when the runtime's streams end). */
  close(code: number, reason: string): void;
  sendError(id: string | undefined, err: unknown): void;
  sendResult(id: string, data: unknown): void;
}

interface Op {
  readonly kind: 'subscription' | 'request';
  sub?: Subscription;
  abort?: AbortController;
}

/** @internal */
export class Operations {
  private readonly ops = new Map<string, Op>();
  private subscriptions = 0;

  constructor(private readonly host: OperationsHost) {}

  subscribe(m: SubscribeMessage): Promise<void> | void {
    const { id, payload } = m;
    if (this.ops.has(id)) return this.duplicate(id);
    const { ctx } = this.host;
    if (this.subscriptions >= ctx.limits.maxSubscriptions) return this.host.sendError(id, errors.tooManySubscriptions(ctx.limits.maxSubscriptions));
    const pattern = payload.pattern;
    const target = pattern ?? payload.address!;
    let matches: ((address: string) => boolean) | undefined;
    let points: Map<string, ResumeFrom> | undefined;
    try {
      if (pattern !== undefined) {
        matches = patternMatcher(pattern, ctx.kinds);
        if (payload.since !== undefined) points = this.resumeMap(id, pattern, matches, payload.since as ResumeMap);
      } else this.checkAddress(target);
    } catch (err) {
      return this.host.sendError(id, err);
    }
    const op: Op = { kind: 'subscription' };
    this.ops.set(id, op);
    this.subscriptions++;
    return this.decide(id, op, { address: target, pattern: pattern !== undefined, action: 'subscribe' }, () => {
      const now = () => ctx.limits.clock.now();
      const stream: Observable<WireItem> = matches
        ? patternStream(ctx.runtime, matches, points, ctx.base, now)
        : addressStream(ctx.runtime, target, payload.since as ResumeFrom | undefined, ctx.base, now);
      const prefix = `{"type":"next","id":${JSON.stringify(id)},"payload":`;
      const outbox = this.host.outbox;
      const sub = stream.subscribe({
        // Snapshot records coalesce per subscription and address while the client lags.
        next: (it) => outbox.push(`${prefix}${it.payload}}`, it.snapshot ? (matches ? `${id}\n${it.address}` : id) : undefined),
        error: (err: unknown) => {
          if (this.ops.get(id) !== op) return;
          this.remove(id);
          this.host.sendError(id, err);
        },
        // The runtime completes its streams only when it shuts down.
        complete: () => this.host.close(1001, 'The server is shutting down'),
      });
      // The subscription may have ended (or the connection closed) while it replayed.
      if (this.ops.get(id) === op) op.sub = sub;
      else sub.unsubscribe();
    });
  }

  request(m: SendMessage | AskMessage): Promise<void> | void {
    const { id, payload } = m;
    if (this.ops.has(id)) return this.duplicate(id);
    const { address, event } = payload;
    try {
      this.checkAddress(address);
    } catch (err) {
      return this.host.sendError(id, err);
    }
    // Stryker disable next-line ObjectLiteral,StringLiteral: `kind` is read only by remove(), as `=== 'subscription'`, which neither undefined nor '' is
    const op: Op = { kind: 'request' };
    this.ops.set(id, op);
    return this.decide(id, op, { address, pattern: false, action: m.type }, () => {
      const { runtime, limits } = this.host.ctx;
      // No priority reads as 'normal' (validate and Delivery test `priority !== undefined` / `?? 'normal'`).
      const options = { priority: payload.priority as Priority | undefined };
      try {
        runtime.checkPublic(address, event);
        if (m.type === 'send') {
          runtime.tell(address, event as EventObject as never, options);
          this.remove(id);
          return this.host.sendResult(id, null);
        }
      } catch (err) {
        this.remove(id);
        return this.host.sendError(id, err);
      }
      const abort = new AbortController();
      op.abort = abort;
      const timeoutMs = Math.min((payload as AskMessage['payload']).timeoutMs ?? limits.askTimeoutMs, limits.askTimeoutMs);
      runtime.ask(address, event as EventObject as never, { ...options, timeoutMs, signal: abort.signal }).then(
        (value) => {
          if (this.ops.get(id) !== op) return;
          this.remove(id);
          this.host.sendResult(id, value);
        },
        (err: unknown) => {
          // After the client's complete (or a close) nobody waits for the answer.
          if (this.ops.get(id) !== op) return;
          this.remove(id);
          this.host.sendError(id, err);
        },
      );
      return undefined;
    });
  }

  /** A client's complete: ends the operation and answers complete, after its last message. Unknown ids are ignored. */
  complete(id: string): void {
    const op = this.ops.get(id);
    if (!op) return;
    this.remove(id);
    op.sub?.unsubscribe();
    op.abort?.abort();
    this.host.outbox.push(`{"type":"complete","id":${JSON.stringify(id)}}`);
  }

  /** The connection ended: every subscription stops, every ask is cancelled. */
  closeAll(): void {
    const ops = [...this.ops.values()];
    this.ops.clear();
    this.subscriptions = 0;
    for (const op of ops) {
      op.sub?.unsubscribe();
      op.abort?.abort();
    }
  }

  private checkAddress(address: string): void {
    const { kind } = parseAddress(address);
    const kinds = this.host.ctx.kinds;
    if (!kinds.has(kind)) throw errors.unknownKind(address, kind, [...kinds]);
  }

  /**
   * A pattern's `since` (its shape already checked by the schema) as points by address:
   * each key must be an address of a known kind that the pattern matches.
   */
  private resumeMap(id: string, pattern: string, matches: (address: string) => boolean, since: ResumeMap): Map<string, ResumeFrom> {
    const points = new Map<string, ResumeFrom>();
    for (const [address, point] of Object.entries(since)) {
      this.checkAddress(address);
      if (!matches(address)) throw errors.invalidMessage(`'payload.since' names '${address.slice(0, 200)}', which pattern '${pattern.slice(0, 200)}' does not match`, id);
      points.set(address, point);
    }
    return points;
  }

  private duplicate(id: string): void {
    this.host.close(4409, 'An operation with this id already exists');
  }

  private remove(id: string): void {
    const op = this.ops.get(id);
    this.ops.delete(id);
    // Stryker disable next-line OptionalChaining: every caller removes an id it just found in the table (each checks `ops.get(id) === op` or `ops.get(id)` first, or runs synchronously after setting it)
    if (op?.kind === 'subscription') this.subscriptions--;
  }

  /** Asks the authorize hook (sync or async), then runs `then` if the operation is still wanted. */
  private decide(id: string, op: Op, request: Omit<AuthorizeRequest, 'token'>, then: () => void): Promise<void> | void {
    const authorize = this.host.ctx.authorize;
    if (!authorize) return then();
    const go = (ok: unknown): void => {
      if (this.ops.get(id) !== op) return;
      if (ok !== true) {
        this.remove(id);
        return this.host.sendError(id, errors.forbidden(request.address, request.action));
      }
      then();
    };
    // A throwing or rejecting hook is a server failure: it reaches Connection, which closes 4500.
    const answer = authorize({ token: this.host.token, ...request });
    if (typeof answer === 'boolean') return go(answer);
    return Promise.resolve(answer).then(go);
  }
}
