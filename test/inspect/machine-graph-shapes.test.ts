/**
 * The machine graph of a machine written to use every shape XState accepts: guards and
 * actions by name, as objects, as built-ins, inline or named functions, combinators; timers
 * by number and by name; `xstate.…` done events; tags, descriptions, stall deadlines,
 * re-entering transitions; parallel regions. The page draws what these tests pin: a missing
 * key means "nothing to draw", a name is what the page writes on the state or edge.
 *
 * Each test builds its graph itself (`graph()`), not the describe block: Stryker's per-test
 * coverage sees only code run inside a test, so a graph built while the file is collected
 * would kill no mutant in a mutation run.
 */
import { describe, expect, it } from 'vitest';
import { and, assign, not, setup } from 'xstate';
import { machineGraph, type GraphState, type GraphTransition, type MachineGraph } from '../../src/inspect/machineGraph.js';

const shapes = setup({
  guards: { ready: () => true, fits: (_: unknown, _p: { n: number }) => true },
  actions: { log: () => undefined, note: (_: unknown, _p: { n: number }) => undefined },
  delays: { cleanup: 10 },
}).createMachine({
  id: 'shapes',
  initial: 'waiting',
  states: {
    waiting: {
      description: 'Waits for go',
      tags: ['idle', 'visible'],
      meta: { stallAfterMs: 250 },
      entry: ['log', { type: 'note', params: { n: 1 } }, assign({}), () => undefined, function named() {}],
      exit: ['log'],
      on: {
        go: [
          { guard: { type: 'fits', params: { n: 1 } }, target: 'working', reenter: true },
          { guard: and(['ready', not('ready'), () => true]), target: 'working' },
          { guard: () => true, actions: 'log' },
          { target: 'working' },
        ],
      },
    },
    working: {
      type: 'parallel',
      states: {
        left: { initial: 'busy', states: { busy: { on: { finish: 'finished' } }, finished: { type: 'final' } }, onDone: '#shapes.timed' },
        right: {},
      },
    },
    timed: { after: { 500: 'waiting', cleanup: 'waiting' }, always: { guard: 'ready', target: 'waiting' } },
  },
});

function states(g: GraphState): GraphState[] {
  return [g, ...g.states.flatMap(states)];
}
const byId = (g: MachineGraph, id: string): GraphState => states(g.root).find((s) => s.id === id)!;
const edges = (g: MachineGraph, source: string): readonly GraphTransition[] => byId(g, source).transitions;

