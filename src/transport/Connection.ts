/**
 * One `interlock.v1` connection, from the upgrade to the close:
 *
 * `init` — only `connection_init` is accepted, within `initTimeoutMs` (else 4408); any other
 * valid message closes 4401, anything that is not a valid message 4400, a bad token 4403.
 * `ready` — after `connection_ack`: frames are dispatched in order (see Operations); a
 * malformed one is answered with a coded `error` and the connection stays; a second init
 * closes 4429. Protocol pings every `heartbeatMs`; a peer that did not answer the previous
 * one is terminated. `closed` — idempotent; subscriptions stop, asks are cancelled, timers
 * cleared, everything queued for the client dropped.
 *
 * Every frame (any state, any validity) takes a token from the rate limit bucket; an empty
 * bucket closes 4429. Binary frames close 4400. An exception escaping the handling of a
 * frame (a bug, or a throwing authorize hook) closes 4500 and is logged, never thrown.
 */
import type { RawData, WebSocket } from 'ws';
import { errors } from '../errors.js';
import { sameToken } from '../gateway/auth.js';
import { toWire } from '../gateway/httpErrors.js';
import { Operations, type OperationsHost, type ServerContext } from './Operations.js';
import { Outbox } from './Outbox.js';
import { CloseCode } from './protocol.js';
import { parseClientFrame, type Parsed } from './schema.js';
import { TokenBucket } from './TokenBucket.js';

/** Frames held while an async authorize answers, at most (without a rate limit to bound them). */
const MAX_QUEUED_FRAMES = 1_000;

/** @internal */
export class Connection implements OperationsHost {
  private state: 'init' | 'ready' | 'closed' = 'init';
  readonly outbox: Outbox;
  private readonly ops: Operations;
  private readonly bucket: TokenBucket | undefined;
  private initTimer: unknown;
  private heartbeatTimer: unknown;
  private alive = true;
  /** Set while an async authorize answers: later frames wait in `queued`, in order. */
  private gate: Promise<void> | undefined;
  private readonly queued: string[] = [];

  constructor(
    private readonly ws: WebSocket,
    readonly ctx: ServerContext,
    private currentToken: string | undefined,
    private readonly onEnd: (c: Connection) => void,
  ) {
    const { limits } = ctx;
    this.outbox = new Outbox(ws, limits, (buffered) => {
      limits.logger.warn({ buffered, hardLimitBytes: limits.hardLimitBytes }, 'ws_slow_consumer');
      this.close(CloseCode.TryAgainLater, 'Slow consumer: too many unsent bytes; reconnect and resume');
    });
    this.ops = new Operations(this);
    this.bucket = limits.rate && new TokenBucket(limits.rate.perSecond, limits.rate.burst, () => limits.clock.now());
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    // ws reports protocol violations (1008, 1009) and failed writes here, and closes the socket
    // itself: log, end (so the close that follows is not logged as the peer's), never crash.
    ws.on('error', (err: Error & { code?: string }) => {
      limits.logger.info({ code: err.code, err: err.message }, 'ws_protocol_error');
      this.end();
    });
    ws.on('pong', () => (this.alive = true));
    this.initTimer = limits.clock.setTimeout(() => this.close(CloseCode.InitTimeout, 'Connection initialisation timeout'), limits.initTimeoutMs, 'guard');
  }

  get token(): string | undefined {
    return this.currentToken;
  }

