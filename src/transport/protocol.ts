/**
 * The `interlock.v1` WebSocket subprotocol: message shapes and close codes shared by the
 * server (`src/transport/`) and the client (`interlock/client`). Types and constants only:
 * nothing here runs, so the browser bundle of the client can import it.
 *
 * Shaped like graphql-ws (`graphql-transport-ws`): every message is one JSON text frame
 * `{ type, id?, payload? }`, fields live under `payload`, `id` names a subscription or a
 * request and is chosen by the client. The reference with an example session is
 * docs/protocol.md.
 *
 * Batching: a client that sends `connection_init{ payload: { batch: true } }` may receive
 * a server frame that is a JSON *array* of server messages, to be handled in array order
 * (the ack says `batch: true` when the server will do so). Without it every server frame
 * is one message object. Client frames are always one message object.
 */

/** The subprotocol name a client offers in `Sec-WebSocket-Protocol`. */
export const SUBPROTOCOL = 'interlock.v1';

/**
 * Where an address's record stream is resumed from: the `epoch` and `seq` of the last
 * `next` a client holds for that address. Epochs on the wire are unique across server
 * restarts (the server's boot epoch from `connection_ack` plus the activation's number), so
 * a resume point from before a restart is answered as a gap, never misread.
 */
export interface ResumeFrom {
  epoch: number;
  seq: number;
}

/**
 * Where a pattern subscription resumes: a point per address, keyed by address (`kind/key`,
 * each matching the pattern), e.g. `{ "session/a": { epoch, seq }, "session/b": { … } }`.
 * There is no sequence across addresses, so a pattern's position is the set of its
 * addresses' positions. At most {@link MAX_RESUME_ADDRESSES} entries (and the frame must fit
 * the server's `maxPayload`, 64 KiB by default).
 */
export type ResumeMap = Record<string, ResumeFrom>;

/** The most addresses a pattern subscription's `since` may name (more: INTERLOCK_INVALID_MESSAGE). */
export const MAX_RESUME_ADDRESSES = 1_000;

/** Mailbox priority of a `send` or `ask`. */
export type WirePriority = 'high' | 'normal' | 'low';

// ---------------------------------------------------------------- client → server

/**
 * The first message, within the init timeout (3 s). `token` may be left out when the
 * upgrade request already carried it (`Authorization: Bearer` or `?token=`); when given it
 * must be valid (and the same as the upgrade's), else 4403. `batch: true`: this client
 * decodes array frames (see above).
 */
export interface ConnectionInitMessage {
  type: 'connection_init';
  payload?: { token?: string; batch?: boolean };
}

/**
 * Subscribe to one address (`session/abc`) or to a pattern: `*` (every address),
 * `session/*` (every address of a kind) or `session/user-42-*` (a key prefix; `*` only
 * at the end).
 *
 * - An address: the current public snapshot first (a `next` of type `snapshot`, when the
 *   actor is live), or, with `since: { epoch, seq }`, the records after that point (or a
 *   snapshot flagged `recovered: false` when they are gone); then live records.
 * - A pattern without `since`: live records of every matching address only (the cheap form).
 * - A pattern with `since: { "<address>": { epoch, seq }, … }` ({@link ResumeMap}): for each
 *   address named, what an address subscription with that point gets first; for each live
 *   matching actor not named, its current snapshot; then live records of every matching
 *   address. Order holds per address, not across addresses.
 */
export interface SubscribeMessage {
  type: 'subscribe';
  id: string;
  payload: {
    address?: string;
    pattern?: string;
    /**
     * Resume instead of starting live: with `address`, after this record (`{ epoch, seq }`);
     * with `pattern`, after each named address's record (a {@link ResumeMap}, possibly empty).
     */
    since?: ResumeFrom | ResumeMap;
  };
}

export interface SendMessage {
  type: 'send';
  id: string;
  payload: { address: string; event: { type: string; [k: string]: unknown }; priority?: WirePriority };
}

export interface AskMessage {
  type: 'ask';
  id: string;
  payload: { address: string; event: { type: string; [k: string]: unknown }; timeoutMs?: number; priority?: WirePriority };
}

