/**
 * Seed 001 — concurrent /chat requests on one containerised agent corrupted its
 * conversation history: nothing serialized the requests, and the `_is_processing` flag
 * only reported, it did not block. The fix they shipped was a hand-written queue + worker.
 *
 * Interlock's guarantee: an agent is an actor; its mailbox delivers one request at a
 * time, in order, and a request whose turn awaits async work holds the actor until it
 * answers. Every caller gets its own reply, a failing turn does not stop the queue, and
 * the depth is visible while requests wait.
 */
import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, fail, flushMicrotasks, reply, runTask, SimulatedClock, type Clock } from '../../src/index.js';

interface Turn {
  type: 'chat';
  message: string;
}

/** The model call: several ticks of async work. */
type Think = (signal: AbortSignal) => Promise<void>;

const severalTicks: Think = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

/** A model call that takes `ms` of the runtime's (simulated) clock. */
const takes =
  (clock: Clock, ms: number): Think =>
  (signal) =>
    new Promise<void>((resolve, reject) => {
      const t = clock.setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clock.clearTimeout(t);
        reject(signal.reason);
      });
    });

function agentMachine(probe: { active: number; maxActive: number; seen: string[] }, think: Think = severalTicks) {
  return setup({
    types: {} as {
      context: { history: string[] };
      events: Turn | { type: '@answered'; text: string } | { type: '@crashed'; error: unknown };
    },
  }).createMachine({
    id: 'agent',
    context: { history: [] },
    initial: 'idle',
    states: {
      idle: {
        on: {
          chat: {
            target: 'processing',
            actions: [
              assign({ history: ({ context, event }) => [...context.history, `user:${event.message}`] }),
              runTask(
                async ({ context, event, signal }) => {
                  probe.active++;
                  probe.maxActive = Math.max(probe.maxActive, probe.active);
                  probe.seen.push(event.message);
                  // The model call: async work that reads the history.
                  try {
                    await think(signal);
                  } finally {
                    probe.active--;
                  }
                  if (event.message.includes('poison')) throw new Error(`model refused '${event.message}'`);
                  return `reply to ${event.message} (history ${context.history.length})`;
                },
                { done: (text) => ({ type: '@answered', text: text as string }), error: (error) => ({ type: '@crashed', error }) },
              ),
            ],
          },
        },
      },
      processing: {
        on: {
          '@answered': {
            target: 'idle',
            actions: [assign({ history: ({ context, event }) => [...context.history, `assistant:${event.text}`] }), reply(({ event }) => event.text)],
          },
          '@crashed': { target: 'idle', actions: fail(({ event }) => event.error) },
        },
      },
    },
  });
}

