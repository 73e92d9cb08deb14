import { assign, enqueueActions, setup, type EventObject } from 'xstate';
import { fail, reply, runTask } from '../../src/index.js';
import type { BusRecord } from '../../src/index.js';
import type { Observable } from 'rxjs';

/** Collects bus records for exact-sequence assertions. */
export function record(events$: Observable<BusRecord>) {
  const records: BusRecord[] = [];
  const sub = events$.subscribe((r) => records.push(r));
  return {
    records,
    types: (address?: string) => records.filter((r) => !address || r.address === address).map((r) => r.type),
    of: (type: string) => records.filter((r) => r.type === type),
    stop: () => sub.unsubscribe(),
  };
}

export type WorkEvent =
  | { type: 'work'; id: string; gate?: Promise<void>; fail?: boolean; throwInAction?: boolean }
  | { type: '@done'; output: string }
  /** A caller ending the running turn early (public, unlike the task outcome `@done`). */
  | { type: 'finish'; output: string }
  | { type: '@error'; error: unknown }
  | { type: 'cancel'; requestId?: string }
  | { type: 'note'; text: string };

/**
 * An agent-like machine: `work` starts async work (a runTask awaiting `gate`), the actor
 * stays in `busy` (which does not accept `work`, so later ones are postponed) until the
 * work settles, then replies `done:<id>`. `log` records deliveries and turn overlap.
 */
export function workMachine(log: { events: string[]; active: number; maxActive: number }) {
  return setup({
    types: {} as { context: { count: number; current?: string }; events: WorkEvent },
    actions: {
      /** The turn ends with the output of '@done' (the task) or 'finish' (a caller). */
      end: enqueueActions(({ enqueue, event }) => {
        const output = (event as { output: string }).output;
        enqueue(() => {
          log.active--;
          log.events.push(`end:${output}`);
        });
        enqueue.assign(({ context }) => ({ count: context.count + 1 }));
        enqueue(reply(output));
      }),
    },
  }).createMachine({
    id: 'work',
    context: { count: 0 },
    initial: 'idle',
    on: { note: { actions: ({ event }) => log.events.push(`note:${event.text}`) } },
    states: {
      idle: {
        on: {
          work: {
            target: 'busy',
            actions: [
              ({ event }) => {
                log.events.push(`start:${event.id}`);
                if (event.throwInAction) throw new Error(`action threw on ${event.id}`);
                log.active++;
                log.maxActive = Math.max(log.maxActive, log.active);
              },
              assign({ current: ({ event }) => event.id }),
              runTask(
                async ({ event }) => {
                  const e = event as Extract<WorkEvent, { type: 'work' }>;
                  await e.gate;
                  if (e.fail) throw new Error(`work ${e.id} failed`);
                  return `done:${e.id}`;
                },
                { done: (output) => ({ type: '@done', output: output as string }), error: (error) => ({ type: '@error', error }) },
              ),
            ],
          },
          cancel: { actions: () => log.events.push('cancel-ignored') },
        },
      },
      busy: {
        on: {
          '@done': { target: 'idle', actions: 'end' },
          // A caller ending the running turn early: same as the task's outcome.
          finish: { target: 'idle', actions: 'end' },
          '@error': {
            target: 'idle',
            actions: [
              () => {
                log.active--;
              },
              fail(({ event }) => (event as { error: unknown }).error),
            ],
          },
          cancel: {
            target: 'idle',
            actions: [
              ({ event }) => {
                log.active--;
                log.events.push(`cancelled:${event.requestId ?? '?'}`);
              },
              reply('cancelled'),
            ],
          },
        },
      },
    },
  });
}

export function newLog() {
  return { events: [] as string[], active: 0, maxActive: 0 };
}

/** A promise the test opens by hand. */
export function gate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** A plain counter machine: every `inc` is accepted. */
export const counterMachine = setup({
  types: {} as { context: { n: number; seen: string[] }; events: { type: 'inc'; tag?: string } | { type: 'get' } },
}).createMachine({
  context: { n: 0, seen: [] },
  on: {
    inc: { actions: assign({ n: ({ context }) => context.n + 1, seen: ({ context, event }) => [...context.seen, event.tag ?? ''] }) },
    get: { actions: reply(({ context }) => context.n) },
  },
});

export type Ev = EventObject;