describe('machine graph of every state and transition shape', () => {
  const graph = (): MachineGraph => machineGraph({ name: 'shapes', machine: shapes, publicEvents: new Set(['go', 'abort']) });

  it('lists the public events sorted, whatever order the kind declared them in', () => {
    expect(graph().publicEvents).toEqual(['abort', 'go']);
  });

  it('draws a state with its description, tags, stall deadline and entry/exit action names, and omits what a state lacks', () => {
    expect(byId(graph(), 'shapes.waiting')).toStrictEqual({
      id: 'shapes.waiting',
      key: 'waiting',
      path: ['waiting'],
      type: 'atomic',
      description: 'Waits for go',
      tags: ['idle', 'visible'],
      stallAfterMs: 250,
      // A built-in action (assign) by its type; an anonymous function as `inline`; a named one by its name.
      entry: ['log', 'note', 'xstate.assign', 'inline', 'named'],
      exit: ['log'],
      states: [],
      transitions: expect.any(Array),
    });
    // No initial, description, stall deadline: the keys are absent, not undefined (the page tests `in`).
    const right = byId(graph(), 'shapes.working.right');
    expect(Object.keys(right)).toEqual(['id', 'key', 'path', 'type', 'tags', 'entry', 'exit', 'states', 'transitions']);
    expect(right).toMatchObject({ type: 'atomic', tags: [], entry: [], exit: [] });
  });

  it('gives a compound state its initial child and a parallel state none', () => {
    expect(graph().root.initial).toBe('shapes.waiting');
    expect(byId(graph(), 'shapes.working.left').initial).toBe('shapes.working.left.busy');
    expect('initial' in byId(graph(), 'shapes.working')).toBe(false);
    expect(byId(graph(), 'shapes.working').type).toBe('parallel');
    expect(byId(graph(), 'shapes.working.left.finished').type).toBe('final');
  });

  it('names guards by name, object type, combinator with its operands, or inline; an unguarded edge has no guard key', () => {
    const go = edges(graph(), 'shapes.waiting');
    expect(go.map((t) => t.guard)).toEqual(['fits', 'and(ready, not(ready), inline)', 'inline', undefined]);
    expect('guard' in go[3]!).toBe(false);
    expect(go.map((t) => [t.reenter, t.targets, t.actions])).toEqual([
      [true, ['shapes.working'], []],
      [false, ['shapes.working'], []],
      [false, [], ['log']],
      [false, ['shapes.working'], []],
    ]);
    expect(go.every((t) => t.trigger === 'event' && t.label === 'go' && t.public && !t.internal && !('delay' in t))).toBe(true);
  });

  it('labels a timer by milliseconds or by its delay name, and an xstate.done event as an xstate trigger', () => {
    const timed = edges(graph(), 'shapes.timed');
    expect(timed.map((t) => [t.trigger, t.label, t.delay, t.event, t.internal])).toEqual([
      ['after', 'after 500 ms', 500, 'xstate.after.500.shapes.timed', true],
      ['after', 'after cleanup', 'cleanup', 'xstate.after.cleanup.shapes.timed', true],
      ['always', 'always', undefined, '', true],
    ]);
    expect(timed[2]).toMatchObject({ guard: 'ready', targets: ['shapes.waiting'] });
    expect('delay' in timed[2]!).toBe(false);
    const done = edges(graph(), 'shapes.working.left');
    expect(done).toStrictEqual([
      {
        event: 'xstate.done.state.shapes.working.left',
        label: 'xstate.done.state.shapes.working.left',
        trigger: 'xstate',
        internal: true,
        public: false,
        source: 'shapes.working.left',
        targets: ['shapes.timed'],
        actions: [],
        reenter: false,
      },
    ]);
    expect(edges(graph(), 'shapes.working.left.busy').map((t) => [t.trigger, t.label, t.internal, t.public])).toEqual([['event', 'finish', false, false]]);
  });
});

describe('machine graph of malformed guard and action entries', () => {
  // XState accepts these when it builds the machine (it would fail only when running one):
  // the graph must still draw, with `inline` for anything that has no usable name.
  const junk = [null, undefined, {}, { type: 7 }, Object.assign(() => undefined, { type: '' })] as never[];
  const anonymousCombinator = Object.assign((() => () => true)(), { guards: ['ready', null, undefined, {}, { type: 'fits' }] });
  const machine = setup({ guards: { ready: () => true, fits: () => true } }).createMachine({
    id: 'junk',
    initial: 'a',
    states: {
      a: { entry: junk, on: { go: { guard: anonymousCombinator as never, target: 'b' } } },
      // `initial` on a parallel state is accepted and ignored by XState: every region is entered.
      b: { type: 'parallel', initial: 'x', states: { x: {}, y: {} } } as never,
    },
  });
  const graph = (): MachineGraph => machineGraph({ name: 'junk', machine, publicEvents: new Set() });

  it('names unnamed actions inline and an unnamed combinator guard(…)', () => {
    const a = graph().root.states[0]!;
    expect(a.entry).toEqual(['inline', 'inline', 'inline', 'inline', 'inline']);
    expect(a.transitions.map((t) => t.guard)).toEqual(['guard(ready, inline, inline, inline, fits)']);
  });

  it('draws no initial child for a parallel state even when its config names one', () => {
    const b = graph().root.states[1]!;
    expect(b.type).toBe('parallel');
    expect('initial' in b).toBe(false);
  });
});
