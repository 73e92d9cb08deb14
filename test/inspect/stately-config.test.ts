/**
 * The definition the Stately bridge registers each actor with: the machine graph written
 * back as an XState-shaped config. Every field a statechart can carry is written exactly
 * when the graph has it (a guard, actions, `reenter`, delays under `after`, eventless
 * transitions under `always`, tags, description, entry and exit, the initial child by key,
 * a type other than atomic or compound), and no empty field is written.
 */
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { machineGraph } from '../../src/inspect/machineGraph.js';
import { statelyConfig } from '../../src/inspect/statelyConfig.js';
import { compileKind } from '../../src/kinds.js';

const door = setup({
  types: {} as { context: { n: number }; events: { type: 'go' } | { type: 'poke' } },
  guards: { ready: () => true },
  actions: { count: assign({ n: 1 }), log: () => undefined, hello: () => undefined, bye: () => undefined },
  delays: { soon: 50 },
}).createMachine({
  id: 'door',
  context: { n: 0 },
  // Not the first child: the initial key is looked up by id.
  initial: 'closed',
  states: {
    opening: {
      description: 'motor runs',
      tags: ['busy', 'loud'],
      entry: ['hello'],
      exit: ['bye'],
      after: { soon: 'open', 1000: { target: 'closed', actions: 'log' } },
    },
    closed: { on: { go: [{ guard: 'ready', target: 'opening', actions: ['count', 'log'] }, { target: 'closed', reenter: true }], poke: {} } },
    open: { always: { target: 'done' } },
    done: { type: 'final' },
    par: { type: 'parallel', states: { x: { initial: 'x2', states: { x1: {}, x2: { type: 'final' } } }, y: {}, h: { type: 'history' } } },
  },
});

describe('Stately definition (statelyConfig)', () => {
  it('writes every field the graph has, in XState’s shape, and leaves out every empty one', () => {
    const config = statelyConfig(machineGraph(compileKind('door', { machine: door })));
    // toStrictEqual: a key present with `undefined` (an empty `initial`, say) fails too.
    expect(config).toStrictEqual({
      id: 'door',
      initial: 'closed',
      states: {
        opening: {
          description: 'motor runs',
          tags: ['busy', 'loud'],
          // XState schedules and cancels the delayed events with its own built-in actions.
          entry: ['hello', 'xstate.raise', 'xstate.raise'],
          exit: ['bye', 'xstate.cancel', 'xstate.cancel'],
          after: { 1000: [{ target: ['#door.closed'], actions: ['log'] }], soon: [{ target: ['#door.open'] }] },
        },
        closed: {
          on: {
            go: [{ target: ['#door.opening'], guard: 'ready', actions: ['count', 'log'] }, { target: ['#door.closed'], reenter: true }],
            // A targetless transition with no guard and no action: nothing but itself.
            poke: [{}],
          },
        },
        open: { always: [{ target: ['#door.done'] }] },
        done: { type: 'final' },
        par: {
          type: 'parallel',
          states: { x: { initial: 'x2', states: { x1: {}, x2: { type: 'final' } } }, y: {}, h: { type: 'history' } },
        },
      },
    });
  });
});
