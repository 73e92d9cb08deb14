/**
 * Bearer-token auth. Tokens are compared in constant time: both sides are hashed to 32
 * bytes first, so neither the comparison nor an early length mismatch tells an attacker
 * how much of a guess was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { GatewayError } from './httpErrors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Returns a checker for `Authorization` header values; undefined token means open. */
export function bearerCheck(token: string | undefined): (header: string | undefined) => void {
  if (token === undefined) return () => undefined;
  const expected = digest(token);
  return (header) => {
    const match = typeof header === 'string' ? /^Bearer[ ]+(.+)$/i.exec(header) : null;
    const ok = match !== null && timingSafeEqual(digest(match[1]!.trim()), expected);
    if (!ok) {
      throw new GatewayError(
        'INTERLOCK_UNAUTHORIZED',
        header === undefined
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
