/**
 * simulated()'s word tokens, read one at a time from the reply text instead of split into
 * an array up front (a 250-token reply split at once held ~8 KB per streaming session).
 *
 * The tokens are exactly those of `text.trim().match(/\s*\S+/g)`: each word with the
 * whitespace before it, the first one without, so they concatenate back to the trimmed
 * text. "Whitespace" is JavaScript's `\s` (and `trim()`'s): {@link isSpace}.
 */

/** Whether UTF-16 code unit `c` is in JavaScript's `\s`: WhiteSpace (Unicode Zs, TAB, VT, FF, ZWNBSP) or LineTerminator. */
export function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  // Stryker disable next-line ConditionalExpression: '→ false' is equivalent: a fast path, every code unit the lines below accept is >= 0xa0; '→ true' is killed by tokens.test.ts
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Where the first token starts: past the leading whitespace. */
export function firstTokenStart(text: string): number {
  let i = 0;
  // No bound needed: past the end charCodeAt() is NaN, which isSpace() refuses.
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Where the token that starts at `from` (the end of the previous one) ends, or -1 when no
 * token is left (only whitespace remains).
 */
export function tokenEnd(text: string, from: number): number {
  const n = text.length;
  let i = from;
  // No bound needed: past the end charCodeAt() is NaN, which isSpace() refuses.
  while (isSpace(text.charCodeAt(i))) i++;
  if (i === n) return -1;
  while (i < n && !isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** How many tokens `text` has, without building them. */
export function countTokens(text: string): number {
  let count = 0;
  for (let at = firstTokenStart(text), end = tokenEnd(text, at); end !== -1; at = end, end = tokenEnd(text, at)) count++;
  return count;
}
