// A consumer of the packed package: its own machine as a kind, a bundled machine from
// 'interlock/machines', ref/tell/ask/stream, coded errors, and 'interlock/client' (client.ts). Prints 'consumer ok' or exits 1.
import { assign, emit, setup } from 'xstate';
import { lastValueFrom, toArray } from 'rxjs';
import { createRuntime, fail, isInterlockError, reply, runTask, type BusRecord } from 'interlock';
import { workerMachine } from 'interlock/machines';
import { checkClient } from './client.js';

const counter = setup({
  types: {} as {
    context: { total: number };
    events:
      | { type: 'add'; by: number }
      | { type: 'double' }
      | { type: 'spell'; word: string }
      | { type: 'boom' }
      | { type: '@doubled'; total: number }
      | { type: '@failed'; error: unknown };
    emitted: { type: 'letter'; ch: string };
  },
}).createMachine({
  id: 'counter',
  context: { total: 0 },
  initial: 'idle',
  states: {
    idle: {
      on: {
        add: { actions: [assign({ total: ({ context, event }) => context.total + event.by }), reply(({ context }) => context.total)] },
        double: {
          target: 'doubling',
          actions: runTask(async ({ context }) => context.total * 2, {
            done: (total) => ({ type: '@doubled', total: total as number }),
            error: (error) => ({ type: '@failed', error }),
          }),
        },
        spell: { actions: [emit(({ event }) => ({ type: 'letter', ch: event.word[0] ?? '' })), reply('spelled')] },
        boom: { actions: fail(() => new Error('boom')) },
      },
    },
    doubling: {
      on: {
        '@doubled': { target: 'idle', actions: [assign({ total: ({ event }) => event.total }), reply(({ event }) => event.total)] },
        '@failed': { target: 'idle', actions: fail(({ event }) => event.error) },
      },
    },
  },
});

const runtime = createRuntime({
  kinds: {
    counter: { machine: counter },
    worker: { machine: workerMachine({ process: async (x: number) => x * 2 }) },
  },
});
const seen: string[] = [];
runtime.events$.subscribe((r: BusRecord) => seen.push(r.type));

const problems: string[] = [];
const check = (what: string, ok: boolean) => void (ok || problems.push(what));

const ref = runtime.ref('counter/c1');
ref.tell({ type: 'add', by: 1 });
check('ask add', (await ref.ask({ type: 'add', by: 2 })) === 3);
check('ask double (runTask)', (await ref.ask({ type: 'double' })) === 6);
const letters = await lastValueFrom(ref.stream({ type: 'spell', word: 'hi' }).pipe(toArray()));
check('stream spell', JSON.stringify(letters) === JSON.stringify([{ type: 'letter', ch: 'h' }]));
const err = await ref.ask({ type: 'boom' }).then(() => undefined, (e: unknown) => e);
check('fail -> INTERLOCK_TURN_FAILED', isInterlockError(err, 'INTERLOCK_TURN_FAILED'));
// A helper of 'interlock/machines' reaches the runtime of 'interlock': one shared runtime module.
check('bundled worker', (await runtime.ask('worker/w1', { type: 'item', item: 21 })) === 42);
check('bus records', seen.includes('mailbox.delivered'));
await runtime.shutdown();
problems.push(...(await checkClient()));

if (problems.length > 0) {
  console.error(`consumer check failed: ${problems.join(', ')}`);
  process.exit(1);
}
console.log('consumer ok');
