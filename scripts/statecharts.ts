/**
 * Generates the statecharts of docs/machines.md from the machine definitions: for each
 * bundled machine, a Mermaid `stateDiagram-v2` and a transition table (state, event, guard,
 * target, actions), written between `<!-- BEGIN GENERATED: name -->` and
 * `<!-- END GENERATED: name -->`. The prose around the markers is left alone.
 *
 *   node --import tsx scripts/statecharts.ts          # rewrite docs/machines.md
 *   node --import tsx scripts/statecharts.ts --check  # exit 1 if it is out of date
 *
 * test/model/docs.test.ts runs the same generation in memory and fails when the file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { agentMachine } from '../machines/agent.js';
import { sessionMachine } from '../machines/session.js';
import { workerMachine } from '../machines/worker.js';

export const DOC_PATH = fileURLToPath(new URL('../docs/machines.md', import.meta.url));

interface Transition {
  eventType: string;
  guard?: unknown;
  target?: readonly Node[];
  actions: readonly unknown[];
}

interface Node {
  id: string;
  key: string;
  type: string;
  initial?: { target: readonly Node[] };
  states: Record<string, Node>;
  transitions: Map<string, Transition[]>;
  always?: Transition[];
  entry: readonly unknown[];
  exit: readonly unknown[];
  meta?: Record<string, unknown>;
  parent?: Node;
}

/** The bundled machines as documented: default options, stub effects (never called). */
export function documentedMachines(): Record<string, AnyStateMachine> {
  return {
    session: sessionMachine({ provider: { name: 'docs', stream: () => ({ async *[Symbol.asyncIterator]() {} }) } }),
    agent: agentMachine({ subscriptions: [{ id: 'primary' }, { id: 'backup' }], handle: async () => undefined, restart: async () => {} }),
    worker: workerMachine({ process: async () => undefined }),
  };
}

/** A state's path below the root, e.g. `restarting.attempt`. */
function path(n: Node): string {
  const parts: string[] = [];
  for (let c: Node | undefined = n; c?.parent; c = c.parent) parts.unshift(c.key);
  return parts.join('.');
}

const mermaidId = (n: Node) => path(n).replace(/[^A-Za-z0-9_]/g, '_');

function guardName(g: unknown): string {
  if (g === undefined) return '';
  if (typeof g === 'string') return g;
  const t = (g as { type?: unknown }).type;
  return typeof t === 'string' ? t : 'inline';
}

function actionName(a: unknown): string {
  if (typeof a === 'string') return a;
  if (typeof a === 'function') return a.name || 'inline';
  const { type, params } = a as { type?: unknown; params?: unknown };
  const name = typeof type === 'string' ? type : 'inline';
  if (params === undefined || typeof params === 'function') return name;
  const values = Object.values(params as Record<string, unknown>).map((v) => String(v));
  return `${name}(${values.join(', ')})`;
}

/** `xstate.after.cleanup.session.cancelling` -> `after cleanup`; '' (eventless) -> `always`. */
function eventLabel(t: Transition): string {
  if (t.eventType === '') return 'always';
  const m = /^xstate\.after\.([^.]+)\./.exec(t.eventType);
  return m ? `after ${m[1]}` : t.eventType;
}

/** The raise that schedules an `after` transition: shown as the transition, not as an entry action. */
function isAfterTimer(a: unknown): boolean {
  const x = a as { type?: unknown; event?: { type?: unknown } };
  return typeof a === 'function' && x.type === 'xstate.raise' && String(x.event?.type).startsWith('xstate.after.');
}

function children(n: Node): Node[] {
  return Object.values(n.states);
}

function walk(n: Node, visit: (n: Node) => void): void {
  for (const c of children(n)) {
    visit(c);
    walk(c, visit);
  }
}

function transitionsOf(n: Node): Transition[] {
  return [...[...n.transitions.values()].flat(), ...(n.always ?? [])];
}