/**
 * Client → server: stop a subscription (or give up on an ask: it is cancelled). Server →
 * client: the answer to a client's `complete` of an id in use, after the last message of
 * that id; the id may be reused once it arrives.
 */
export interface CompleteMessage {
  type: 'complete';
  id: string;
}

export interface PingMessage {
  type: 'ping';
  payload?: Record<string, unknown>;
}

export interface PongMessage {
  type: 'pong';
  payload?: Record<string, unknown>;
}

export type ClientMessage = ConnectionInitMessage | SubscribeMessage | SendMessage | AskMessage | CompleteMessage | PingMessage | PongMessage;

// ---------------------------------------------------------------- server → client

export interface ConnectionAckMessage {
  type: 'connection_ack';
  /**
   * `epoch`: this server process's boot epoch (record epochs on the wire count up from it);
   * `heartbeatMs`: how often it sends protocol pings (answer them, or be terminated);
   * `batch`: whether server frames may be arrays of messages (only if the init asked).
   */
  payload: { epoch: number; heartbeatMs: number; batch: boolean };
}

/** One bus record of a subscription, with the public view only (never secrets). */
export interface NextMessage {
  type: 'next';
  id: string;
  payload: {
    address: string;
    epoch: number;
    seq: number;
    type: string;
    data: unknown;
    ts?: number;
    /**
     * Present and false on the snapshot sent when a resume point could not be served from
     * the replay buffer: the client missed records and gets the current state instead.
     */
    recovered?: false;
    /**
     * Present on a snapshot record that replaced earlier snapshot records of the same
     * address while this client was reading too slowly: seq jumps over them (only over
     * snapshot records), and this one is the newer state.
     */
    coalesced?: true;
  };
}

/** The answer to `send` (accepted: `data` is null) or `ask` (the reply). */
export interface ResultMessage {
  type: 'result';
  id: string;
  payload: { data: unknown };
}

/**
 * A coded failure. With `id`: of that request or subscription (which is then over). Without:
 * of a frame that had no usable id. Codes: the runtime's (docs/errors.md) plus
 * `INTERLOCK_INVALID_MESSAGE`, `INTERLOCK_FORBIDDEN`, `INTERLOCK_TOO_MANY_SUBSCRIPTIONS`,
 * `INTERLOCK_INTERNAL`.
 */
export interface ErrorMessage {
  type: 'error';
  id?: string;
  payload: { code: string; message: string };
}

export type ServerMessage = ConnectionAckMessage | NextMessage | ResultMessage | ErrorMessage | CompleteMessage | PingMessage | PongMessage;

/** One server frame: a message, or (only after `batch: true` in the init) an array of them in order. */
export type ServerFrame = ServerMessage | ServerMessage[];

// ---------------------------------------------------------------- close codes

/**
 * Close codes. 4xxx are terminal (the client must not reconnect as is), after graphql-ws;
 * 1001, 1012, 1013 are retryable and a client reconnects with backoff and resumes.
 */
export const CloseCode = {
  /** Server going away (shutdown). Retryable. */
  GoingAway: 1001,
  /** `ws` itself: a frame over `maxPayload`. */
  MessageTooBig: 1009,
  /** `ws` itself: too many fragments or buffered chunks. */
  PolicyViolation: 1008,
  /** Server restarting. Retryable. */
  ServiceRestart: 1012,
  /** Slow consumer: the socket's unsent bytes passed the hard mark. Retryable. */
  TryAgainLater: 1013,
  /** A binary frame, or a frame before `connection_ack` that is not a valid `connection_init` (e.g. not JSON). */
  BadRequest: 4400,
  /** A message other than `connection_init` before `connection_ack`. */
  Unauthorized: 4401,
  /** Wrong token in `connection_init`. */
  Forbidden: 4403,
  /** No `connection_init` within the init timeout (3 s). */
  InitTimeout: 4408,
  /** A subscription or request id already in use on this connection. */
  DuplicateId: 4409,
  /** Rate limit exceeded (or a second `connection_init`). */
  TooManyRequests: 4429,
  /** Unexpected server failure (e.g. the server's authorize hook threw). */
  InternalError: 4500,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client reconnects (with backoff) and resumes. */
export const RETRYABLE_CLOSE_CODES: readonly number[] = [1000, 1001, 1005, 1006, 1012, 1013, 1014];
