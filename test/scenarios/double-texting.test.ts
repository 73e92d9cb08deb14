/**
 * Double-texting (seed 002's trigger, LangGraph's four strategies): a user sends a prompt,
 * then a correction while the answer still streams. Side by side, what each `onBusy`
 * policy answers each caller and what history the model is sent for the correction.
 */
import { describe, expect, it } from 'vitest';
import { sessionKind, type BusyPolicy } from '../../machines/index.js';
import { createRuntime, simulated, SimulatedClock, type ChatMessage } from '../../src/index.js';

const ANSWER = 'one two three four five';

async function doubleText(onBusy: BusyPolicy) {
  const clock = new SimulatedClock();
  const sent: string[][] = [];
  const inner = simulated({ clock, tokensPerSecond: 10, text: ANSWER });
  const provider = {
    name: 'recording',
    stream: (req: { messages: ChatMessage[] }, signal: AbortSignal) => {
      sent.push(req.messages.map((m) => `${m.role}:${m.content}`));
      return inner.stream(req, signal);
    },
  };
  const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider, onBusy }) } });
  const ref = rt.ref('session/user-42');
  const settle = (p: Promise<unknown>) => p.then((v) => ({ answer: (v as { text: string }).text }), (e: { code: string }) => ({ error: e.code }));
  const hello = settle(ref.ask({ type: 'prompt', text: 'hello' }));
  await clock.runAll();
  const first = settle(ref.ask({ type: 'prompt', text: 'what is 2+2' }));
  await clock.tick(250); // part of the answer has streamed
  const correction = settle(ref.ask({ type: 'prompt', text: 'I meant 3+3' }));
  await clock.runAll();
  const result = {
    hello: await hello,
    first: await first,
    correction: await correction,
    sentForCorrection: sent[2],
    history: (ref.snapshot()!.context.history as ChatMessage[]).map((m) => `${m.role}:${m.content}`),
  };
  await rt.shutdown();
  return result;
}

describe('double-texting: the four onBusy policies side by side', () => {
  it("interrupt: the first prompt is cut off (SUPERSEDED), its prompt and partial answer stay in the history the correction sees", async () => {
    const r = await doubleText('interrupt');
    expect(r.first).toEqual({ error: 'INTERLOCK_SUPERSEDED' });
    expect(r.correction).toEqual({ answer: ANSWER });
    expect(r.sentForCorrection).toEqual(['user:hello', `assistant:${ANSWER}`, 'user:what is 2+2', 'assistant:one two', 'user:I meant 3+3']);
  });

  it('rollback: the first prompt is cut off (SUPERSEDED) and removed with its partial answer; the correction sees the history as it was', async () => {
    const r = await doubleText('rollback');
    expect(r.first).toEqual({ error: 'INTERLOCK_SUPERSEDED' });
    expect(r.correction).toEqual({ answer: ANSWER });
    expect(r.sentForCorrection).toEqual(['user:hello', `assistant:${ANSWER}`, 'user:I meant 3+3']);
    expect(r.history).toEqual(['user:hello', `assistant:${ANSWER}`, 'user:I meant 3+3', `assistant:${ANSWER}`]);
  });

  it('enqueue: both are answered in order; the correction sees the first full exchange', async () => {
    const r = await doubleText('enqueue');
    expect(r.first).toEqual({ answer: ANSWER });
    expect(r.correction).toEqual({ answer: ANSWER });
    expect(r.sentForCorrection).toEqual(['user:hello', `assistant:${ANSWER}`, 'user:what is 2+2', `assistant:${ANSWER}`, 'user:I meant 3+3']);
  });

  it('reject: the correction is refused with INTERLOCK_BUSY and the first is answered', async () => {
    const r = await doubleText('reject');
    expect(r.first).toEqual({ answer: ANSWER });
    expect(r.correction).toEqual({ error: 'INTERLOCK_BUSY' });
    expect(r.sentForCorrection).toBeUndefined();
  });
});
