/**
 * The machine graph the inspector page lays out: for each bundled machine, every state
 * XState knows is present with its nesting, initial and final states, and every transition
 * with its event, source and targets; internal ones are marked; nothing but structure.
 */
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { agentKind } from '../../machines/agent.js';
import { sessionKind } from '../../machines/session.js';
import { workerKind } from '../../machines/worker.js';
import { createRuntime, simulated } from '../../src/index.js';
import type { GraphState, GraphTransition, MachineGraph } from '../../src/inspect/machineGraph.js';

const SECRET = 'sk-live-NEVER-SHOW-THIS';

function runtime() {
  return createRuntime({
    kinds: {
      session: sessionKind({ provider: simulated(), system: 'be nice' }),
      agent: agentKind({ subscriptions: [{ id: 'a', apiKey: SECRET }, { id: 'b', apiKey: SECRET }], handle: async () => 'ok', restart: async () => undefined }),
      worker: workerKind({ process: async () => 'done' }),
    },
  });
}

function states(g: GraphState): GraphState[] {
  return [g, ...g.states.flatMap(states)];
}

function edges(g: MachineGraph): GraphTransition[] {
  return states(g.root).flatMap((s) => s.transitions);
}

/** Every state node id XState itself knows, from the machine's id map. */
function xstateIds(machine: AnyStateMachine): string[] {
  return [...(machine as unknown as { idMap: Map<string, unknown> }).idMap.keys()].sort();
}

const edge = (g: MachineGraph, source: string, event: string) => edges(g).filter((t) => t.source === source && t.event === event);

describe('machine graph', () => {
  it('has every session state, its initial and final states, and its transitions by event', async () => {
    const rt = runtime();
    const g = rt.machine('session');
    expect(g.kind).toBe('session');
    expect(g.machine).toBe('session');
    expect(states(g.root).map((s) => s.id).sort()).toEqual(xstateIds(sessionKind({ provider: simulated() }).machine));
    expect(g.root.states.map((s) => s.key)).toEqual(['idle', 'streaming', 'cancelling', 'settled', 'closed']);
    expect(g.root).toMatchObject({ id: 'session', type: 'compound', initial: 'session.idle' });
    expect(g.root.states.find((s) => s.key === 'closed')!.type).toBe('final');
    expect(g.publicEvents).toEqual(['cancel', 'close', 'disconnect', 'prompt']);

    expect(edge(g, 'session.idle', 'prompt')).toEqual([
      expect.objectContaining({ label: 'prompt', trigger: 'event', internal: false, public: true, targets: ['session.streaming'] }),
    ]);
    // The supersession path the page flashes: streaming -prompt-> cancelling -@stream.closed-> settled -always-> streaming.
    expect(edge(g, 'session.streaming', 'prompt').map((t) => [t.guard, t.targets])).toEqual([
      ['interrupt', ['session.cancelling']],
      ['rollback', ['session.cancelling']],
      ['reject', []],
    ]);
    expect(edge(g, 'session.cancelling', 'prompt')[0]!.guard).toBe('and(interruptOpen, hasPending)');
    expect(edge(g, 'session.cancelling', '@stream.closed').map((t) => t.targets)).toEqual([['session.settled'], ['session.settled'], []]);
    expect(edge(g, 'session.cancelling', '@stream.closed')[0]).toMatchObject({ internal: true, public: false, trigger: 'event' });
    const always = edges(g).filter((t) => t.source === 'session.settled');
    expect(always.map((t) => [t.trigger, t.label, t.internal, t.targets[0]])).toEqual([
      ['always', 'always', true, 'session.streaming'],
      ['always', 'always', true, 'session.closed'],
      ['always', 'always', true, 'session.idle'],
    ]);
    const timer = edges(g).find((t) => t.trigger === 'after')!;
    expect(timer).toMatchObject({ source: 'session.cancelling', label: 'after cleanup', delay: 'cleanup', internal: true, targets: ['session.settled'] });
    expect(timer.actions).toEqual(['fenceActive', 'announceFence', 'markFenced']);
    expect(g.root.states.find((s) => s.key === 'settled')!.entry).toEqual(['endActive', 'answerCut', 'clearActive']);
    await rt.shutdown();
  });

  it('nests the agent’s restarting states and marks its task outcomes internal', async () => {
    const rt = runtime();
    const g = rt.machine('agent');
    expect(states(g.root).map((s) => s.id).sort()).toEqual(
      xstateIds(agentKind({ subscriptions: [{ id: 'a' }], handle: async () => 1, restart: async () => undefined }).machine),
    );
    const restarting = g.root.states.find((s) => s.key === 'restarting')!;
    expect(restarting).toMatchObject({ type: 'compound', initial: 'agent.restarting.attempt' });
    expect(restarting.states.map((s) => [s.key, s.path])).toEqual([
      ['attempt', ['restarting', 'attempt']],
      ['retry', ['restarting', 'retry']],
      ['backoff', ['restarting', 'backoff']],
    ]);
    // A target outside the parent, by id (#agent.ready).
    expect(edge(g, 'agent.restarting.attempt', '@restart.done')[0]).toMatchObject({ targets: ['agent.ready'], internal: true, public: false });
    expect(edge(g, 'agent.idle', 'request')[0]).toMatchObject({ targets: ['agent.processing'], public: true, internal: false });
    expect(edges(g).filter((t) => t.event.startsWith('@')).every((t) => t.internal && !t.public)).toBe(true);
    expect(edges(g).filter((t) => t.public).every((t) => !t.internal && g.publicEvents.includes(t.event))).toBe(true);
    await rt.shutdown();
  });

  it('shows the worker’s stall deadline, and carries no context, params or secrets (JSON round trip)', async () => {
    const rt = runtime();
    const w = rt.machine('worker');
    expect(w.root.states.map((s) => [s.key, s.stallAfterMs])).toEqual([
      ['idle', undefined],
      ['working', 30_000],
    ]);
    expect(edge(w, 'worker.working', '@item.done')[0]!.targets).toEqual(['worker.idle']);
    for (const kind of ['session', 'agent', 'worker']) {
      const g = rt.machine(kind);
      const json = JSON.stringify(g);
      expect(JSON.parse(json)).toEqual(g);
      expect(json).not.toContain(SECRET);
      expect(json).not.toContain('be nice');
      expect(json).not.toContain('"params"');
      expect(json).not.toContain('"context"');
    }
    expect(() => rt.machine('nope')).toThrow(expect.objectContaining({ code: 'INTERLOCK_UNKNOWN_KIND' }));
    await rt.shutdown();
  });
});
