/**
 * The statechart's graph and layout (inspector/src/statechart/): built from a machine
 * definition (XState's own JSON here; the server's shape in inspect-graph tests), laid out
 * by ELK with nested states inside their parents, and the states a state value lights.
 */
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { sessionMachine } from '../../machines/session.js';
import { simulated } from '../../src/providers/simulated.js';
import { layoutGraph } from '../../inspector/src/statechart/layout.js';
import { activeIds, activeLeaves, edgesTaken, eventLabel, machineGraph, type StateNodeJSON } from '../../inspector/src/statechart/machineGraph.js';

const json = (m: { toJSON(): unknown }) => JSON.parse(JSON.stringify(m.toJSON())) as StateNodeJSON;
const measure = (t: string) => t.length * 7;

const nested = createMachine({
  id: 'job',
  initial: 'idle',
  states: {
    idle: { on: { start: 'running' } },
    running: {
      initial: 'fetching',
      on: { stop: 'idle', ping: {} },
      states: {
        fetching: { on: { fetched: 'saving' }, after: { 500: 'failed' } },
        saving: { initial: 'writing', on: { saved: '#job.done' }, states: { writing: { on: { written: 'syncing' } }, syncing: {} } },
        failed: { type: 'final' },
      },
    },
    done: { type: 'final' },
  },
});

describe('machineGraph', () => {
  it('draws the session machine: its states, and one edge per event and target labelled by the event', () => {
    const g = machineGraph(json(sessionMachine({ provider: simulated({}) })));
    expect(g.root.children.map((c) => c.key)).toEqual(['idle', 'streaming', 'cancelling', 'settled', 'closed']);
    const edges = g.edges.map((e) => `${e.source} -${e.label}-> ${e.target}`);
    expect(edges).toContain('session.idle -prompt-> session.streaming');
    expect(edges).toContain('session.streaming -prompt-> session.cancelling');
    expect(edges).toContain('session.cancelling -after cleanup-> session.settled');
    expect(g.edges.find((e) => e.source === 'session.streaming' && e.event === 'prompt')!.guards).toEqual(['interrupt', 'rollback']);
    // Targetless transitions are listed in their state, not drawn as edges.
    expect(g.nodes.get('session.idle')!.internal).toEqual(['cancel', 'disconnect', '@stream.closed']);
  });

  it('nests compound states and resolves relative, child and #id targets', () => {
    const g = machineGraph(json(nested));
    expect(g.nodes.get('job.running')!.children.map((c) => c.id)).toEqual(['job.running.fetching', 'job.running.saving', 'job.running.failed']);
    expect(g.nodes.get('job.running')!.initial).toBe('job.running.fetching');
    expect(g.edges.map((e) => `${e.source}>${e.target}:${e.label}`).sort()).toEqual(
      ['job.idle>job.running:start', 'job.running.fetching>job.running.saving:fetched', 'job.running.saving.writing>job.running.saving.syncing:written', 'job.running.fetching>job.running.failed:after 500 ms', 'job.running.saving>job.done:saved', 'job.running>job.idle:stop'].sort(),
    );
    expect(g.nodes.get('job.running')!.internal).toEqual(['ping']);
  });

  it('lights the leaf of a nested state value and marks its ancestors active', () => {
    const g = machineGraph(json(nested));
    expect([...activeIds(g, { running: 'saving' })].sort()).toEqual(['job', 'job.running', 'job.running.saving']);
    expect(activeLeaves(g, { running: 'saving' })).toEqual(['job.running.saving']);
    expect(activeLeaves(g, 'idle')).toEqual(['job.idle']);
    expect(activeLeaves(g, undefined)).toEqual([]);
  });

  it('finds the edge a state change took, preferring the event that was delivered', () => {
    const g = machineGraph(json(sessionMachine({ provider: simulated({}) })));
    expect(edgesTaken(g, 'streaming', 'cancelling', 'prompt').map((e) => e.event)).toEqual(['prompt']);
    expect(edgesTaken(g, 'idle', 'streaming').map((e) => e.event)).toEqual(['prompt']);
    expect(edgesTaken(g, 'idle', 'idle', 'cancel')).toEqual([]);
  });

  it('words delays and eventless transitions', () => {
    expect(eventLabel('')).toBe('always');
    expect(eventLabel('xstate.after.cleanup.session.cancelling')).toBe('after cleanup');
    expect(eventLabel('xstate.after.1000.job.a')).toBe('after 1000 ms');
    expect(eventLabel('xstate.done.actor.fetcher')).toBe('done: fetcher');
    expect(eventLabel('prompt')).toBe('prompt');
  });
});

