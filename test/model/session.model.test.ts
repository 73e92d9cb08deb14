/**
 * Model-based tests of the session machine (seed 002) with xstate/graph.
 *
 * For each busy × disconnect policy, the graph of the machine hosted by a pure mirror of
 * the runtime (harness.ts) is traversed over every abstract event: prompts, cancels
 * without an id / naming the active / the pending / nobody, disconnects the same four
 * ways (`disconnect`, `disconnect.active`, `.pending`, `.other`), close, the
 * stream closing with each feasible outcome, a stale `stream.closed` with each outcome,
 * a fenced stream settling late, and the cleanup `after` timer. Then:
 * - every invariant is checked on every edge (state, event, next state);
 * - the edges' union must cover every state and every transition of the machine;
 * - one path per edge (shortest path to its source, then the edge) is replayed through a
 *   real runtime, which must agree with the model at every step.
 */
import { describe, expect, it } from 'vitest';
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from 'xstate/graph';
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
  type ModelPath,
  type ModelSnapshot,
} from './harness.js';
import {
  modelSessionMachine,
  replaySession,
  SESSION_CONFIGS,
  SESSION_INVARIANTS,
  sessionSpec,
  sessionStepInvariants,
  type SessionConfig,
} from './session.js';

type Adjacency = Record<string, { state: ModelSnapshot; transitions: Record<string, { event: AbstractEvent; state: ModelSnapshot }> }>;

interface Built {
  cfg: SessionConfig;
  states: number;
  edges: number;
  paths: ModelPath[];
}

const name = (cfg: SessionConfig) => `onBusy=${cfg.onBusy}, onDisconnect=${cfg.onDisconnect}`;
const coverage = newCoverage(modelSessionMachine(SESSION_CONFIGS[0]!));
const violations = new Map<string, string[]>();
const built: Built[] = [];

for (const cfg of SESSION_CONFIGS) {
  const machine = modelSessionMachine(cfg);
  const logic = modelLogic(machine, sessionSpec);
  const options = traversal(sessionSpec) as never;
  const adjacency = getAdjacencyMap(logic as never, options) as unknown as Adjacency;
  const shortest = getShortestPaths(logic as never, options) as never;
  // The path that reaches each abstract state first, for the message of a violation.
  const prefixes = new Map<string, AbstractEvent[]>();
  for (const p of shortest as { state: ModelSnapshot; steps: { event: AbstractEvent }[] }[]) {
    prefixes.set(stateKey(sessionSpec)(p.state), p.steps.map((s) => s.event).filter((e) => e.type !== 'xstate.init'));
  }
  let edges = 0;
  for (const [key, { state, transitions }] of Object.entries(adjacency)) {
    coverStep(coverage, state);
    for (const { event, state: next } of Object.values(transitions)) {
      edges++;
      coverStep(coverage, next);
      for (const [inv, detail] of sessionStepInvariants(state, event, next)) {
        const list = violations.get(inv) ?? [];
        if (list.length < 3) list.push(`[${name(cfg)}] ${describePath([...(prefixes.get(key) ?? []), event])}: ${detail}`);
        violations.set(inv, list);
      }
    }
  }
  built.push({ cfg, states: Object.keys(adjacency).length, edges, paths: edgePaths(adjacency, shortest, stateKey(sessionSpec), logic) });
}

describe('session machine: model (xstate/graph)', () => {
  it('covers every state and every transition (each guarded branch, after, always)', () => {
    for (const b of built) console.log(`session [${name(b.cfg)}]: ${b.states} abstract states, ${b.edges} edges, ${b.paths.length} paths`);
    console.log(coverageLine('session', coverage));
    expect(uncovered(coverage)).toEqual({ states: [], transitions: [] });
  });

  it('reaches the same states with getSimplePaths on the default policy (a cross-check of the traversal)', () => {
    const cfg = SESSION_CONFIGS[0]!;
    const logic = modelLogic(modelSessionMachine(cfg), sessionSpec);
    // Simple paths explode with every event; three event kinds keep it small.
    const spec = { ...sessionSpec, events: (s: ModelSnapshot) => sessionSpec.events(s).filter((e) => ['prompt', 'cancel', 'cleanup.timeout'].includes(e.type)) };
    const simple = getSimplePaths(logic as never, traversal(spec) as never) as { state: ModelSnapshot }[];
    const values = new Set(simple.map((p) => String(p.state.machine.value)));
    console.log(`session simple paths (prompt, cancel, timeout): ${simple.length} paths, values ${[...values].sort().join(', ')}`);
    expect([...values].sort()).toEqual(['cancelling', 'idle', 'streaming']);
  });

  describe('invariants in every state reached', () => {
    for (const inv of SESSION_INVARIANTS) {
      it(inv, () => {
        expect(violations.get(inv) ?? []).toEqual([]);
      });
    }
  });

  describe('every model path replayed through a real runtime', () => {
    for (const b of built) {
      it(`agrees with the model on every step [${name(b.cfg)}]`, async () => {
        const failures: string[] = [];
        const t0 = Date.now();
        for (const path of b.paths) {
          const problems = await replaySession(b.cfg, path.steps);
          if (problems.length > 0) failures.push(`${describePath(path)}\n    ${problems.slice(0, 3).join('\n    ')}`);
        }
        console.log(`session [${name(b.cfg)}]: replayed ${b.paths.length} paths through the runtime in ${Date.now() - t0} ms, ${failures.length} disagree`);
        expect(failures.slice(0, 5)).toEqual([]);
      });
    }
  });
});
