/**
 * The client: many subscriptions and requests over one lazy socket. It decides what a
 * socket's end means for each of them:
 *
 * - a subscription survives a retryable close: it is sent again on the next socket, from
 *   its cursor (`since`: an address's point, or a pattern's points by address), and the
 *   cursor drops what was already delivered;
 * - a request that went out on the dropped socket fails with INTERLOCK_CONNECTION_LOST
 *   (retryable: whether the server acted on it is unknown, so it is not re-sent by itself);
 *   one that had not gone out yet waits for the next socket;
 * - a terminal close (4xxx, a refused upgrade) fails everything with INTERLOCK_CONNECTION_CLOSED.
 *
 * Reconnects back off exponentially with jitter; the count restarts at each ack.
 */
import { Observable, type Subscriber } from 'rxjs';
import { systemClock, type Clock } from '../clock.js';
import type { Kinds } from '../runtime/handles.js';
import { backoffDelay } from '../supervisor/backoff.js';
import type { AskMessage, SendMessage } from '../transport/protocol.js';
import { Connection, type CloseInfo, type ServerReply } from './Connection.js';
import { Cursor, sinceMismatch } from './Cursor.js';
import { clientError, type ClientError } from './errors.js';
import type { WebSocketConstructor } from './socket.js';
import type { ClientOptions, ClientRecord, InterlockClient, RemoteActor, RequestOptions, SubscribeOptions, SubscribeTarget } from './types.js';

interface Sub {
  readonly id: string;
  readonly payload: { address: string } | { pattern: string };
  readonly cursor: Cursor;
  readonly subscriber: Subscriber<ClientRecord>;
  /** The socket its `subscribe` went out on, if the current one. */
  sentOn: Connection | undefined;
}

interface Req {
  readonly id: string;
  readonly message: (timeLeftMs: number) => AskMessage | SendMessage;
  readonly address: string;
  readonly startedAt: number;
  readonly timeoutMs: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: ClientError) => void;
  sentOn: Connection | undefined;
  timer: unknown;
}

type Event = { type: string; [k: string]: unknown };

export class Client<K extends Kinds = Kinds> implements InterlockClient<K> {
  private conn: Connection | undefined;
  private attempt = 0;
  private retryTimer: unknown;
  /** True while the WebSocket implementation loads, so a second demand does not open twice. */
  private opening = false;
  private idleTimer: unknown;
  private closing: Promise<void> | undefined;
  private ids = 0;
  private readonly subs = new Map<string, Sub>();
  private readonly requests = new Map<string, Req>();
  private readonly clock: Clock;
  private readonly backoff: { initialMs: number; maxMs: number; factor: number; jitter: number; attempts: number };

