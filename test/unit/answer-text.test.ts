import { describe, expect, it } from 'vitest';
import { AnswerText } from '../../machines/AnswerText.js';

describe("AnswerText (a streaming session's answer so far)", () => {
  it.each([0, 1, 15, 16, 17, 32, 33, 250])('gives back exactly the %i pieces pushed, in order, however they fall into blocks', (n) => {
    const pieces = Array.from({ length: n }, (_, i) => (i === 0 ? `w${i}` : ` w${i}`));
    const answer = new AnswerText();
    for (const p of pieces) answer.push(p);
    expect(answer.toString()).toBe(pieces.join(''));
    // Reading it does not consume it.
    expect(answer.toString()).toBe(pieces.join(''));
  });

  it('keeps growing after being read', () => {
    const answer = new AnswerText();
    for (let i = 0; i < 20; i++) answer.push(String(i % 10));
    expect(answer.toString()).toBe('01234567890123456789');
    answer.push('!');
    expect(answer.toString()).toBe('01234567890123456789!');
  });
});
