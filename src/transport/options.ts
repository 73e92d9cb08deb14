/**
 * Options of the `interlock.v1` WebSocket server, with their defaults, checked once when
 * the server is attached (a bad value throws INTERLOCK_INVALID_CONFIG naming it). Every
 * limit is documented in docs/protocol.md ("Limits").
 */
import { systemClock, type Clock } from '../clock.js';
import { errors } from '../errors.js';
import type { Authenticate } from '../gateway/auth.js';

/** What the `authorize` hook is asked. */
export interface AuthorizeRequest {
  /** The connection's token (from the upgrade or `connection_init`); undefined on an open server without one. */
  token: string | undefined;
  /** The address, or for a pattern subscription the pattern itself (`session/*`, `*`). */
  address: string;
  /** Whether `address` is a pattern: allow it only to a token that may read every address it matches. */
  pattern: boolean;
  action: 'subscribe' | 'send' | 'ask';
}

/** Per-address authorization: whether this token may do this to this address. May be async. */
export type Authorize = (request: AuthorizeRequest) => boolean | Promise<boolean>;

/** The subset of a pino logger the server writes to (connections, refusals, slow consumers; never tokens or bodies). */
export interface TransportLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface WebSocketOptions {
  /** URL path of the endpoint. Default `/ws`. */
  path?: string;
  /** The shared bearer token. Default: none (open, unless `authenticate` is given). */
  token?: string;
  /** Accepts other tokens than `token` (e.g. one per user). Must compare in constant time. */
  authenticate?: Authenticate;
  /** Per-address authorization; default: every authenticated token may do everything. */
  authorize?: Authorize;
  /**
   * Origins (`https://app.example`) allowed besides the server's own; exact matches, no
   * wildcards. A request without `Origin` (not a browser) is allowed. Default: same origin only.
   * The gateway's SSE event stream follows the same list (and sends those origins CORS headers).
   */
  origins?: readonly string[];
  /** Time to send `connection_init` after the upgrade, else close 4408. Default 3,000 ms. */
  initTimeoutMs?: number;
  /** Protocol ping interval; a peer that has not answered the previous ping is terminated. Default 15,000 ms. */
  heartbeatMs?: number;
  /** Largest frame (message) a client may send, bytes; more closes 1009. Default 64 KiB. */
  maxPayload?: number;
  /** Fragments one message may arrive in; more closes 1008. Default 128. */
  maxFragments?: number;
  /** Chunks ws may buffer for one message; more closes 1008. Default 1,024. */
  maxBufferedChunks?: number;
  /** Token bucket per connection over every frame it sends; empty closes 4429. Default 100/s, burst 200; false: none. */
  rateLimit?: { perSecond: number; burst: number } | false;
  /** Subscriptions one connection may hold; one more is INTERLOCK_TOO_MANY_SUBSCRIPTIONS. Default 100. */
  maxSubscriptions?: number;
  /** Unsent bytes past which snapshot records coalesce to the latest per address. Default 4 MiB. */
  highWaterBytes?: number;
  /** Unsent bytes past which the connection is closed with 1013 (slow consumer). Default 16 MiB. */
  hardLimitBytes?: number;
  /** Deadline of an `ask` that gives none, and the most one may ask for. Default 30,000 ms. */
  askTimeoutMs?: number;
  /** How long a closing socket may take to finish the close handshake before it is destroyed. Default 5,000 ms. */
  closeTimeoutMs?: number;
  /**
   * Size of a batched frame (for clients that asked for batching). Default 64 KiB. Counted as the
   * summed length of its messages' JSON text (UTF-16 units, not UTF-8 bytes; brackets and commas
   * not counted), so a frame of non-ASCII text can be larger in bytes; one message longer than
   * this goes out as a frame of its own.
   */
  maxBatchBytes?: number;
  /** Clock of the init timeout, heartbeats and rate limit. Default: the system clock. */
  clock?: Clock;
  /** Where connection events are logged. Default: nowhere. */
  logger?: TransportLogger;
}

