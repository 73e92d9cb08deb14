/**
 * Errors of `interlock/client`. Two sources, one shape: what the server answers
 * (`error{id, payload: {code, message}}`, any public code of the runtime or gateway) and
 * what the client itself decides (the `ClientCodes` below). Either way the caller gets an
 * `Error` named `InterlockError` with a string `code`, so the check is by code,
 * `isInterlockError(err, 'INTERLOCK_EVENT_NOT_PUBLIC')`, never `instanceof` (the class on
 * the server is not the class here). docs/client.md lists the client codes; a test pins it.
 */
import { isInterlockError as isRuntimeError, type ErrorCode } from '../errors.js';

/** Codes only the client raises. */
export const ClientCodes = {
  INTERLOCK_CLIENT_TIMEOUT: {
    summary: 'No answer within the request’s timeoutMs, counted on the client from the call (waiting for a connection included).',
    retryable: true,
  },
  INTERLOCK_CONNECTION_LOST: {
    summary:
      'The socket dropped (a retryable close) while the request was in flight, so whether the server acted on it is unknown; or reconnecting gave up after its attempts.',
    retryable: true,
  },
  INTERLOCK_CONNECTION_CLOSED: {
    summary: 'The server closed the connection with a terminal code (4xxx), refused the upgrade (401, 403), or broke the protocol; the client does not reconnect as is.',
    retryable: false,
  },
  INTERLOCK_CLIENT_CLOSED: {
    summary: 'client.close() was called: pending requests are rejected with this code and nothing new is sent.',
    retryable: false,
  },
} as const;

export type ClientCode = keyof typeof ClientCodes;

/** Any code a client may see: the runtime's, the client's, or another the server sends (gateway, transport). */
export type AnyErrorCode = ErrorCode | ClientCode | (string & {});

/** What every error of the client carries. */
export interface ClientError extends Error {
  readonly name: 'InterlockError';
  readonly code: AnyErrorCode;
  /** Whether trying again (a new connection, the same request) may succeed. */
  readonly retryable: boolean;
  /** The address of the request or subscription, when there is one. */
  readonly address: string | undefined;
  /** The WebSocket close code behind a connection error, when there is one. */
  readonly closeCode: number | undefined;
  /** The HTTP status of a refused upgrade (Node only: a browser cannot see it). */
  readonly httpStatus: number | undefined;
}

export interface ClientErrorFields {
  retryable?: boolean;
  address?: string;
  closeCode?: number;
  httpStatus?: number;
}

export function clientError(code: AnyErrorCode, message: string, fields: ClientErrorFields = {}): ClientError {
  const err = new Error(message) as Error & Record<string, unknown>;
  err.name = 'InterlockError';
  err.code = code;
  err.retryable = fields.retryable ?? (ClientCodes as Record<string, { retryable: boolean }>)[code]?.retryable ?? false;
  err.address = fields.address;
  err.closeCode = fields.closeCode;
  err.httpStatus = fields.httpStatus;
  return err as unknown as ClientError;
}

/** Whether `err` is an Interlock error (from the server or the client), optionally of one code. */
export function isInterlockError(err: unknown, code?: AnyErrorCode): err is ClientError {
  return isRuntimeError(err) && (code === undefined || err.code === code);
}