describe('layoutGraph (ELK)', () => {
  it('places every state, children inside their parent, every edge with a path and its label', async () => {
    const g = machineGraph(json(nested));
    const l = await layoutGraph(g, measure);
    const box = new Map(l.nodes.map((n) => [n.node.id, n]));
    expect([...box.keys()].sort()).toEqual([...g.nodes.keys()].sort());
    const inside = (c: string, p: string) => {
      const a = box.get(c)!;
      const b = box.get(p)!;
      return a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
    };
    for (const id of ['job.running.fetching', 'job.running.saving', 'job.running.failed']) expect(inside(id, 'job.running')).toBe(true);
    for (const id of ['job.running.saving.writing', 'job.running.saving.syncing']) expect(inside(id, 'job.running.saving')).toBe(true);
    expect(inside('job.idle', 'job')).toBe(true);
    // Siblings do not overlap.
    const kids = g.nodes.get('job')!.children.map((c) => box.get(c.id)!);
    for (const a of kids)
      for (const b of kids) if (a !== b) expect(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y).toBe(true);
    expect(l.edges).toHaveLength(g.edges.length);
    const near = (pt: number[], b: { x: number; y: number; width: number; height: number }) =>
      pt[0]! >= b.x - 1 && pt[0]! <= b.x + b.width + 1 && pt[1]! >= b.y - 1 && pt[1]! <= b.y + b.height + 1;
    for (const e of l.edges) {
      expect(e.d).toMatch(/^M[\d.,-]+( L[\d.,-]+)+$/);
      // Each edge starts on its source's box and ends on its target's, in absolute coordinates.
      const pts = [...e.d.matchAll(/[ML]([\d.-]+),([\d.-]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      const chart = g.edges.find((x) => x.id === e.id)!;
      expect(near(pts[0]!, box.get(chart.source)!), `${e.id} starts at its source`).toBe(true);
      expect(near(pts.at(-1)!, box.get(chart.target)!), `${e.id} ends at its target`).toBe(true);
      expect(e.label?.text).toBe(g.edges.find((x) => x.id === e.id)!.label);
    }
    // One initial marker per compound state with an initial child.
    expect(l.initials.map((i) => i.parent).sort()).toEqual(['job', 'job.running', 'job.running.saving']);
    // A box is at least as wide as its name.
    for (const n of l.nodes) expect(n.width).toBeGreaterThanOrEqual(measure(n.node.key));
  });
});

describe('machineGraph from the server (runtime.machine)', () => {
  it("draws the server's graph of the session kind, eventless transitions included", async () => {
    const { createRuntime } = await import('../../src/index.js');
    const { sessionKind } = await import('../../machines/session.js');
    const rt = createRuntime({ kinds: { session: sessionKind({ provider: simulated({}) }) } });
    const served = JSON.parse(JSON.stringify(rt.machine('session'))) as { root: StateNodeJSON };
    await rt.shutdown();
    const g = machineGraph(served.root);
    expect(g.root.children.map((c) => c.key)).toEqual(['idle', 'streaming', 'cancelling', 'settled', 'closed']);
    const edges = g.edges.map((e) => `${e.source} -${e.label}-> ${e.target}`);
    // settled is transient: its `always` transitions lead on (XState's own toJSON leaves them out).
    expect(edges).toEqual(expect.arrayContaining(['session.settled -always-> session.streaming', 'session.settled -always-> session.idle', 'session.streaming -prompt-> session.cancelling']));
    expect(edges).toContain('session.cancelling -after cleanup-> session.settled');
    const l = await layoutGraph(g, measure);
    expect(l.nodes).toHaveLength(g.nodes.size);
  });
});
