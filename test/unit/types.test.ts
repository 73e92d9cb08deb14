/**
 * Compile-time checks (run by `npx tsc --noEmit`, which CI runs): what `runtime.ref()`
 * infers from a kind's machine, and what it refuses. A `@ts-expect-error` line fails the
 * type-check if the error it expects disappears.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { emit, setup, type SnapshotFrom } from 'xstate';
import { createRuntime, runTask, type BusRecord } from '../../src/index.js';

type Events = { type: 'chat'; text: string } | { type: 'cancel' } | { type: '@chat.done'; output: string } | { type: '@chat.error'; error: unknown };
type Emitted = { type: 'token'; text: string } | { type: 'finished' };

const chat = setup({
  types: {} as { context: { turns: number }; events: Events; emitted: Emitted },
  actions: {
    work: runTask<{ turns: number }, Events, string>(async () => 'x', {
      done: (output) => ({ type: '@chat.done', output }),
      error: (error) => ({ type: '@chat.error', error }),
    }),
    say: emit({ type: 'finished' }),
  },
}).createMachine({ context: { turns: 0 }, on: { chat: { actions: ['work', 'say'] }, cancel: {}, '@chat.done': {}, '@chat.error': {} } });

describe('types inferred through runtime.ref()', () => {
  it('takes the public events, streams the emitted union, and returns the machine snapshot type', () => {
    const rt = createRuntime({ kinds: { chat: { machine: chat } } });
    const ref = rt.ref('chat/1');
    // Type-level only: never called (the forged tell would throw INTERLOCK_INVALID_EVENT).
    const _compileOnly = () => {
    expectTypeOf(ref.tell).parameter(0).toEqualTypeOf<{ type: 'chat'; text: string } | { type: 'cancel' }>();
    expectTypeOf(ref.snapshot()).toEqualTypeOf<SnapshotFrom<typeof chat> | undefined>();
    ref.stream({ type: 'chat', text: 'hi' }).subscribe((e) => expectTypeOf(e).toEqualTypeOf<Emitted>());
    expectTypeOf(rt.ref('chat', 'k').snapshot()).toEqualTypeOf<SnapshotFrom<typeof chat> | undefined>();
    expectTypeOf(ref.ask<string>({ type: 'cancel' })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(ref.events()).toMatchTypeOf<{ subscribe(f: (r: BusRecord) => void): unknown }>();
    // @ts-expect-error an internal (task outcome) event cannot be sent by a caller
    ref.tell({ type: '@chat.done', output: 'FORGED' });
    // a type the machine does not know
    // @ts-expect-error
    ref.tell({ type: 'chatt', text: 'typo' });
    };
    expectTypeOf(_compileOnly).toBeFunction();
  });

  it("types runTask's outcomes against the machine's internal events", () => {
    runTask<{ turns: number }, Events, string>(async () => 'x', {
      done: (output) => ({ type: '@chat.done', output }),
      // @ts-expect-error a typo in an outcome type fails to compile
      error: (error) => ({ type: '@chat.eror', error }),
    });
    runTask<{ turns: number }, Events, string>(async () => 'x', {
      // @ts-expect-error an outcome outside the '@' namespace fails to compile
      done: (output) => ({ type: 'chat', text: output }),
      error: (error) => ({ type: '@chat.error', error }),
    });
  });
});
