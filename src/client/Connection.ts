/**
 * One WebSocket of the client, from open to close: the `interlock.v1` handshake
 * (`connection_init` → `connection_ack`), app-level `ping`/`pong` both ways, keep-alive
 * (a peer that stays silent for a whole keep-alive period is given up on), frame checks,
 * and one `closed` report saying whether the client should reconnect. What to do with
 * subscriptions and requests is the Client's business, not this file's.
 *
 * Lifecycle: connecting (the init is sent once the socket opens) → acked → closed.
 * `closed` is reported exactly once, and no socket handler runs after it: finish() swaps
 * them for no-ops, so the handlers need no guard against a closed state (and `open`,
 * `message` and `close` each fire once a socket, or per frame).
 */
import type { Clock } from '../clock.js';
import {
  CloseCode,
  RETRYABLE_CLOSE_CODES,
  SUBPROTOCOL,
  type ClientMessage,
  type CompleteMessage,
  type ConnectionAckMessage,
  type ErrorMessage,
  type NextMessage,
  type PingMessage,
  type PongMessage,
  type ResultMessage,
} from '../transport/protocol.js';
import { OPEN, refusedStatus, type SocketCloseEvent, type SocketErrorEvent, type SocketMessageEvent, type WebSocketConstructor, type WebSocketLike } from './socket.js';

/** Close codes the client itself sends (they reach the server; none are in the protocol's list). */
export const LocalClose = {
  /** close() or an idle lazy socket. */
  Normal: 1000,
  /** The server sent something that is not an `interlock.v1` message. */
  BadResponse: CloseCode.BadRequest,
  /** The peer was silent for a whole keep-alive period (half-open connection). */
  Unresponsive: 4499,
  /** No `connection_ack` within `ackTimeoutMs`. */
  AckTimeout: 4504,
} as const;

export interface ConnectionOptions {
  url: string;
  token: string | undefined;
  WebSocket: WebSocketConstructor;
  clock: Clock;
  ackTimeoutMs: number;
  /** Ping period; undefined: the server's `heartbeatMs` from the ack; 0: off. */
  keepAliveMs: number | undefined;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** Whether to reconnect and resume (a retryable close code, or a local give-up on a dead peer). */
  retryable: boolean;
  /** The HTTP status of a refused upgrade, when the WebSocket implementation shows it (`ws`). */
  httpStatus?: number;
}

export type ServerReply = NextMessage | ResultMessage | ErrorMessage | CompleteMessage;

export interface ConnectionHandlers {
  ack(payload: ConnectionAckMessage['payload']): void;
  message(message: ServerReply): void;
  /** `byClient`: this side closed it (close(), or a give-up: 4400, 4499, 4504), not the server or the network. */
  closed(info: CloseInfo, byClient: boolean): void;
}

type State = 'connecting' | 'acked' | 'closed';

export class Connection {
  private state: State = 'connecting';
  private readonly socket: WebSocketLike;
  private ackTimer: unknown;
  private keepAliveTimer: unknown;
  // Stryker disable next-line BooleanLiteral: read only by a keep-alive tick, and the first tick follows the ack, whose frame set it (received())
  private heardSinceTick = false;
  private lastError: SocketErrorEvent | undefined;
  private settle!: () => void;
  /** Resolves when the socket has really closed (its close event), whoever closed it. */
  readonly gone = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(
    private readonly options: ConnectionOptions,
    private readonly on: ConnectionHandlers,
  ) {
    const nodeOptions = {
      perMessageDeflate: false,
      ...(options.token === undefined ? {} : { headers: { authorization: `Bearer ${options.token}` } }),
    };
    // Browsers ignore the third argument; `ws` takes it as options.
    const Ctor = options.WebSocket as unknown as new (url: string, protocol: string, opts: unknown) => WebSocketLike;
    this.socket = new Ctor(options.url, SUBPROTOCOL, nodeOptions);
    this.socket.onopen = () => this.opened();
    this.socket.onmessage = (e: SocketMessageEvent) => this.received(e.data);
    this.socket.onerror = (e: SocketErrorEvent) => void (this.lastError = e);
    this.socket.onclose = (e: SocketCloseEvent) => this.socketClosed(e);
    this.ackTimer = options.clock.setTimeout(() => this.close(LocalClose.AckTimeout, 'no connection_ack in time', true), options.ackTimeoutMs, 'guard');
  }

  /** Whether `closed` has been reported (a getter, so checks after calls that may close it are not narrowed away). */
  get ended(): boolean {
    return this.state === 'closed';
  }

  get acked(): boolean {
    return this.state === 'acked';
  }

  /** Sends a message; only after the ack (the Client queues what comes earlier). */
  send(message: ClientMessage): void {
    if (this.state !== 'acked') return;
    // Stryker disable next-line ConditionalExpression: acked, the socket leaves OPEN only by a close frame from the server (a close from here sets 'closed' first), and send() while CLOSING or CLOSED is a silent no-op in ws and in browsers (WHATWG: only CONNECTING throws)
    if (this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify(message));
  }

  /**
   * Closes from this side and reports `closed` at once with `retryable` (the socket's own
   * close event comes later and is ignored).
   */
  close(code: number, reason: string, retryable = false): void {
    if (this.state === 'closed') return;
    this.finish({ code, reason, retryable }, true);
    try {
      this.socket.close(code, reason);
    } catch {
      // A socket still connecting may refuse close() in some implementations. It is
      // abandoned (its other handlers are no-ops now) and closed as soon as it opens.
      this.socket.onopen = () => this.socket.close(code, reason);
      this.settle();
    }
  }