  constructor(
    private readonly url: string,
    private readonly options: ClientOptions,
    private readonly WebSocketImpl: () => Promise<WebSocketConstructor> | WebSocketConstructor,
  ) {
    this.clock = options.clock ?? systemClock;
    this.backoff = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.5, attempts: Infinity, ...options.backoff };
    if (options.lazy === false) this.demand();
  }

  subscribe(target: SubscribeTarget, options: SubscribeOptions = {}): Observable<ClientRecord> {
    return new Observable<ClientRecord>((subscriber) => {
      if (this.closing) {
        subscriber.error(clientClosed());
        return;
      }
      const payload = typeof target === 'string' ? (target.includes('*') ? { pattern: target } : { address: target }) : target;
      const address = 'address' in payload ? payload.address : undefined;
      const wrongSince = sinceMismatch(payload, options.since);
      if (wrongSince !== undefined) {
        subscriber.error(clientError('INTERLOCK_INVALID_MESSAGE', wrongSince));
        return;
      }
      const sub: Sub = { id: this.nextId(), payload, cursor: new Cursor(address, options.since), subscriber, sentOn: undefined };
      this.subs.set(sub.id, sub);
      this.demand();
      if (this.conn?.acked) this.sendSubscribe(sub, this.conn);
      return () => {
        if (this.subs.get(sub.id) !== sub) return; // it already ended (error, complete, close)
        this.subs.delete(sub.id);
        sub.sentOn?.send({ type: 'complete', id: sub.id });
        this.idleCheck();
      };
    });
  }

  ask<TOutput = unknown>(address: string, event: unknown, options: RequestOptions = {}): Promise<TOutput> {
    return this.request(address, options, (id, timeLeftMs) => ({
      type: 'ask',
      id,
      payload: { address, event: event as Event, timeoutMs: timeLeftMs, priority: options.priority },
    })) as Promise<TOutput>;
  }

  async send(address: string, event: unknown, options: RequestOptions = {}): Promise<void> {
    await this.request(address, options, (id) => ({
      type: 'send',
      id,
      payload: { address, event: event as Event, priority: options.priority },
    }));
  }

  actor(address: string): RemoteActor<any> {
    return {
      address,
      ask: (event, options) => this.ask(address, event, options),
      send: (event, options) => this.send(address, event, options),
      subscribe: (options) => this.subscribe({ address }, options),
    };
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    const conn = this.conn;
    this.closing = conn?.gone ?? Promise.resolve();
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.idleTimer);
    this.failAll(clientClosed(), true);
    conn?.close(1000, 'client closed');
    return this.closing;
  }

  // ------------------------------------------------------------------ requests

  private request(address: string, options: RequestOptions, build: (id: string, timeLeftMs: number) => AskMessage | SendMessage): Promise<unknown> {
    if (this.closing) return Promise.reject(clientClosed());
    return new Promise((resolve, reject) => {
      const id = this.nextId();
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000;
      const req: Req = {
        id,
        address,
        message: (left) => build(id, left),
        startedAt: this.clock.now(),
        timeoutMs,
        resolve,
        reject,
        sentOn: undefined,
        timer: undefined,
      };
      req.timer = this.clock.setTimeout(() => this.timedOut(req), timeoutMs, 'guard');
      this.requests.set(id, req);
      this.demand();
      if (this.conn?.acked) this.sendRequest(req, this.conn);
    });
  }

  private sendRequest(req: Req, conn: Connection): void {
    req.sentOn = conn;
    conn.send(req.message(Math.max(1, req.timeoutMs - (this.clock.now() - req.startedAt))));
  }

  /**
   * At the timeout: a request the server has gets a grace period for the server's own answer.
   * Only live requests get here (settle clears the timer), and a live request's `sentOn` is
   * the current socket or undefined (dropped() settles the requests sent on a dropped one).
   */
  private timedOut(req: Req): void {
    const grace = this.options.timeoutGraceMs ?? 1_000;
    if (req.sentOn !== undefined && this.clock.now() - req.startedAt < req.timeoutMs + grace) {
      req.timer = this.clock.setTimeout(() => this.timedOut(req), req.timeoutMs + grace - (this.clock.now() - req.startedAt), 'guard');
      return;
    }
    req.sentOn?.send({ type: 'complete', id: req.id });
    this.settle(req);
    req.reject(
      clientError('INTERLOCK_CLIENT_TIMEOUT', `No answer from '${req.address}' within ${req.timeoutMs} ms${req.sentOn ? '' : ' (the server was not reachable)'}. Raise timeoutMs, or check the server.`, {
        address: req.address,
      }),
    );
  }

  private settle(req: Req): void {
    this.requests.delete(req.id);
    this.clock.clearTimeout(req.timer);
    this.idleCheck();
  }

  // ------------------------------------------------------------------ the socket

  private demand(): void {
    this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // A closing client never gets here: subscribe() and request() refuse new work first.
    if (this.conn === undefined && this.retryTimer === undefined && !this.opening) void this.open();
  }

  private hasWork(): boolean {
    return this.options.lazy === false || this.subs.size > 0 || this.requests.size > 0;
  }

  private async open(): Promise<void> {
    this.opening = true;
    let Impl: WebSocketConstructor;
    try {
      Impl = await this.WebSocketImpl();
    } catch (err) {
      this.opening = false;
      this.failAll(clientError('INTERLOCK_CONNECTION_CLOSED', `No WebSocket implementation: ${(err as Error).message}. Pass connect(url, { WebSocket }).`));
      return;
    }
    this.opening = false;
    // No socket exists here: open() runs only while there is none and none is loading
    // (demand), or from the reconnect timer, which is pending only while there is none.
    if (this.closing || !this.hasWork()) return;
    try {
      const conn: Connection = new Connection(
        {
          url: this.socketUrl(),
          token: this.options.token,
          WebSocket: Impl,
          clock: this.clock,
          ackTimeoutMs: this.options.ackTimeoutMs ?? 10_000,
          keepAliveMs: this.options.keepAliveMs,
        },
        {
          ack: (payload) => this.acked(conn, payload),
          message: (message) => this.received(message),
          closed: (info, byClient) => this.dropped(conn, info, byClient),
        },
      );
      this.conn = conn;
    } catch (err) {
      // The constructor throws on a bad URL: no later attempt would do better.
      this.failAll(clientError('INTERLOCK_CONNECTION_CLOSED', `Cannot open a WebSocket to ${this.url}: ${(err as Error).message}`));
    }
  }

  private socketUrl(): string {
    const url = new URL(this.url);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    if (this.options.tokenInQuery && this.options.token !== undefined) url.searchParams.set('token', this.options.token);
    return url.toString();
  }

  private acked(conn: Connection, payload: { epoch: number; heartbeatMs: number }): void {
    // Stryker disable next-line ConditionalExpression: defence in depth; a Connection reports nothing after `closed`, and this.conn is replaced only after the current one reported it (dropped)
    if (conn !== this.conn) return;
    this.attempt = 0;
    for (const sub of this.subs.values()) this.sendSubscribe(sub, conn);
    // Every request here is unsent: one sent on an earlier socket was settled when it dropped.
    for (const req of this.requests.values()) this.sendRequest(req, conn);
    this.options.on?.connected?.(payload);
    this.idleCheck();
  }

  private sendSubscribe(sub: Sub, conn: Connection): void {
    sub.sentOn = conn;
    const since = sub.cursor.nextSince();
    // An undefined since leaves the frame without one (JSON drops it).
    conn.send({ type: 'subscribe', id: sub.id, payload: { ...sub.payload, since } });
  }

  private received(message: ServerReply): void {
    // Stryker disable next-line StringLiteral: ids are base-36 numbers (nextId), so no string literal is one
    const sub = this.subs.get(message.id ?? '');
    // Stryker disable next-line StringLiteral: as above
    const req = this.requests.get(message.id ?? '');
    switch (message.type) {
      case 'next':
        if (sub && sub.cursor.admit(message.payload)) sub.subscriber.next(message.payload);
        return;
      case 'result':
        if (req) {
          this.settle(req);
          req.resolve((message.payload as { data?: unknown } | undefined)?.data);
        }
        return;
      case 'error': {
        const { code, message: text } = message.payload;
        if (req) {
          this.settle(req);
          req.reject(clientError(code, text, { address: req.address }));
        } else if (sub) {
          this.subs.delete(sub.id);
          sub.subscriber.error(clientError(code, text, 'address' in sub.payload ? { address: sub.payload.address } : {}));
          this.idleCheck();
        } else if (message.id === undefined) this.options.on?.error?.({ code, message: text });
        return;
      }
      case 'complete':
        if (sub) {
          this.subs.delete(sub.id);
          sub.subscriber.complete();
          this.idleCheck();
        }
        return;
    }
  }

  private dropped(conn: Connection, info: CloseInfo, byClient: boolean): void {
    // Stryker disable next-line ConditionalExpression: defence in depth; a Connection reports `closed` once, and this.conn is replaced only after that (here)
    if (conn !== this.conn) return;
    this.conn = undefined;
    // Stryker disable next-line ConditionalExpression: '→ true' is equivalent: close() fails every request and subscription before it closes the socket, which reports closed at once with retryable false, so the block would find nothing to fail and not retry; '→ false' is killed by the reconnect tests
    if (!this.closing) {
      const lost = (address: string) =>
        info.retryable
          ? clientError('INTERLOCK_CONNECTION_LOST', `Connection lost (close ${info.code}${info.reason ? `: ${info.reason}` : ''}) while the request to '${address}' was in flight; it may or may not have been acted on.`, {
              address,
              closeCode: info.code,
            })
          : connectionClosed(info, byClient, address);
      for (const req of [...this.requests.values()]) {
        if (req.sentOn === conn) {
          this.settle(req);
          req.reject(lost(req.address));
        }
      }
      for (const sub of this.subs.values()) sub.sentOn = undefined;
      if (!info.retryable) this.failAll(connectionClosed(info, byClient));
      else if (this.hasWork()) this.retry();
    }
    this.options.on?.closed?.(info);
  }

  private retry(): void {
    if (this.attempt >= this.backoff.attempts) {
      const attempts = this.attempt;
      this.attempt = 0;
      this.failAll(clientError('INTERLOCK_CONNECTION_LOST', `Gave up reconnecting to ${this.url} after ${attempts} attempts.`));
      return;
    }
    const delay = backoffDelay(this.backoff, this.attempt++, this.options.random ?? Math.random);
    this.retryTimer = this.clock.setTimeout(
      () => {
        this.retryTimer = undefined;
        if (!this.closing && this.hasWork()) void this.open();
      },
      delay,
      'work',
    );
  }

  private idleCheck(): void {
    if (this.hasWork() || this.idleTimer !== undefined) return;
    // Stryker disable next-line ConditionalExpression: '→ false' only arms a timer whose callback finds no socket to close (`this.conn?.`), and any demand that could open one clears it first; '→ true' is killed by the idle-close tests
    if (this.conn === undefined) return;
    // No work check in the callback: every way work starts (subscribe, request) goes through demand(), which clears this timer.
    this.idleTimer = this.clock.setTimeout(
      () => {
        this.idleTimer = undefined;
        this.conn?.close(1000, 'idle');
      },
      this.options.idleMs ?? 0,
      'guard',
    );
  }

  /** Rejects every request with `error`, and ends every subscription with it (or completes them: close()). */
  private failAll(error: ClientError, complete = false): void {
    const subs = [...this.subs.values()];
    const reqs = [...this.requests.values()];
    this.subs.clear();
    for (const req of reqs) {
      this.settle(req);
      req.reject(withAddress(error, req.address));
    }
    for (const sub of subs) {
      if (complete) sub.subscriber.complete();
      else sub.subscriber.error('address' in sub.payload ? withAddress(error, sub.payload.address) : error);
    }
  }

  private nextId(): string {
    // Stryker disable next-line UpdateOperator: ids need only be distinct on one client ('-1', '-2' are valid ids: the protocol asks for 1 to 128 characters)
    return (++this.ids).toString(36);
  }
}

