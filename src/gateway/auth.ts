/**
 * Bearer-token auth. Tokens are compared in constant time: both sides are hashed to 32
 * bytes first, so neither the comparison nor an early length mismatch tells an attacker
 * how much of a guess was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { GatewayError } from './httpErrors.js';

// A string is hashed as UTF-8 (Node's default for string data).
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Accepts a token or not. Given to the gateway (`authenticate`) to accept more than the one
 * shared `token`, e.g. one token per user; the `authorize` hook then limits what each may
 * reach. It must not leak timing: compare digests (see {@link sameToken}).
 */
export type Authenticate = (token: string) => boolean;

/** Constant-time equality of two tokens (both hashed first, so lengths do not leak either). */
export function sameToken(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The one token check every surface uses (HTTP routes, SSE, WebSocket upgrade and init):
 * `authenticate` when given, else the shared `token` in constant time, else open (every
 * token, and none, accepted).
 */
export function tokenVerifier(token: string | undefined, authenticate?: Authenticate): (candidate: string | undefined) => boolean {
  if (authenticate) return (candidate) => candidate !== undefined && authenticate(candidate) === true;
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (candidate) => candidate !== undefined && timingSafeEqual(digest(candidate), expected);
}

/** The token of an `Authorization: Bearer <token>` header value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  // One space after the scheme is required; more are trimmed with the token's own ends.
  // Stryker disable next-line StringLiteral: for an absent header any string without the scheme matches nothing, as '' does
  const match = /^Bearer (.+)$/i.exec(header ?? '');
  return match ? match[1]!.trim() : undefined;
}

/**
 * Returns a checker for `Authorization` header values (or, where a route allows it, a
 * `?token=` query value for clients that cannot set headers); undefined token and no
 * `authenticate` means open.
 */
export function bearerCheck(token: string | undefined, authenticate?: Authenticate): (header: string | undefined, queryToken?: string) => void {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: performance only: an open gateway skips parsing the header on every request; tokenVerifier(undefined) accepts everything too
  if (token === undefined && !authenticate) return () => undefined;
  const verify = tokenVerifier(token, authenticate);
  return (header, queryToken) => {
    const ok = verify(header === undefined ? queryToken : bearerToken(header));
    if (!ok) {
      throw new GatewayError(
        'INTERLOCK_UNAUTHORIZED',
        header === undefined && queryToken === undefined
          ? 'Missing Authorization header. Send `Authorization: Bearer <token>` with the token the server was started with.'
          : 'Invalid bearer token. Send `Authorization: Bearer <token>` with the token the server was started with.',
      );
    }
  };
}

/** Whether `host` (a listen address) only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}
