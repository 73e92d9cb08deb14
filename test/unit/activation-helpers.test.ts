/**
 * What the turn helpers do through the activation in the corner cases: a reserved type
 * mailed to self, a heartbeat or a task abort/fence where there is nothing to act on, the
 * reason a fenced or turn-ended task's signal carries, the error a failed actor answers
 * with, and inspection switched off for an actor that was never tapped.
 */
import { assign, setup, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  abortTask,
  createRuntime,
  fenceTask,
  flushMicrotasks,
  heartbeat,
  reply,
  runTask,
  SimulatedClock,
  tellSelf,
} from '../../src/index.js';
import { newLog, workMachine } from './fixtures.js';
import { rejected, settled, track } from '../helpers/outcome.js';

type HEvent =
  | { type: 'keep' }
  | { type: 'beat' }
  | { type: 'abort-none' }
  | { type: 'fence-none' }
  | { type: 'go' }
  | { type: 'fence' }
  | { type: 'answer' }
  | { type: '@settled' };

/** `go` (an ask) starts task 't', which waits for its signal and records the reason. */
function helperMachine(saved: { self?: AnyActorRef; reasons: unknown[] }) {
  return setup({ types: {} as { context: { n: number }; events: HEvent } }).createMachine({
    context: { n: 0 },
    initial: 'idle',
    on: {
      keep: { actions: [({ self }) => void (saved.self = self), assign({ n: ({ context }) => context.n + 1 })] },
      beat: { actions: heartbeat() },
      'abort-none': { actions: abortTask(() => 'nope') },
      'fence-none': { actions: fenceTask(() => 'nope') },
      '@settled': {},
    },
    states: {
      idle: {
        on: {
          go: {
            target: 'busy',
            actions: runTask(
              ({ signal }) =>
                new Promise<void>((resolve) =>
                  signal.addEventListener('abort', () => {
                    saved.reasons.push(signal.reason);
                    resolve();
                  }),
                ),
              { id: () => 't', done: () => ({ type: '@settled' }), error: () => ({ type: '@settled' }) },
            ),
          },
        },
      },
      busy: { on: { fence: { target: 'idle', actions: fenceTask(() => 't') }, answer: { target: 'idle', actions: reply('answered') } } },
    },
  });
}

function runtime() {
  const clock = new SimulatedClock();
  const saved: { self?: AnyActorRef; reasons: unknown[] } = { reasons: [] };
  const rt = createRuntime({ clock, kinds: { h: { machine: helperMachine(saved) } } });
  return { rt, clock, saved };
}

describe('the turn helpers in their corner cases', () => {
  it('refuses a reserved type mailed to self with INTERLOCK_INVALID_EVENT saying why', async () => {
    const { rt, saved } = runtime();
    rt.tell('h/1', { type: 'keep' });
    await flushMicrotasks();
    let thrown: (Error & { code?: string }) | undefined;
    try {
      tellSelf(saved.self!, { type: '@settled' });
    } catch (err) {
      thrown = err as Error & { code?: string };
    }
    expect(thrown?.code).toBe('INTERLOCK_INVALID_EVENT');
    expect(thrown?.message).toBe("Invalid event for 'h/1': '@settled' is a reserved type; an actor cannot mail itself one.");
    // A plain type is mailed and taken.
    tellSelf(saved.self!, { type: 'keep' });
    await flushMicrotasks();
    expect(rt.view('h/1')?.context).toEqual({ n: 2 });
    await rt.shutdown();
  });

  it('takes a heartbeat, and an abort or fence of an unknown task, in a kind without watchdog or tasks, without crashing', async () => {
    const { rt } = runtime();
    rt.tell('h/1', { type: 'beat' });
    rt.tell('h/1', { type: 'abort-none' });
    rt.tell('h/1', { type: 'fence-none' });
    rt.tell('h/1', { type: 'keep' });
    await flushMicrotasks();
    expect(rt.view('h/1')).toMatchObject({ status: 'running', restarts: 0, context: { n: 1 } });
    await rt.shutdown();
  });

  it("fires a fenced task's signal with INTERLOCK_CANCELLED (running)", async () => {
    const { rt, clock, saved } = runtime();
    const go = track(rt.ask('h/1', { type: 'go' }));
    await flushMicrotasks();
    rt.tell('h/1', { type: 'fence' });
    await flushMicrotasks();
    expect(saved.reasons).toHaveLength(1);
    expect(saved.reasons[0]).toMatchObject({ code: 'INTERLOCK_CANCELLED', message: "Request to 'h/1' was cancelled by its caller's signal while running." });
    await rt.shutdown({ drain: false });
    await rejected(go, clock);
  });

  it("fires the signal of a task whose turn ended with INTERLOCK_ACTOR_STOPPED (turn ended)", async () => {
    const { rt, clock, saved } = runtime();
    const go = track(rt.ask('h/1', { type: 'go' }));
    await flushMicrotasks();
    rt.tell('h/1', { type: 'answer' });
    expect(await settled(go, clock)).toBe('answered');
    expect(saved.reasons).toHaveLength(1);
    expect(saved.reasons[0]).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED', message: "Actor 'h/1' stopped (turn ended) before answering." });
    await rt.shutdown();
  });
});

describe('a failed actor', () => {
  it('refuses a tell with INTERLOCK_ACTOR_FAILED naming the last error and the revive call', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { w: { machine: workMachine(newLog()), supervision: { maxRestarts: 0 } } } });
    await rejected(track(rt.ask('w/1', { type: 'work', id: 'A', throwInAction: true })), clock);
    expect(rt.view('w/1')?.status).toBe('failed');
    let thrown: (Error & { code?: string }) | undefined;
    try {
      rt.tell('w/1', { type: 'note', text: 'x' });
    } catch (err) {
      thrown = err as Error & { code?: string };
    }
    expect(thrown?.code).toBe('INTERLOCK_ACTOR_FAILED');
    expect(thrown?.message).toContain('(last error: ');
    expect(thrown?.message).toContain('action threw on A');
    expect(thrown?.message).toContain("runtime.revive('w/1')");
    await rt.shutdown();
  });
});

describe('inspection', () => {
  it('switches inspection off for an actor still loading (never tapped) without throwing', async () => {
    const clock = new SimulatedClock();
    // A store whose load never answers: the actor stays 'loading', with no XState actor to tap.
    const store = { load: () => new Promise<undefined>(() => {}), save: async () => {}, delete: async () => {} };
    const rt = createRuntime({ clock, store, inspect: 'watched', kinds: { h: { machine: helperMachine({ reasons: [] }) } } });
    const sub = rt.events$.subscribe(() => {});
    rt.tell('h/1', { type: 'keep' });
    await flushMicrotasks();
    expect(rt.view('h/1')?.status).toBe('loading');
    expect(() => sub.unsubscribe()).not.toThrow();
    await rt.shutdown({ drain: false });
  });
});
