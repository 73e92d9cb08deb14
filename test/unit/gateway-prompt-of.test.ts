/**
 * The prompt a chat completion sends its session (src/gateway/chat.ts `promptOf`): the
 * last user message's text, whatever comes after it; array content keeps only its text
 * parts; anything else (null content, no user message) is the empty prompt.
 */
import { describe, expect, it } from 'vitest';
import { promptOf, type ChatBody } from '../../src/gateway/chat.js';

type Message = ChatBody['messages'][number];

const of = (...messages: Message[]): string => promptOf({ model: 'm', messages });

describe('promptOf', () => {
  it('is the last user message, whatever the messages after it say', () => {
    const rows: [Message[], string][] = [
      [[{ role: 'user', content: 'only' }], 'only'],
      [[{ role: 'user', content: 'first' }, { role: 'user', content: 'second' }], 'second'],
      [[{ role: 'user', content: 'asked' }, { role: 'assistant', content: 'answered' }], 'asked'],
      [[{ role: 'system', content: 'rules' }, { role: 'user', content: 'asked' }, { role: 'assistant', content: 'a' }, { role: 'tool', content: 't' }], 'asked'],
    ];
    expect(rows.map(([messages]) => of(...messages))).toEqual(rows.map(([, prompt]) => prompt));
  });

  it('joins the text parts of array content and skips every other part, and a text part without text', () => {
    expect(of({ role: 'user', content: [{ type: 'text', text: 'one ' }, { type: 'image_url' }, { type: 'text', text: 'two' }] })).toBe('one two');
    expect(of({ role: 'user', content: [{ type: 'image_url', text: 'not text' }, { type: 'text' }, { type: 'text', text: 'kept' }] })).toBe('kept');
    expect(of({ role: 'user', content: [] })).toBe('');
    expect(of({ role: 'user', content: [{ type: 'image_url' }] })).toBe('');
  });

  it('is empty for a last user message with null content, and when no message is the user\'s', () => {
    expect(of({ role: 'user', content: 'earlier' }, { role: 'user', content: null })).toBe('');
    expect(of({ role: 'system', content: 'rules' }, { role: 'assistant', content: 'hello' })).toBe('');
  });
});
