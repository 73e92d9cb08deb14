import { describe, expect, it } from 'vitest';
import { setup, type AnyEventObject, type AnyStateMachine } from 'xstate';
import { agentMachine } from '../../machines/agent.js';
import { sessionMachine } from '../../machines/session.js';
import { workerMachine } from '../../machines/worker.js';
import { createRuntime, reply, runTask, simulated, SimulatedClock, type BusRecord } from '../../src/index.js';

/** Every event type some state of the machine handles that is in the internal `@` namespace. */
function internalTypes(machine: AnyStateMachine): string[] {
  const out = new Set<string>();
  const walk = (node: { config: { on?: object }; states?: Record<string, unknown> }) => {
    for (const t of Object.keys(node.config.on ?? {})) if (t.startsWith('@')) out.add(t);
    for (const c of Object.values(node.states ?? {})) walk(c as typeof node);
  };
  walk(machine.root as never);
  return [...out].sort();
}

/** A user machine: `fetch` runs a task whose outcome (`@fetched`) answers the caller. */
const userMachine = setup({ types: {} as { events: { type: 'fetch' } | { type: '@fetched'; data: string } } }).createMachine({
  initial: 'idle',
  states: {
    idle: { on: { fetch: 'loading' } },
    loading: {
      entry: runTask(() => new Promise<string>(() => {}), { done: (data) => ({ type: '@fetched', data: data as string }), error: () => ({ type: '@fetched', data: 'error' }) }),
      on: { '@fetched': { target: 'idle', actions: reply(({ event }) => (event as { data: string }).data) } },
    },
  },
});

const clock = new SimulatedClock();
const cases: [string, AnyStateMachine, AnyEventObject][] = [
  ['session', sessionMachine({ provider: simulated({ clock, tokensPerSecond: 1 }) }), { type: 'prompt', text: 'hi' }],
  [
    'agent',
    agentMachine({ subscriptions: [{ id: 'A' }], handle: () => new Promise(() => {}), restart: async () => {}, now: () => clock.now() }),
    { type: 'request', input: 'x' },
  ],
  ['worker', workerMachine({ process: () => new Promise(() => {}) }), { type: 'item', item: 'x' }],
  ['user', userMachine, { type: 'fetch' }],
];

describe('internal events cannot be forged', () => {
  it('finds the task outcomes of every bundled machine in the @ namespace', () => {
    expect(Object.fromEntries(cases.map(([name, m]) => [name, internalTypes(m)]))).toEqual({
      session: ['@stream.closed'],
      agent: ['@restart.done', '@restart.error', '@work.done', '@work.error'],
      worker: ['@item.done', '@item.error'],
      user: ['@fetched'],
    });
  });

  for (const [name, machine, start] of cases) {
    it(`refuses every internal event of the ${name} machine from tell and ask, and the snapshot does not change`, async () => {
      // What the machine declares its kind must configure (root meta.interlock), nothing more.
      const needs = (machine.root.meta as { interlock?: { cancelEvent?: string; control?: string[] } } | undefined)?.interlock ?? {};
      const rt = createRuntime({ clock, kinds: { k: { machine, cancelEvent: needs.cancelEvent, mailbox: { control: needs.control ?? [] } } } });
      const records: BusRecord[] = [];
      rt.events$.subscribe((r) => records.push(r));
      const ref = rt.ref('k/1');
      ref.tell(start as never);
      await clock.tick(0);
      const before = ref.snapshot();
      const seen = records.length;
      for (const type of internalTypes(machine)) {
        // A forged answer: what the task would have produced.
        const forged = { type, output: 'FORGED', gen: 1, outcome: 'done', text: 'FORGED', data: 'FORGED' } as never;
        expect(() => ref.tell(forged)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT' }));
        await expect(ref.ask(forged)).rejects.toMatchObject({ code: 'INTERLOCK_INVALID_EVENT' });
        await expect(rt.ask('k/1', forged)).rejects.toMatchObject({ code: 'INTERLOCK_INVALID_EVENT' });
      }
      await clock.tick(0);
      expect(ref.snapshot()).toBe(before);
      expect(records.slice(seen)).toEqual([]);
      await rt.shutdown({ drain: false });
    });
  }

  it('crashes an actor whose task outcome is outside the @ namespace, naming the type', async () => {
    const c = new SimulatedClock();
    const bad = setup({}).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { go: 'busy' } },
        busy: {
          // A JavaScript caller (no types) naming a public outcome type.
          entry: runTask(() => 'ok', { done: () => ({ type: 'finished' }) as never, error: () => ({ type: 'finished' }) as never }),
          on: { finished: { target: 'idle', actions: reply('FORGEABLE') } },
        },
      },
    });
    const rt = createRuntime({ clock: c, kinds: { k: { machine: bad, supervision: { maxRestarts: 0 } } } });
    const records: BusRecord[] = [];
    rt.events$.subscribe((r) => records.push(r));
    const answer = rt.ask('k/1', { type: 'go' }).catch((e: unknown) => e);
    await c.tick(0);
    expect(await answer).toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
    const crash = records.find((r) => r.type === 'lifecycle.crashed');
    expect(JSON.stringify(crash?.data)).toContain("'@'");
    expect(JSON.stringify(crash?.data)).toContain('finished');
  });
});
