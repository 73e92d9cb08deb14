/**
 * Model-based tests of the agent machine (seed 004) with xstate/graph.
 *
 * The graph of the agent hosted by a pure mirror of the runtime (harness.ts) is traversed
 * over every abstract event: requests, cancels without an id / naming the inflight
 * request / nobody, subscription failures of the current and of a stale epoch, reset,
 * the work finishing (done, a subscription failure, another error), a restart succeeding
 * or failing, fenced work or restarts settling late, and the restart, backoff and cancel
 * timers. Requests, failures, resets and cancels that a state does not take are postponed
 * as the runtime does. Three subscriptions, two restart attempts. Then:
 * - every invariant is checked on every edge;
 * - the edges must cover every state and every transition of the machine;
 * - one path per edge is replayed through a real runtime, which must agree with the model.
 */
import { describe, expect, it } from 'vitest';
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from 'xstate/graph';
import { AGENT_INVARIANTS, agentSpec, agentStepInvariants, modelAgentMachine, replayAgent } from './agent.js';
import {
  coverStep,
  coverageLine,
  describePath,
  edgePaths,
  modelLogic,
  newCoverage,
  stateKey,
  traversal,
  uncovered,
  type AbstractEvent,
  type ModelSnapshot,
} from './harness.js';

type Adjacency = Record<string, { state: ModelSnapshot; transitions: Record<string, { event: AbstractEvent; state: ModelSnapshot }> }>;

const machine = modelAgentMachine();
const logic = modelLogic(machine, agentSpec);
const options = traversal(agentSpec) as never;
const t0 = Date.now();
const adjacency = getAdjacencyMap(logic as never, options) as unknown as Adjacency;
const shortest = getShortestPaths(logic as never, options) as never as { state: ModelSnapshot; steps: { event: AbstractEvent }[] }[];
const prefixes = new Map<string, AbstractEvent[]>();
for (const p of shortest) prefixes.set(stateKey(agentSpec)(p.state), p.steps.map((s) => s.event).filter((e) => e.type !== 'xstate.init'));
const coverage = newCoverage(machine);
const violations = new Map<string, string[]>();
let edges = 0;
for (const [key, { state, transitions }] of Object.entries(adjacency)) {
  coverStep(coverage, state);
  for (const { event, state: next } of Object.values(transitions)) {
    edges++;
    coverStep(coverage, next);
    for (const [inv, detail] of agentStepInvariants(state, event, next)) {
      const list = violations.get(inv) ?? [];
      if (list.length < 3) list.push(`${describePath([...(prefixes.get(key) ?? []), event])}: ${detail}`);
      violations.set(inv, list);
    }
  }
}
const paths = edgePaths(adjacency, shortest as never, stateKey(agentSpec), logic);
const buildMs = Date.now() - t0;

describe('agent machine: model (xstate/graph)', () => {
  it('covers every state and every transition (each guarded branch, after, always)', () => {
    console.log(`agent: ${Object.keys(adjacency).length} abstract states, ${edges} edges, ${paths.length} paths (built in ${buildMs} ms)`);
    console.log(coverageLine('agent', coverage));
    expect(uncovered(coverage)).toEqual({ states: [], transitions: [] });
  });

  it('reaches switching, restarting and failed with getSimplePaths over failures and restarts alone', () => {
    const spec = { ...agentSpec, events: (s: ModelSnapshot) => agentSpec.events(s).filter((e) => ['failed.current', '@restart.done', '@restart.error'].includes(e.type)) };
    const simple = getSimplePaths(modelLogic(modelAgentMachine(), spec) as never, traversal(spec) as never) as { state: ModelSnapshot }[];
    const values = new Set(simple.map((p) => JSON.stringify(p.state.machine.value)));
    console.log(`agent simple paths (failed.current, restart.done, restart.error): ${simple.length} paths, values ${[...values].sort().join(', ')}`);
    expect(values).toEqual(new Set(['"idle"', '"failed"', '{"restarting":"attempt"}', '{"restarting":"backoff"}']));
  });

  describe('invariants in every state reached', () => {
    for (const inv of AGENT_INVARIANTS) {
      it(inv, () => {
        expect(violations.get(inv) ?? []).toEqual([]);
      });
    }
  });

  // A path on which the machine starts a task under the id of a fenced task that has not
  // settled yet (work fenced at the cancel deadline then a new request; a restart attempt
  // fenced at its timeout, then a reset that starts attempt 0 of the same epoch again).
  const reuses = (p: (typeof paths)[number]) =>
    p.steps.some((s, i) => {
      const before = p.steps[i - 1]?.state;
      return (s.state.last?.started ?? []).some((id) => before?.tasks.some((t) => t.fenced && t.id === id));
    });
  const clean = paths.filter((p) => !reuses(p));
  const colliding = paths.filter(reuses);

  const replayAll = async (list: typeof paths, label: string) => {
    const failures: string[] = [];
    const t = Date.now();
    for (const path of list) {
      const problems = await replayAgent(path.steps);
      if (problems.length > 0) failures.push(`${describePath(path)}\n    ${problems.slice(0, 3).join('\n    ')}`);
    }
    console.log(`agent: replayed ${list.length} ${label} paths through the runtime in ${Date.now() - t} ms, ${failures.length} disagree`);
    return failures;
  };

  it('agrees with the model on every step of every path replayed through a real runtime', { timeout: 240_000 }, async () => {
    expect((await replayAll(clean, 'model')).slice(0, 5)).toEqual([]);
  });

  it('does not crash when the machine reuses the id of a fenced task that still hangs (replayed through a real runtime)', { timeout: 240_000 }, async () => {
    // Both kinds of reuse are on some path (a count of 0 would make this test vacuous).
    const reused = new Set(colliding.flatMap((p) => p.steps.flatMap((s) => s.state.last?.started ?? []).map((id) => (id === 'work' ? 'work' : 'restart'))));
    expect([...reused].sort()).toEqual(['restart', 'work']);
    expect((await replayAll(colliding, 'task-id-reuse')).slice(0, 3)).toEqual([]);
  });
});
