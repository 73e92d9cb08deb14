import { errors } from './errors.js';

const KIND = /^[a-z][a-z0-9_-]{0,63}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
export const MAX_KEY_LENGTH = 256;

/** Splits `kind/key` at the first '/'. The key may itself contain '/'. */
export function parseAddress(address: unknown): { kind: string; key: string } {
  if (typeof address !== 'string') throw errors.invalidAddress(address);
  const slash = address.indexOf('/');
  // Stryker disable next-line EqualityOperator: a '/' at 0 leaves an empty kind, which KIND refuses below, so `< 0` refuses the same addresses
  if (slash <= 0) throw errors.invalidAddress(address);
  const kind = address.slice(0, slash);
  const key = address.slice(slash + 1);
  if (!KIND.test(kind) || key.length === 0 || key.length > MAX_KEY_LENGTH || CONTROL_CHARS.test(key)) {
    throw errors.invalidAddress(address);
  }
  return { kind, key };
}

export function formatAddress(kind: string, key: string): string {
  const address = `${kind}/${key}`;
  parseAddress(address);
  return address;
}