function clientClosed(): ClientError {
  return clientError('INTERLOCK_CLIENT_CLOSED', 'The client was closed (client.close()); connect again to send or subscribe.');
}

function connectionClosed(info: CloseInfo, byClient: boolean, address?: string): ClientError {
  const closer = byClient ? 'this client closed the connection' : 'the server closed the connection';
  const why = info.httpStatus !== undefined ? `the server refused the upgrade with HTTP ${info.httpStatus}` : `${closer} with ${info.code}${info.reason ? ` (${info.reason})` : ''}`;
  return clientError('INTERLOCK_CONNECTION_CLOSED', `${why}; not reconnecting. ${hint(info)}`, { closeCode: info.code, httpStatus: info.httpStatus, address });
}

function hint(info: CloseInfo): string {
  if (info.httpStatus === 401 || info.code === 4401 || info.code === 4403 || info.httpStatus === 403) return 'Check the token (connect(url, { token })).';
  if (info.code === 4429) return 'Too many requests on one connection: slow down.';
  return 'See docs/protocol.md for the close codes.';
}

/** `error` for one request or subscription (the errors failAll gets carry no address of their own). */
function withAddress(error: ClientError, address: string): ClientError {
  const { retryable, closeCode, httpStatus } = error;
  return clientError(error.code, error.message, { retryable, address, closeCode, httpStatus });
}