describe('seed 001: concurrent chats to one agent', () => {
  it('processes 50 concurrent asks one at a time, in order, each with its own answer; a throwing turn does not stop the queue', async () => {
    const probe = { active: 0, maxActive: 0, seen: [] as string[] };
    const rt = createRuntime({ kinds: { agent: { machine: agentMachine(probe) } } });
    const agent = rt.ref('agent/strands-1');
    const messages = Array.from({ length: 50 }, (_, i) => (i === 17 ? `m${i}-poison` : `m${i}`));
    const answers = messages.map((message) => agent.ask({ type: 'chat', message }).then(
      (v) => v as string,
      (e: { code: string }) => e.code,
    ));
    await flushMicrotasks();
    const queued = rt.stats({ address: 'agent/strands-1' }).addresses[0]!;
    expect(queued.depth).toBe(49);
    expect(queued.inFlight).toBe(1);

    const results = await Promise.all(answers);
    expect(probe.maxActive).toBe(1);
    expect(probe.seen).toEqual(messages);
    results.forEach((r, i) => {
      if (i === 17) expect(r).toBe('INTERLOCK_TURN_FAILED');
      else expect(r).toMatch(new RegExp(`^reply to m${i} \\(history \\d+\\)$`));
    });
    // History is never interleaved: each user line is followed by its own answer.
    const history = agent.snapshot()!.context.history as string[];
    for (let i = 0, m = 0; m < messages.length; m++) {
      expect(history[i]).toBe(`user:${messages[m]}`);
      i++;
      if (m !== 17) {
        expect(history[i]).toBe(`assistant:reply to ${messages[m]} (history ${i})`);
        i++;
      }
    }
    expect(rt.stats().kinds[0]).toMatchObject({ delivered: 50, replied: 50, depth: 0 });
    await rt.shutdown();
  });
  it.each([5, 500])(
    'serves %i concurrent chats one at a time, in order, each with its own answer, through mid-queue errors, with the depth visible while they wait',
    async (N) => {
      const clock = new SimulatedClock();
      const MODEL_MS = 100;
      const probe = { active: 0, maxActive: 0, seen: [] as string[] };
      const rt = createRuntime({ clock, kinds: { agent: { machine: agentMachine(probe, takes(clock, MODEL_MS)) } } });
      const address = 'agent/strands-1';
      const agent = rt.ref(address);
      // The model refuses some requests mid-queue: the 3rd of 5; every 50th (from the 18th) of 500.
      const poisoned = (i: number) => (N === 5 ? i === 2 : i % 50 === 17);
      const messages = Array.from({ length: N }, (_, i) => (poisoned(i) ? `m${i}-poison` : `m${i}`));
      const settledOrder: number[] = [];
      const answers = messages.map((message, i) =>
        agent.ask({ type: 'chat', message }).then(
          (v) => {
            settledOrder.push(i);
            return v as string;
          },
          (e: { code: string }) => {
            settledOrder.push(i);
            return e.code;
          },
        ),
      );

      // While the first request runs, the other N - 1 wait in the mailbox, visibly.
      await flushMicrotasks();
      const depths: number[] = [];
      const look = () => rt.stats({ address }).addresses[0]!;
      expect(look()).toMatchObject({ depth: N - 1, inFlight: 1, state: 'processing' });
      // One model call per step of the clock: exactly one request answered per step, the queue one shorter.
      for (let k = 0; k < N; k++) {
        await clock.tick(MODEL_MS);
        const now = look();
        depths.push(now.depth);
        if (settledOrder.length !== k + 1 || now.inFlight !== (k < N - 1 ? 1 : 0)) {
          throw new Error(`after step ${k}: ${settledOrder.length} answered, ${now.inFlight} in flight`);
        }
      }
      expect(depths).toEqual(Array.from({ length: N }, (_, k) => Math.max(0, N - 2 - k)));

      const results = await Promise.all(answers);
      expect(probe.maxActive).toBe(1);
      expect(probe.seen).toEqual(messages);
      expect(settledOrder).toEqual(messages.map((_, i) => i));
      // Each caller got its own answer; a refused request failed alone and the queue went on.
      const expected = messages.map((m, i) => (poisoned(i) ? 'INTERLOCK_TURN_FAILED' : expect.stringMatching(new RegExp(`^reply to ${m} \\(history \\d+\\)$`))));
      expect(results).toEqual(expected);
      expect(results.filter((r) => r === 'INTERLOCK_TURN_FAILED')).toHaveLength(messages.filter((_, i) => poisoned(i)).length);

      // History is never interleaved: each user line is followed by its own answer.
      const history = agent.snapshot()!.context.history as string[];
      const want: string[] = [];
      for (const [i, m] of messages.entries()) {
        want.push(`user:${m}`);
        if (!poisoned(i)) want.push(`assistant:reply to ${m} (history ${want.length})`);
      }
      expect(history).toEqual(want);

      // Wait and processing time are observable: request k waited k model calls, each took one.
      const stats = rt.stats().kinds[0]!;
      expect(stats).toMatchObject({ enqueued: N, delivered: N, replied: N, rejected: 0, depth: 0, inFlight: 0 });
      expect(stats.waitMs).toMatchObject({ count: N, max: (N - 1) * MODEL_MS, sum: (MODEL_MS * N * (N - 1)) / 2 });
      expect(stats.processingMs).toMatchObject({ count: N, max: MODEL_MS, sum: N * MODEL_MS });
      expect(look()).toMatchObject({ depth: 0, inFlight: 0, state: 'idle', processingMs: { mean: MODEL_MS } });
      await rt.shutdown();
    },
  );
});
