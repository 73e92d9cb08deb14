/**
 * The machine definitions every benchmark shares. Interlock and its raw-XState peers run
 * the very same definition object wherever the workload allows it.
 */
import { assign, fromPromise, setup } from 'xstate';
import { api, srcApi, target, type Api } from './interlock.js';

// ---- 1, 4: the toggle ---------------------------------------------------------------

export type ToggleEvent = { type: 'toggle' };

/** A 2-state toggle with an assign counter: the unit of work of the tell and heap benchmarks. */
export const toggleMachine = setup({
  types: {} as { context: { count: number }; events: ToggleEvent },
}).createMachine({
  id: 'toggle',
  context: { count: 0 },
  initial: 'a',
  states: {
    a: { on: { toggle: { target: 'b', actions: assign({ count: ({ context }) => context.count + 1 }) } } },
    b: { on: { toggle: { target: 'a', actions: assign({ count: ({ context }) => context.count + 1 }) } } },
  },
});

// ---- 2: ask round trips -------------------------------------------------------------

/**
 * The work unit of every ask workload. Reassignable so the serialization check can swap
 * in a work unit that yields a macrotask; every implementation calls it through `work.fn`.
 */
export const work = {
  fn: async (v: number): Promise<number> => v,
};
export const fastWork = work.fn;

export type ChatEvent = { type: 'chat'; v: number };

/** Interlock: idle --chat--> processing (runTask) --done--> idle, replying the output. */
export function askMachine({ runTask, reply, fail }: Api) {
  return setup({
    types: {} as { events: ChatEvent | { type: '@done'; o: number } | { type: '@err'; e: unknown } },
  }).createMachine({
    id: 'ask',
    initial: 'idle',
    states: {
      idle: { on: { chat: 'processing' } },
      processing: {
        entry: runTask(async ({ event }) => work.fn((event as ChatEvent).v), {
          done: (o) => ({ type: '@done', o: o as number }),
          error: (e) => ({ type: '@err', e }),
        }),
        on: {
          '@done': { target: 'idle', actions: reply(({ event }: { event: { o: number } }) => event.o) },
          '@err': { target: 'idle', actions: fail(({ event }: { event: { e: unknown } }) => event.e) },
        },
      },
    },
  });
}

/** Built with the helpers of the Interlock under test. */
export const interlockAskMachine = askMachine(api);
/** The same, built with src/ through tsx (for the bundle-vs-tsx rows; equals the above when BENCH_TARGET=src). */
export const srcAskMachine = target === 'src' ? interlockAskMachine : askMachine(srcApi);

/** What raw-XState callers put in the request so the machine can answer it. */
export interface Correlation {
  resolve: (v: number) => void;
  reject: (e: unknown) => void;
}
type RawChat = { type: 'chat'; v: number } & Correlation;
type RawContext = { pending: Correlation | undefined };

/**
 * Raw XState, one `fromPromise` child per request: the caller's resolve/reject travel in
 * the event, are kept in context while processing, and onDone/onError call them.
 */
export const xstateInvokeMachine = setup({
  types: {} as { context: RawContext; events: RawChat },
  actors: { work: fromPromise<number, { v: number }>(({ input }) => work.fn(input.v)) },
}).createMachine({
  id: 'xstate-invoke',
  context: { pending: undefined },
  initial: 'idle',
  states: {
    idle: {
      on: { chat: { target: 'processing', actions: assign({ pending: ({ event }) => ({ resolve: event.resolve, reject: event.reject }) }) } },
    },
    processing: {
      invoke: {
        src: 'work',
        input: ({ event }) => ({ v: (event as RawChat).v }),
        onDone: { target: 'idle', actions: [({ context, event }) => context.pending!.resolve(event.output), assign({ pending: undefined })] },
        onError: { target: 'idle', actions: [({ context, event }) => context.pending!.reject(event.error), assign({ pending: undefined })] },
      },
    },
  },
});

type ExtEvent = RawChat | { type: 'done'; o: number } | { type: 'err'; e: unknown };

/** Raw XState, work started in a transition action, its outcome sent back as DONE/ERR (2 transitions). */
export const xstateExtMachine = setup({
  types: {} as { context: RawContext; events: ExtEvent },
}).createMachine({
  id: 'xstate-ext',
  context: { pending: undefined },
  initial: 'idle',
  states: {
    idle: {
      on: {
        chat: {
          target: 'processing',
          actions: [
            assign({ pending: ({ event }) => ({ resolve: event.resolve, reject: event.reject }) }),
            ({ event, self }) => {
              work.fn(event.v).then(
                (o) => self.send({ type: 'done', o }),
                (e: unknown) => self.send({ type: 'err', e }),
              );
            },
          ],
        },
      },
    },
    processing: {
      on: {
        done: { target: 'idle', actions: [({ context, event }) => context.pending!.resolve(event.o), assign({ pending: undefined })] },
        err: { target: 'idle', actions: [({ context, event }) => context.pending!.reject(event.e), assign({ pending: undefined })] },
      },
    },
  },
});

// ---- 3: backlog ----------------------------------------------------------------------

/**
 * Stamps for the backlog benchmark, written by the machine itself so the measured span
 * is exactly "first delivery of the batch .. last delivery", with no polling in it.
 */
export const stamps = { target: -1, doneAt: 0n, releasedAt: 0n };

export type BacklogEvent = { type: 'req' } | { type: 'release' } | { type: 'hold' };

/**
 * `busy` does not accept `req`, so reqs told while busy are postponed; `release` opens the
 * gate and the postponed backlog is delivered; `hold` closes it again. In `open`, a `req`
 * counts and stamps the time when the count reaches `stamps.target`.
 */
export const backlogMachine = setup({
  types: {} as { context: { count: number }; events: BacklogEvent },
}).createMachine({
  id: 'backlog',
  context: { count: 0 },
  initial: 'open',
  states: {
    busy: {
      on: {
        release: {
          target: 'open',
          actions: () => {
            stamps.releasedAt = process.hrtime.bigint();
          },
        },
      },
    },
    open: {
      on: {
        req: {
          actions: [
            assign({ count: ({ context }) => context.count + 1 }),
            ({ context }) => {
              if (context.count === stamps.target) stamps.doneAt = process.hrtime.bigint();
            },
          ],
        },
        hold: 'busy',
      },
    },
  },
});
