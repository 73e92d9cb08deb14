/**
 * What an error looks like on the wire: one table from every code (the runtime's
 * catalogue plus the gateway's own) to an HTTP status, an OpenAI error `type`, and what
 * the client may read. Every response body is OpenAI-shaped,
 * `{ error: { message, type, param, code } }`, all four keys present.
 *
 * Nothing internal crosses: a code marked `pass: false` gets a fixed message from this
 * table (an upstream error names the model server's URL; a crash names the machine's
 * exception), and anything that is not an InterlockError is `INTERLOCK_INTERNAL` / 500.
 * The full error goes to the log, by the caller.
 */
import { isInterlockError, type ErrorCode } from '../errors.js';

/** Codes only the gateway raises (documented in docs/http.md with the runtime's). */
export const GatewayCodes = {
  INTERLOCK_INVALID_REQUEST: 'The request body, query or headers do not match the route schema.',
  INTERLOCK_UNAUTHORIZED: 'Missing or wrong `Authorization: Bearer <token>`.',
  INTERLOCK_UNKNOWN_MODEL: 'The request names a model this server does not serve (see GET /v1/models).',
  INTERLOCK_NOT_FOUND: 'No such route, or no live actor at that address.',
  INTERLOCK_NOT_CANCELLABLE: "Cancel asked of an actor whose kind has no cancelEvent: its running turn cannot be cancelled from outside.",
  INTERLOCK_NOT_FAILED: 'Revive asked of an actor that is not failed.',
  INTERLOCK_BODY_TOO_LARGE: "The request body is larger than the server's bodyLimit.",
  INTERLOCK_UNSUPPORTED_MEDIA_TYPE: 'The request body is not application/json.',
  INTERLOCK_INTERNAL: 'Something failed inside the server; the log has the details (by request id).',
} as const;

export type GatewayCode = keyof typeof GatewayCodes;
export type WireCode = ErrorCode | GatewayCode;

interface Rule {
  status: number;
  type: string;
  /** Whether the error's own message may reach the client (it names only what the client sent). */
  pass: boolean;
  /** The message sent instead when `pass` is false. */
  message?: string;
  /** Seconds for a `retry-after` header. */
  retryAfter?: number;
}

const invalid = (status: number): Rule => ({ status, type: 'invalid_request_error', pass: true });
const server = (status: number, message: string, retryAfter?: number): Rule => ({
  status,
  type: 'server_error',
  pass: false,
  message,
  ...(retryAfter === undefined ? {} : { retryAfter }),
});

/** The one table from code to status. docs/http.md lists it; test/gateway pins both. */
export const STATUS: Record<WireCode, Rule> = {
  INTERLOCK_INVALID_REQUEST: invalid(400),
  INTERLOCK_INVALID_EVENT: invalid(400),
  INTERLOCK_INVALID_ADDRESS: invalid(400),
  INTERLOCK_UNAUTHORIZED: { status: 401, type: 'authentication_error', pass: true },
  INTERLOCK_INVALID_MESSAGE: invalid(400),
  INTERLOCK_NOT_ANSWERED: invalid(400),
  INTERLOCK_EVENT_NOT_PUBLIC: { status: 403, type: 'permission_error', pass: true },
  INTERLOCK_FORBIDDEN: { status: 403, type: 'permission_error', pass: true },
  INTERLOCK_UNKNOWN_MODEL: invalid(404),
  INTERLOCK_UNKNOWN_KIND: invalid(404),
  INTERLOCK_NOT_FOUND: invalid(404),
  INTERLOCK_BUSY: invalid(409),
  INTERLOCK_SUPERSEDED: invalid(409),
  INTERLOCK_CANCELLED: invalid(409),
  INTERLOCK_NOT_CANCELLABLE: invalid(409),
  INTERLOCK_NOT_FAILED: invalid(409),
  INTERLOCK_BODY_TOO_LARGE: invalid(413),
  INTERLOCK_UNSUPPORTED_MEDIA_TYPE: invalid(415),
  INTERLOCK_MAILBOX_FULL: { status: 429, type: 'rate_limit_error', pass: true, retryAfter: 1 },
  INTERLOCK_TOO_MANY_SUBSCRIPTIONS: { status: 429, type: 'rate_limit_error', pass: true },
  INTERLOCK_INTERNAL: server(500, 'Internal error; the server log has the details under this request id.'),
  INTERLOCK_INVALID_CONFIG: server(500, 'Internal error (server misconfiguration); the server log has the details.'),
  INTERLOCK_INVALID_KIND: server(500, 'Internal error (server misconfiguration); the server log has the details.'),
  INTERLOCK_STORE_FAILED: server(500, 'Internal error (snapshot store); the server log has the details.'),
  INTERLOCK_SOURCE_FAILED: server(500, 'Internal error; the server log has the details.'),
  INTERLOCK_MISSING_PEER: server(500, 'Internal error (server misconfiguration); the server log has the details.'),
  INTERLOCK_TURN_FAILED: server(500, 'The actor answered this request with an error; the server log has the details.'),
  INTERLOCK_ACTOR_CRASHED: server(500, 'The actor crashed while handling this request and is being restarted; retry.'),
  INTERLOCK_ACTOR_STALLED: server(500, 'The actor stalled while handling this request and was restarted; retry.'),
  INTERLOCK_UPSTREAM_FAILED: server(502, 'The model server failed or closed the stream early; retry, and see the server log if it repeats.'),
  INTERLOCK_UPSTREAM_PROTOCOL: server(502, 'The model server sent a stream the gateway could not parse; see the server log.'),
  INTERLOCK_ACTOR_FAILED: server(503, 'The actor is failed (restart budget exhausted) and refuses work until revived.'),
  INTERLOCK_RETRY_EXHAUSTED: server(502, 'The request failed again after its one retry on the next subscription; resend it if it is still wanted.'),
  INTERLOCK_AGENT_UNAVAILABLE: server(503, 'The agent is unavailable (no viable subscription or backend); see the server log.'),
  INTERLOCK_ACTOR_LIMIT: { status: 503, type: 'server_error', pass: true, retryAfter: 1 },
  INTERLOCK_SHUTTING_DOWN: server(503, 'The server is shutting down and refuses new work; retry against another instance.', 5),
  INTERLOCK_ACTOR_STOPPED: server(503, 'The server stopped the actor (shutdown) before it answered; retry.', 5),
  INTERLOCK_DEADLINE_EXCEEDED: { status: 504, type: 'timeout_error', pass: true },
};

export interface WireError {
  status: number;
  headers: Record<string, string>;
  body: { error: { message: string; type: string; param: string | null; code: WireCode } };
}

/** An error the gateway itself raises with a gateway code. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: WireCode,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** Maps anything thrown to what the client sees. The caller logs the original. */
export function toWire(err: unknown): WireError {
  let code: WireCode = 'INTERLOCK_INTERNAL';
  let message: string | undefined;
  let param: string | null = null;
  if (err instanceof GatewayError) {
    code = err.code;
    message = err.message;
    param = err.param;
  } else if (isInterlockError(err) && err.code in STATUS) {
    code = err.code;
    message = err.message;
  }
  const rule = STATUS[code];
  return {
    status: rule.status,
    headers: rule.retryAfter === undefined ? {} : { 'retry-after': String(rule.retryAfter) },
    body: { error: { message: rule.pass && message ? message : rule.message ?? 'Internal error.', type: rule.type, param, code } },
  };
}