/** Every option with its default filled in. @internal */
export interface TransportLimits {
  path: string;
  origins: ReadonlySet<string>;
  initTimeoutMs: number;
  heartbeatMs: number;
  maxPayload: number;
  maxFragments: number;
  maxBufferedChunks: number;
  rate: { perSecond: number; burst: number } | undefined;
  maxSubscriptions: number;
  highWaterBytes: number;
  hardLimitBytes: number;
  askTimeoutMs: number;
  closeTimeoutMs: number;
  maxBatchBytes: number;
  clock: Clock;
  logger: TransportLogger;
}

const silent: TransportLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const KEYS = new Set([
  'path',
  'token',
  'authenticate',
  'authorize',
  'origins',
  'initTimeoutMs',
  'heartbeatMs',
  'maxPayload',
  'maxFragments',
  'maxBufferedChunks',
  'rateLimit',
  'maxSubscriptions',
  'highWaterBytes',
  'hardLimitBytes',
  'askTimeoutMs',
  'closeTimeoutMs',
  'maxBatchBytes',
  'clock',
  'logger',
]);

/** @internal */
export function resolveOptions(o: WebSocketOptions): TransportLimits {
  const fail = (why: string) => errors.invalidConfig(why, 'WebSocket options');
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw fail(`unknown option '${k}' (known: ${[...KEYS].join(', ')})`);
  // Number.isInteger is false for whatever is not a number, so no typeof check is needed.
  const whole = (v: number | undefined, name: string): number => {
    if (!Number.isInteger(v) || (v as number) < 1) throw fail(`\`${name}\` must be an integer >= 1, got ${String(v)}`);
    return v as number;
  };
  const n = (v: number | undefined, name: string, dflt: number): number => (v === undefined ? dflt : whole(v, name));
  const path = o.path ?? '/ws';
  if (typeof path !== 'string' || !path.startsWith('/')) throw fail(`\`path\` must start with '/', got ${String(path)}`);
  if (o.origins !== undefined && (!Array.isArray(o.origins) || o.origins.some((x) => typeof x !== 'string' || x.includes('*')))) {
    throw fail('`origins` must be an array of exact origins such as https://app.example (no wildcards)');
  }
  for (const f of ['authenticate', 'authorize'] as const) if (o[f] !== undefined && typeof o[f] !== 'function') throw fail(`\`${f}\` must be a function`);
  let rate: TransportLimits['rate'] = { perSecond: 100, burst: 200 };
  if (o.rateLimit === false) rate = undefined;
  else if (o.rateLimit !== undefined) {
    // Both fields are required: a missing burst used to mean a bucket of 0, which closed every connection at its first frame.
    if (typeof o.rateLimit !== 'object' || o.rateLimit === null) throw fail(`\`rateLimit\` must be { perSecond, burst } or false, got ${String(o.rateLimit)}`);
    rate = { perSecond: whole(o.rateLimit.perSecond, 'rateLimit.perSecond'), burst: whole(o.rateLimit.burst, 'rateLimit.burst') };
  }
  const limits: TransportLimits = {
    path,
    origins: new Set(o.origins ?? []),
    initTimeoutMs: n(o.initTimeoutMs, 'initTimeoutMs', 3_000),
    heartbeatMs: n(o.heartbeatMs, 'heartbeatMs', 15_000),
    maxPayload: n(o.maxPayload, 'maxPayload', 64 * 1024),
    maxFragments: n(o.maxFragments, 'maxFragments', 128),
    maxBufferedChunks: n(o.maxBufferedChunks, 'maxBufferedChunks', 1_024),
    rate,
    maxSubscriptions: n(o.maxSubscriptions, 'maxSubscriptions', 100),
    highWaterBytes: n(o.highWaterBytes, 'highWaterBytes', 4 * 1024 * 1024),
    hardLimitBytes: n(o.hardLimitBytes, 'hardLimitBytes', 16 * 1024 * 1024),
    askTimeoutMs: n(o.askTimeoutMs, 'askTimeoutMs', 30_000),
    closeTimeoutMs: n(o.closeTimeoutMs, 'closeTimeoutMs', 5_000),
    maxBatchBytes: n(o.maxBatchBytes, 'maxBatchBytes', 64 * 1024),
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silent,
  };
  if (limits.hardLimitBytes < limits.highWaterBytes) throw fail('`hardLimitBytes` must be >= `highWaterBytes`');
  return limits;
}