  /** Closes with a code (idempotent). */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.end();
    this.ctx.limits.logger.info({ code, reason }, 'ws_closing');
    this.ws.close(code, reason);
  }

  sendError(id: string | undefined, err: unknown): void {
    const { code, message } = toWire(err).body.error;
    if (code === 'INTERLOCK_INTERNAL') this.ctx.limits.logger.error({ id, err }, 'ws_request_failed');
    // Without an id (a frame that had no usable one) JSON.stringify leaves the key out.
    this.outbox.push(JSON.stringify({ type: 'error', id, payload: { code, message } }));
  }

  sendResult(id: string, data: unknown): void {
    let text: string;
    try {
      text = JSON.stringify({ type: 'result', id, payload: { data: data ?? null } });
    } catch (err) {
      // A reply JSON cannot carry (a BigInt, a cycle): the client gets INTERLOCK_INTERNAL, the log the cause.
      return this.sendError(id, err);
    }
    this.outbox.push(text);
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.state === 'closed') return;
    if (this.bucket && !this.bucket.take()) return this.close(CloseCode.TooManyRequests, 'Too many messages; slow down (rate limit)');
    if (isBinary) return this.close(CloseCode.BadRequest, 'Binary frames are not interlock.v1; send JSON text frames');
    const text = data.toString();
    if (this.gate) {
      if (this.queued.length >= MAX_QUEUED_FRAMES) return this.close(CloseCode.TooManyRequests, 'Too many messages waiting for authorization');
      this.queued.push(text);
      return;
    }
    this.handle(text);
  };

  private handle(text: string): void {
    try {
      const parsed = parseClientFrame(text);
      if (this.state === 'init') return this.init(parsed);
      if (!parsed.ok) return this.sendError(parsed.id, errors.invalidMessage(parsed.why, parsed.id));
      const m = parsed.message;
      let wait: Promise<void> | void;
      switch (m.type) {
        case 'connection_init':
          return this.close(CloseCode.TooManyRequests, 'Too many initialisation requests');
        case 'ping':
          // Stryker disable next-line ConditionalExpression: a fast path; JSON.stringify leaves out an undefined payload, so both give '{"type":"pong"}'
          return this.outbox.push(m.payload === undefined ? '{"type":"pong"}' : JSON.stringify({ type: 'pong', payload: m.payload }));
        // Stryker disable next-line ConditionalExpression: falling through instead runs complete(m.id), and a pong has no id (the schema allows no other field), so complete(undefined) finds no operation and does nothing
        case 'pong':
          return;
        case 'complete':
          return this.ops.complete(m.id);
        case 'subscribe':
          wait = this.ops.subscribe(m);
          break;
        default:
          wait = this.ops.request(m);
      }
      if (wait) this.hold(wait);
    } catch (err) {
      this.internalError(err);
    }
  }

  /** Later frames wait until an async authorize answered, so the client's order is kept. */
  private hold(wait: Promise<void>): void {
    this.gate = wait
      .catch((err: unknown) => this.internalError(err))
      .finally(() => {
        this.gate = undefined;
        // Nothing is queued once closed: end() empties `queued`, and onMessage queues nothing after it.
        while (this.queued.length > 0 && !this.gate) this.handle(this.queued.shift()!);
      });
  }

  private init(parsed: Parsed): void {
    // Close reasons carry no client text (at most 123 bytes, and valid UTF-8).
    if (!parsed.ok) return this.close(CloseCode.BadRequest, 'Invalid message: expected connection_init (see docs/protocol.md)');
    const m = parsed.message;
    if (m.type !== 'connection_init') return this.close(CloseCode.Unauthorized, 'Unauthorized');
    const token = m.payload?.token;
    if (token !== undefined) {
      const known = this.currentToken;
      if (!this.ctx.verify(token) || (known !== undefined && !sameToken(token, known))) return this.close(CloseCode.Forbidden, 'Forbidden');
      this.currentToken = token;
    }
    const { limits, base } = this.ctx;
    limits.clock.clearTimeout(this.initTimer);
    // Stryker disable next-line StringLiteral: nothing compares the state with 'ready' (only with 'init' and 'closed')
    this.state = 'ready';
    const batch = m.payload?.batch === true;
    this.outbox.push(JSON.stringify({ type: 'connection_ack', payload: { epoch: base, heartbeatMs: limits.heartbeatMs, batch } }));
    this.outbox.batching = batch;
    this.heartbeatTimer = limits.clock.setTimeout(this.beat, limits.heartbeatMs, 'guard');
  }

  /** Runs only from the heartbeat timer, which end() clears: one is live at a time, and none is set once closed. */
  private readonly beat = (): void => {
    if (!this.alive) {
      this.ctx.limits.logger.info({ heartbeatMs: this.ctx.limits.heartbeatMs }, 'ws_heartbeat_missed');
      this.end();
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
    this.heartbeatTimer = this.ctx.limits.clock.setTimeout(this.beat, this.ctx.limits.heartbeatMs, 'guard');
  };

  private internalError(err: unknown): void {
    this.ctx.limits.logger.error({ err }, 'ws_internal_error');
    this.close(CloseCode.InternalError, 'Internal error');
  }

  private readonly onClose = (code: number): void => {
    if (this.state !== 'closed') this.ctx.limits.logger.info({ code }, 'ws_closed_by_peer');
    this.end();
  };

  /** Everything this connection holds is released; nothing more is sent. */
  private end(): void {
    // Stryker disable next-line ConditionalExpression,StringLiteral: a second end() (onClose after close() or a terminate) finds the timers cleared, `queued` and the operation table empty, the outbox closed, and onEnd deletes from a Set
    if (this.state === 'closed') return;
    this.state = 'closed';
    const clock = this.ctx.limits.clock;
    clock.clearTimeout(this.initTimer);
    clock.clearTimeout(this.heartbeatTimer);
    this.queued.length = 0;
    this.ops.closeAll();
    this.outbox.close();
    this.onEnd(this);
  }
}
