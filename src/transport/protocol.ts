/**
 * The `interlock.v1` WebSocket subprotocol: message shapes and close codes shared by the
 * server (`src/transport/`) and the client (`interlock/client`). Types and constants only:
 * nothing here runs, so the browser bundle of the client can import it.
 *
 * Shaped like graphql-ws (`graphql-transport-ws`): every message is one JSON text frame
 * `{ type, id?, payload? }`, fields live under `payload`, `id` names a subscription or a
 * request and is chosen by the client. The reference with an example session is
 * docs/protocol.md.
 */

/** The subprotocol name a client offers in `Sec-WebSocket-Protocol`. */
export const SUBPROTOCOL = 'interlock.v1';

/** Where an address's record stream is resumed from: the last record a client holds. */
export interface ResumeFrom {
  epoch: number;
  seq: number;
}

// ---------------------------------------------------------------- client → server

export interface ConnectionInitMessage {
  type: 'connection_init';
  payload?: { token?: string };
}

/** Subscribe to one address (`session/abc`) or to a pattern (`session/*`, `*`). */
export interface SubscribeMessage {
  type: 'subscribe';
  id: string;
  payload: {
    address?: string;
    pattern?: string;
    /** Only with `address`: resume after this record instead of starting live. */
    since?: ResumeFrom;
  };
}

export interface SendMessage {
  type: 'send';
  id: string;
  payload: { address: string; event: { type: string; [k: string]: unknown }; priority?: number };
}

export interface AskMessage {
  type: 'ask';
  id: string;
  payload: { address: string; event: { type: string; [k: string]: unknown }; timeoutMs?: number; priority?: number };
}

/** Client → server: stop a subscription (or give up on an ask). Server → client: a subscription ended. */
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
  /** `epoch`: this server process's boot epoch; `heartbeatMs`: how often it pings. */
  payload: { epoch: number; heartbeatMs: number };
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
  };
}

/** The answer to `send` (accepted: `data` is null) or `ask` (the reply). */
export interface ResultMessage {
  type: 'result';
  id: string;
  payload: { data: unknown };
}

/** A coded failure. With `id`: of that request or subscription. Without: of a frame that had no usable id. */
export interface ErrorMessage {
  type: 'error';
  id?: string;
  payload: { code: string; message: string };
}

export type ServerMessage = ConnectionAckMessage | NextMessage | ResultMessage | ErrorMessage | CompleteMessage | PingMessage | PongMessage;

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
  /** A frame that is not a protocol message, where no id allows an `error` answer (e.g. a second init). */
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
  /** Unexpected server failure. */
  InternalError: 4500,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client reconnects (with backoff) and resumes. */
export const RETRYABLE_CLOSE_CODES: readonly number[] = [1000, 1001, 1005, 1006, 1012, 1013, 1014];
