import { describe, expect, it } from 'vitest';
import { sessionKind, trimHistory } from '../../machines/index.js';
import { createRuntime, simulated, SimulatedClock } from '../../src/index.js';

const m = (role: 'user' | 'assistant', content: string) => ({ role, content });

describe('session history is bounded', () => {
  it('drops the oldest messages until both bounds hold, always keeping the newest', () => {
    const h = [m('user', 'aaaa'), m('assistant', 'bbbb'), m('user', 'cc'), m('assistant', 'dd')];
    expect(trimHistory(h, 10, 100)).toBe(h);
    expect(trimHistory(h, 3, 100)).toEqual(h.slice(1));
    expect(trimHistory(h, 10, 8)).toEqual(h.slice(1));
    expect(trimHistory(h, 10, 4)).toEqual(h.slice(2));
    expect(trimHistory(h, 10, 1)).toEqual(h.slice(3));
    expect(trimHistory([m('user', 'x'.repeat(50))], 1, 10)).toEqual([m('user', 'x'.repeat(50))]);
  });

  it('keeps at most maxMessages in a session that answers many prompts, and the model sees only those', async () => {
    const clock = new SimulatedClock();
    const seen: number[] = [];
    const inner = simulated({ clock, tokensPerSecond: 1_000, text: 'ok' });
    const provider = { name: 'spy', stream: (req: { messages: unknown[] }, signal: AbortSignal) => (seen.push(req.messages.length), inner.stream(req as never, signal)) };
    const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider, history: { maxMessages: 4 } }) } });
    const ref = rt.ref('session/1');
    for (let i = 0; i < 5; i++) {
      const answer = ref.ask({ type: 'prompt', text: `p${i}` });
      await clock.runAll();
      expect(await answer).toMatchObject({ text: 'ok' });
    }
    expect(seen).toEqual([1, 3, 4, 4, 4]);
    expect(ref.snapshot()!.context.history).toEqual([m('user', 'p3'), m('assistant', 'ok'), m('user', 'p4'), m('assistant', 'ok')]);
  });

  it('refuses a history policy out of range with INTERLOCK_INVALID_CONFIG', () => {
    const provider = simulated();
    expect(() => sessionKind({ provider, history: { maxMessages: 0 } })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }));
    expect(() => sessionKind({ provider, history: { maxChars: 1.5 } })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }));
  });
});
