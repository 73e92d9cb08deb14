/**
 * What a session refuses before it runs, and says how to fix: bad options (at
 * sessionMachine) and bad events (sessionKind's validate); and what sessionKind adds to
 * the caller's policies without taking any away.
 */
import { describe, expect, it } from 'vitest';
import { sessionKind, sessionMachine, validateSessionEvent, type SessionOptions } from '../../machines/session.js';
import { simulated } from '../../src/index.js';

const provider = simulated({ tokensPerSecond: 10 });

describe('session options and events', () => {
  it('refuses each bad option with INTERLOCK_INVALID_CONFIG and a message naming the option, what it must be and what it got', () => {
    const cases: [Partial<SessionOptions>, string][] = [
      [{ provider: undefined }, 'Invalid sessionMachine options: `provider` must have stream(request, signal): openAICompatible(), simulated() or your own.'],
      [{ provider: {} as never }, 'Invalid sessionMachine options: `provider` must have stream(request, signal): openAICompatible(), simulated() or your own.'],
      [{ cleanupDeadlineMs: 0 }, 'Invalid sessionMachine options: `cleanupDeadlineMs` must be a positive number, got 0.'],
      [{ cleanupDeadlineMs: '5' as never }, 'Invalid sessionMachine options: `cleanupDeadlineMs` must be a positive number, got 5.'],
      [{ onBusy: 'drop' as never }, 'Invalid sessionMachine options: `onBusy` must be one of interrupt, rollback, enqueue, reject, got drop.'],
      [{ onDisconnect: 'later' as never }, 'Invalid sessionMachine options: `onDisconnect` must be one of cancel, detach, got later.'],
      [{ history: { maxMessages: 0 } }, 'Invalid sessionMachine options: `history.maxMessages` must be an integer >= 1, got 0.'],
      [{ history: { maxMessages: 1.5 } }, 'Invalid sessionMachine options: `history.maxMessages` must be an integer >= 1, got 1.5.'],
      [{ history: { maxChars: 0 } }, 'Invalid sessionMachine options: `history.maxChars` must be an integer >= 1, got 0.'],
    ];
    for (const [bad, message] of cases) {
      expect(() => sessionMachine({ provider, ...bad } as SessionOptions), message).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG', message }));
    }
  });

  it('accepts the smallest legal values and every known policy', () => {
    expect(() => sessionMachine({ provider, cleanupDeadlineMs: 1, history: { maxMessages: 1, maxChars: 1 } })).not.toThrow();
    for (const onBusy of ['interrupt', 'rollback', 'enqueue', 'reject'] as const) expect(() => sessionMachine({ provider, onBusy })).not.toThrow();
    for (const onDisconnect of ['cancel', 'detach'] as const) expect(() => sessionMachine({ provider, onDisconnect })).not.toThrow();
  });

  it('validates events: the exact message for each bad one, nothing for a good one', () => {
    expect(validateSessionEvent({ type: 'disconnect' })).toBeUndefined();
    expect(validateSessionEvent({ type: 'disconnect', requestId: 'r1' })).toBeUndefined();
    expect(validateSessionEvent({ type: 'disconnect', requestId: 7 })).toBe("a disconnect's `requestId` must be a string");
    expect(validateSessionEvent({ type: 'cancel', requestId: 7 })).toBeUndefined();
    expect(validateSessionEvent({ type: 'prompt' })).toBe('a prompt needs a string `text`');
    expect(validateSessionEvent({ type: 'prompt', text: 'x', onBusy: 'whenever' })).toBe("a prompt's `onBusy` must be one of interrupt, rollback, enqueue, reject");
    expect(validateSessionEvent({ type: 'prompt', text: 'x', onDisconnect: 'later' })).toBe("a prompt's `onDisconnect` must be one of cancel, detach");
    expect(validateSessionEvent({ type: 'prompt', text: 'x', onBusy: 'reject', onDisconnect: 'detach' })).toBeUndefined();
  });

  it("sessionKind keeps the caller's mailbox policies and adds cancel and disconnect to its control lane, once each", () => {
    const kind = sessionKind({ provider }, { mailbox: { capacity: 7, control: ['close', 'cancel'] } });
    expect(kind.mailbox).toEqual({ capacity: 7, control: ['cancel', 'disconnect', 'close'] });
    expect(sessionKind({ provider }).mailbox).toEqual({ control: ['cancel', 'disconnect'] });
  });
});
