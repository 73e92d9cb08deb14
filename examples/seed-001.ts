/**
 * Seed 001, fixed: five concurrent chats hit one agent. Without a runtime they raced on the
 * agent's history; here the agent is an Interlock actor, so they run one at a time, in
 * order, each caller gets its own reply, and a failing turn does not stop the queue.
 *
 *   npm start
 */
import { assign, setup } from 'xstate';
import { createRuntime, fail, reply, runTask } from '../src/index.js';

const agent = setup({
  types: {} as {
    context: { history: string[] };
    events: { type: 'chat'; message: string } | { type: '@answered'; text: string } | { type: '@failed'; error: unknown };
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
            assign({ history: ({ context, event }) => [...context.history, `user: ${event.message}`] }),
            runTask(
              async ({ event }) => {
                await new Promise((r) => setTimeout(r, 150)); // the model call
                if (event.message === 'crash me') throw new Error('the model server returned 500');
                return `echo "${event.message}"`;
              },
              { done: (text) => ({ type: '@answered', text: text as string }), error: (error) => ({ type: '@failed', error }) },
            ),
          ],
        },
      },
    },
    processing: {
      on: {
        '@answered': {
          target: 'idle',
          actions: [assign({ history: ({ context, event }) => [...context.history, `agent: ${event.text}`] }), reply(({ event }) => event.text)],
        },
        '@failed': { target: 'idle', actions: fail(({ event }) => event.error) },
      },
    },
  },
});

const runtime = createRuntime({ kinds: { agent: { machine: agent, mailbox: { capacity: 100 } } } });
const ref = runtime.ref('agent/strands-1');
const t0 = Date.now();
const stamp = () => `+${String(Date.now() - t0).padStart(4)} ms`;

runtime.events$.subscribe((r) => {
  if (r.type === 'mailbox.delivered') console.log(`${stamp()}  deliver  ${(r.data as { id: string }).id}`);
  if (r.type === 'turn.replied') console.log(`${stamp()}  answered ${(r.data as { id: string }).id}`);
});

const messages = ['hello', 'what is 2+2?', 'crash me', 'still there?', 'bye'];
console.log(`sending ${messages.length} chats at once to ${ref.address}`);
const answers = messages.map((message) => ref.ask({ type: 'chat', message }));
setTimeout(() => {
  const s = runtime.stats({ address: ref.address }).addresses[0]!;
  console.log(`${stamp()}  queue depth ${s.depth}, in flight ${s.inFlight}`);
}, 10);

const results = await Promise.allSettled(answers);
results.forEach((r, i) =>
  console.log(`  ${messages[i]!.padEnd(14)} -> ${r.status === 'fulfilled' ? r.value : `error ${(r.reason as { code: string }).code}`}`),
);
console.log('history (never interleaved):');
for (const line of ref.snapshot()!.context.history) console.log(`  ${line}`);
await runtime.shutdown();
