/**
 * What AnswerText holds while a streamed answer grows (its reason to exist, see
 * machines/AnswerText.ts): whole blocks of 16 pieces joined flat, fewer than 16 loose
 * pieces, and no empty block from reading it. Read through its private fields on purpose:
 * the layout is the behaviour under test, and toString cannot show it.
 */
import { describe, expect, it } from 'vitest';
import { AnswerText } from '../../machines/AnswerText.js';

const held = (a: AnswerText) => ({ blocks: Reflect.get(a, 'blocks') as string[] | undefined, loose: (Reflect.get(a, 'loose') as string[]).length });

describe('AnswerText holding', () => {
  it('joins every 16 pieces into one flat block and keeps fewer than 16 loose', () => {
    const a = new AnswerText();
    for (let i = 0; i < 15; i++) a.push('x');
    expect(held(a)).toEqual({ blocks: undefined, loose: 15 });
    a.push('y');
    expect(held(a)).toEqual({ blocks: ['x'.repeat(15) + 'y'], loose: 0 });
    for (let i = 0; i < 250 - 16; i++) a.push('z');
    expect(held(a).blocks).toHaveLength(15);
    expect(held(a).loose).toBe(10);
  });

  it('adds the loose pieces as one block when read, and no empty block when there are none', () => {
    const a = new AnswerText();
    for (let i = 0; i < 32; i++) a.push('p');
    expect(a.toString()).toBe('p'.repeat(32));
    expect(held(a)).toEqual({ blocks: ['p'.repeat(16), 'p'.repeat(16)], loose: 0 });
    a.push('q');
    expect(a.toString()).toBe('p'.repeat(32) + 'q');
    expect(held(a)).toEqual({ blocks: ['p'.repeat(16), 'p'.repeat(16), 'q'], loose: 0 });
  });
});
