import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countTokens, firstTokenStart, isSpace, tokenEnd } from '../../src/providers/tokens.js';
import { fcParams } from '../model/props.js';

/** What simulated() split its reply into before it read tokens lazily. */
const upFront = (text: string): string[] => text.trim().match(/\s*\S+/g) ?? [];

function lazy(text: string): string[] {
  const out: string[] = [];
  for (let at = firstTokenStart(text), end = tokenEnd(text, at); end !== -1; at = end, end = tokenEnd(text, at)) out.push(text.slice(at, end));
  return out;
}

/** Every kind of JavaScript whitespace, and some characters that are not. */
const SPACES = ['\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'];
const OTHERS = ['a', 'b', 'é', '\u200b', '\u180e', '\u0085', '😀', '\ud800', '.', '"'];
const textArb = fc.oneof(
  fc.array(fc.constantFrom(...SPACES, ...OTHERS), { maxLength: 40 }).map((cs) => cs.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

describe('simulated() tokens read one at a time', () => {
  it('treats exactly the code units of JavaScript \\s as whitespace', () => {
    const wrong: number[] = [];
    for (let c = 0; c <= 0xffff; c++) if (isSpace(c) !== /\s/.test(String.fromCharCode(c))) wrong.push(c);
    expect(wrong).toEqual([]);
  });

  it('yields exactly the tokens the whole-reply split did, and counts them without building them', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        expect(lazy(text)).toEqual(upFront(text));
        expect(countTokens(text)).toBe(upFront(text).length);
      }),
      { ...fcParams(), numRuns: Number(process.env.FC_RUNS ?? 2000) },
    );
  });

  it.each(['', '   ', 'one', '  lead and trail  ', 'a\u3000b\u2028c'])('agrees with the split on %j', (text) => {
    expect(lazy(text)).toEqual(upFront(text));
  });
});