  private opened(): void {
    if (this.socket.protocol !== SUBPROTOCOL) {
      this.close(LocalClose.BadResponse, `server chose subprotocol '${this.socket.protocol}', not ${SUBPROTOCOL}`);
      return;
    }
    // batch: this client reads array frames, which lets the server pack records together.
    // Without a token JSON.stringify leaves `token: undefined` out.
    this.socket.send(JSON.stringify({ type: 'connection_init', payload: { batch: true, token: this.options.token } }));
  }

  /** A frame: one message, or (the client asks for batching in its init) an array of them, in order. */
  private received(data: unknown): void {
    this.heardSinceTick = true;
    const messages = parse(data);
    if (messages === undefined) {
      this.close(LocalClose.BadResponse, 'server sent a frame that is not an interlock.v1 message');
      return;
    }
    // A handler may close this connection mid-frame (a subscriber unsubscribing, a bad message): stop there.
    for (const message of messages) if (!this.ended) this.handle(message);
  }

  private handle(message: Inbound): void {
    if (message.type === 'ping') {
      // The ping's payload, if any (JSON.stringify leaves `payload: undefined` out).
      this.socket.send(JSON.stringify({ type: 'pong', payload: message.payload }));
      return;
    }
    if (message.type === 'pong') return;
    if (this.state !== 'acked') {
      if (message.type !== 'connection_ack') this.close(LocalClose.BadResponse, `server sent '${message.type}' before connection_ack`);
      else this.acknowledged(message.payload);
      return;
    }
    if (message.type === 'connection_ack') {
      this.close(LocalClose.BadResponse, 'server sent a second connection_ack');
      return;
    }
    this.on.message(message);
  }

  private acknowledged(payload: ConnectionAckMessage['payload']): void {
    this.options.clock.clearTimeout(this.ackTimer);
    this.state = 'acked';
    const period = this.options.keepAliveMs ?? payload.heartbeatMs;
    if (period > 0) this.tick(period);
    this.on.ack(payload);
  }

  /**
   * Each period: give up on a peer that said nothing since the last tick (a half-open
   * connection), else ping it. The first tick follows the ack, which was heard, so it
   * pings; a dead peer is noticed within two periods. The timer runs only while acked:
   * finish() clears it.
   */
  private tick(period: number): void {
    this.keepAliveTimer = this.options.clock.setTimeout(
      () => {
        if (!this.heardSinceTick) {
          this.close(LocalClose.Unresponsive, `server silent for ${period} ms after a ping`, true);
          return;
        }
        this.heardSinceTick = false;
        this.send({ type: 'ping' });
        this.tick(period);
      },
      period,
      'guard',
    );
  }

  private socketClosed(e: SocketCloseEvent): void {
    this.settle();
    const httpStatus = refusedStatus(this.lastError);
    // An upgrade refused with 401/403 will be refused again: terminal. Other failures to
    // connect (refused, reset, 5xx) are 1006 and retried.
    const refused = httpStatus === 401 || httpStatus === 403;
    this.finish({
      code: e.code,
      reason: e.reason || (httpStatus === undefined ? '' : `upgrade refused with HTTP ${httpStatus}`),
      retryable: !refused && RETRYABLE_CLOSE_CODES.includes(e.code),
      ...(httpStatus === undefined ? {} : { httpStatus }),
    });
  }

  private finish(info: CloseInfo, byClient = false): void {
    this.state = 'closed';
    this.options.clock.clearTimeout(this.ackTimer);
    this.options.clock.clearTimeout(this.keepAliveTimer);
    const noop = () => {};
    this.socket.onopen = noop;
    this.socket.onmessage = noop;
    this.socket.onerror = noop;
    this.socket.onclose = () => this.settle();
    this.on.closed(info, byClient);
  }
}

type Inbound = ServerReply | ConnectionAckMessage | PingMessage | PongMessage;

/** A server frame as its protocol messages (one, or a batch), or undefined when any is not one (checked field by field). */
export function parse(data: unknown): Inbound[] | undefined {
  if (typeof data !== 'string') return undefined;
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    // Not JSON: `frame` stays undefined, which isObject() refuses below, so the frame is
    // reported as undefined and the socket closed with 4400.
  }
  const messages = Array.isArray(frame) ? frame : [frame];
  return messages.every((m) => isObject(m) && wellFormed(m.type, m.id, m.payload)) ? (messages as Inbound[]) : undefined;
}

/** Whether the fields of a message fit its type; a type that is not one the server sends (or not a string) never does. */
function wellFormed(type: unknown, id: unknown, payload: unknown): boolean {
  const hasId = typeof id === 'string';
  switch (type) {
    case 'connection_ack':
      return isObject(payload) && typeof payload.epoch === 'number' && typeof payload.heartbeatMs === 'number';
    case 'ping':
    case 'pong':
      return payload === undefined || isObject(payload);
    case 'next':
      return hasId && isObject(payload) && typeof payload.address === 'string' && Number.isInteger(payload.epoch) && Number.isInteger(payload.seq) && typeof payload.type === 'string';
    case 'result':
      // A reply of `undefined` loses its `data` key in JSON: that is still a result.
      return hasId && (payload === undefined || isObject(payload));
    case 'error':
      return (id === undefined || hasId) && isObject(payload) && typeof payload.code === 'string' && typeof payload.message === 'string';
    case 'complete':
      return hasId;
  }
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