export function mermaid(machine: AnyStateMachine): string {
  const root = machine.root as unknown as Node;
  const lines: string[] = ['stateDiagram-v2'];
  const declare = (n: Node, indent: string) => {
    const id = mermaidId(n);
    if (id !== n.key || n.key.includes('-')) lines.push(`${indent}state "${n.key}" as ${id}`);
    if (children(n).length > 0) {
      lines.push(`${indent}state ${id} {`);
      const initial = n.initial?.target[0];
      if (initial) lines.push(`${indent}  [*] --> ${mermaidId(initial)}`);
      for (const c of children(n)) declare(c, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };
  for (const c of children(root)) declare(c, '  ');
  const initial = root.initial?.target[0];
  if (initial) lines.push(`  [*] --> ${mermaidId(initial)}`);
  walk(root, (n) => {
    for (const t of transitionsOf(n)) {
      if (!t.target?.length) continue;
      const guard = guardName(t.guard);
      const label = `${eventLabel(t)}${guard ? ` [${guard}]` : ''}`;
      for (const target of t.target) lines.push(`  ${mermaidId(n)} --> ${mermaidId(target)} : ${label}`);
    }
    if (n.type === 'final') lines.push(`  ${mermaidId(n)} --> [*]`);
    for (const [k, v] of Object.entries(n.meta ?? {})) lines.push(`  note right of ${mermaidId(n)} : ${k} ${JSON.stringify(v)}`);
  });
  return lines.join('\n');
}

export function table(machine: AnyStateMachine): string {
  const root = machine.root as unknown as Node;
  const rows: string[] = ['| state | event | guard | target | actions |', '|---|---|---|---|---|'];
  const cell = (s: string) => (s === '' ? '' : `\`${s.replace(/\|/g, '\\|')}\``);
  walk(root, (n) => {
    const state = path(n);
    const entry = n.entry.filter((a) => !isAfterTimer(a));
    if (entry.length > 0) rows.push(`| ${cell(state)} | *entry* |  |  | ${entry.map((a) => cell(actionName(a))).join(', ')} |`);
    for (const [k, v] of Object.entries(n.meta ?? {})) rows.push(`| ${cell(state)} | *meta* |  |  | ${cell(`${k}: ${JSON.stringify(v)}`)} |`);
    if (n.type === 'final') rows.push(`| ${cell(state)} | *final* |  |  |  |`);
    for (const t of transitionsOf(n)) {
      const target = t.target?.length ? t.target.map((x) => cell(path(x))).join(', ') : '*(stays)*';
      rows.push(`| ${cell(state)} | ${cell(eventLabel(t))} | ${cell(guardName(t.guard))} | ${target} | ${t.actions.map((a) => cell(actionName(a))).join(', ')} |`);
    }
  });
  return rows.join('\n');
}

/** The generated block of one machine (what goes between its markers). */
export function generated(name: string, machine: AnyStateMachine): string {
  return [
    `<!-- generated by scripts/statecharts.ts from machines/${name}.ts; do not edit by hand -->`,
    '',
    '```mermaid',
    mermaid(machine),
    '```',
    '',
    table(machine),
  ].join('\n');
}

const begin = (name: string) => `<!-- BEGIN GENERATED: ${name} -->`;
const end = (name: string) => `<!-- END GENERATED: ${name} -->`;

/** The document with every generated block replaced. Throws if a machine's markers are missing. */
export function render(doc: string, machines = documentedMachines()): string {
  let out = doc;
  for (const [name, machine] of Object.entries(machines)) {
    const b = out.indexOf(begin(name));
    const e = out.indexOf(end(name));
    if (b < 0 || e < b) throw new Error(`docs/machines.md has no '${begin(name)}' … '${end(name)}' markers`);
    out = `${out.slice(0, b + begin(name).length)}\n${generated(name, machine)}\n${out.slice(e)}`;
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = readFileSync(DOC_PATH, 'utf8');
  const next = render(doc);
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      console.error('docs/machines.md is out of date: run node --import tsx scripts/statecharts.ts');
      process.exit(1);
    }
    console.log('docs/machines.md is up to date');
  } else if (next !== doc) {
    writeFileSync(DOC_PATH, next);
    console.log('docs/machines.md updated');
  } else console.log('docs/machines.md already up to date');
}
