/**
 * An agent on a SimulatedClock whose work the test finishes by hand, for the tests that pin
 * what the agent answers and records state by state. The kind is built from agentMachine
 * without agentKind's validate, so a report with no epoch reaches the machine.
 */
import { agentMachine, type AgentEmitted, type AgentOptions, type HandleContext } from '../../machines/index.js';
import { createRuntime, SimulatedClock, type BusRecord } from '../../src/index.js';

/** One call of `handle`, held until the test settles it. */
export interface Work {
  input: string;
  subscription: string;
  signal: AbortSignal;
  finish(output: string): void;
  failWith(error: unknown): void;
}

export type WorldOptions = Partial<Omit<AgentOptions<string, string>, 'subscriptions' | 'handle'>> & { subs?: string[] };

export function agentWorld(opts: WorldOptions = {}) {
  const clock = new SimulatedClock();
  const works: Work[] = [];
  const { subs = ['A', 'B'], ...options } = opts;
  const machine = agentMachine<string, string>({
    now: () => clock.now(),
    restart: async () => {},
    ...options,
    subscriptions: subs.map((id) => ({ id })),
    handle: (input: string, ctx: HandleContext) =>
      new Promise<string>((finish, failWith) => works.push({ input, subscription: ctx.subscription.id, signal: ctx.signal, finish, failWith })),
  });
  const rt = createRuntime({ clock, kinds: { agent: { machine, cancelEvent: 'cancel', mailbox: { control: ['subscription.failed'] } } } });
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));
  const emitted = () => records.filter((r) => r.type === 'emitted').map((r) => (r.data as { event: AgentEmitted }).event);
  const ref = rt.ref('agent/a1');
  const state = () => ref.snapshot()!.value;
  /** Lets everything already due run (promise callbacks, timers due now), without time passing. */
  const settle = () => clock.tick(0);
  /** Stops at once: a drain would wait (on the simulated clock, forever) for asks the agent took without answering. */
  const close = () => rt.shutdown({ drain: false });
  return { clock, rt, ref, records, emitted, works, state, settle, close };
}

export type AgentWorld = ReturnType<typeof agentWorld>;

/** A 429, which the default classifier takes for a failed subscription. */
export const quota = () => Object.assign(new Error('quota exceeded'), { details: { status: 429 } });
