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
import { createRuntime, fail, flushMicrotasks, reply, runTask } from '../../src/index.js';

interface Turn {
  type: 'chat';
  message: string;
}

function agentMachine(probe: { active: number; maxActive: number; seen: string[] }) {
  return setup({
    types: {} as {
      context: { history: string[] };
      events: Turn | { type: 'answered'; text: string } | { type: 'crashed'; error: unknown };
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
                async ({ context, event }) => {
                  probe.active++;
                  probe.maxActive = Math.max(probe.maxActive, probe.active);
                  probe.seen.push(event.message);
                  // The model call: several ticks of async work that reads the history.
                  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
                  probe.active--;
                  if (event.message.includes('poison')) throw new Error(`model refused '${event.message}'`);
                  return `reply to ${event.message} (history ${context.history.length})`;
                },
                { done: (text) => ({ type: 'answered', text: text as string }), error: (error) => ({ type: 'crashed', error }) },
              ),
            ],
          },
        },
      },
      processing: {
        on: {
          answered: {
            target: 'idle',
            actions: [assign({ history: ({ context, event }) => [...context.history, `assistant:${event.text}`] }), reply(({ event }) => event.text)],
          },
          crashed: { target: 'idle', actions: fail(({ event }) => event.error) },
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
});
