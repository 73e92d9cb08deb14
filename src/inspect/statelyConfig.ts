/**
 * A machine graph written back as an XState-shaped config, for the Stately inspector to
 * draw (it builds its diagram from the `definition` an actor registers with). Structure
 * only, as in the graph: targets by id (`#session.streaming`), guard and action names,
 * delays by name; no context, no implementations.
 */
import type { GraphState, MachineGraph } from './machineGraph.js';

type Config = Record<string, unknown>;

export function statelyConfig(graph: MachineGraph): Config {
  return { id: graph.machine, ...stateConfig(graph.root) };
}

function stateConfig(s: GraphState): Config {
  const on: Record<string, Config[]> = {};
  const after: Record<string, Config[]> = {};
  const always: Config[] = [];
  for (const t of s.transitions) {
    const c: Config = {
      ...(t.targets.length > 0 ? { target: t.targets.map((id) => `#${id}`) } : {}),
      ...(t.guard === undefined ? {} : { guard: t.guard }),
      ...(t.actions.length > 0 ? { actions: [...t.actions] } : {}),
      ...(t.reenter ? { reenter: true } : {}),
    };
    if (t.trigger === 'always') always.push(c);
    else if (t.trigger === 'after') (after[String(t.delay)] ??= []).push(c);
    else (on[t.event] ??= []).push(c);
  }
  const initial = s.states.find((child) => child.id === s.initial)?.key;
  const states = Object.fromEntries(s.states.map((child) => [child.key, stateConfig(child)]));
  return {
    ...(s.type === 'atomic' || s.type === 'compound' ? {} : { type: s.type }),
    ...(initial === undefined ? {} : { initial }),
    ...(s.description === undefined ? {} : { description: s.description }),
    ...(s.tags.length > 0 ? { tags: [...s.tags] } : {}),
    ...(s.entry.length > 0 ? { entry: [...s.entry] } : {}),
    ...(s.exit.length > 0 ? { exit: [...s.exit] } : {}),
    ...(Object.keys(on).length > 0 ? { on } : {}),
    ...(Object.keys(after).length > 0 ? { after } : {}),
    ...(always.length > 0 ? { always } : {}),
    ...(s.states.length > 0 ? { states } : {}),
  };
}
