/**
 * The safety net for a broken invariant: a `@stream.closed` of another generation than the
 * active stream's changes nothing and is recorded as `stream.stale`, in every state. Under
 * the runtime none arrives (TaskSet drops a fenced task's outcome, and only the active
 * stream's task is live), so the machine is driven here as a plain XState actor, where the
 * runtime's helpers (tasks, answers) do nothing (and warn once, INTERLOCK_NO_RUNTIME).
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { sessionMachine, type SessionEmitted, type SessionInternalEvent } from '../../machines/session.js';
import { simulated } from '../../src/index.js';

function plainSession() {
  const actor = createActor(sessionMachine({ provider: simulated({ tokensPerSecond: 10 }) }));
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => emitted.push(e as SessionEmitted));
  actor.start();
  return { actor, emitted };
}

const closed = (gen: number, outcome: SessionInternalEvent['outcome']): SessionInternalEvent => ({ type: '@stream.closed', gen, outcome, text: 'late' });

describe('a @stream.closed of another generation', () => {
  it.each(['done', 'error', 'aborted'] as const)('(%s) is recorded as stream.stale and changes nothing, in idle, streaming and cancelling', (outcome) => {
    const { actor, emitted } = plainSession();
    const steps: [string, () => void][] = [
      ['idle', () => {}],
      ['streaming', () => actor.send({ type: 'prompt', text: 'A' })],
      ['cancelling', () => actor.send({ type: 'cancel' })],
    ];
    for (const [state, enter] of steps) {
      enter();
      expect(actor.getSnapshot().value).toBe(state);
      const before = { context: actor.getSnapshot().context, emitted: emitted.length };
      actor.send(closed(7, outcome));
      expect(emitted.slice(before.emitted), state).toEqual([{ type: 'stream.stale', gen: 7, current: before.context.gen }]);
      expect(actor.getSnapshot().value, state).toBe(state);
      expect(actor.getSnapshot().context, state).toEqual(before.context);
    }
    actor.stop();
  });

  it('a rolled-back stream being cancelled records another generation as stale too', () => {
    const { actor, emitted } = plainSession();
    actor.send({ type: 'prompt', text: 'A' });
    actor.send({ type: 'prompt', text: 'B', onBusy: 'rollback' });
    expect([actor.getSnapshot().value, actor.getSnapshot().context.endReason]).toEqual(['cancelling', 'rolledback']);
    const n = emitted.length;
    actor.send(closed(7, 'done'));
    expect(emitted.slice(n)).toEqual([{ type: 'stream.stale', gen: 7, current: 1 }]);
    expect(actor.getSnapshot().value).toBe('cancelling');
    actor.stop();
  });
});
