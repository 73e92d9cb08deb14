import { describe, expect, it } from 'vitest';
import { agentMachine, type AgentEmitted, type Subscription } from '../../machines/agent.js';
import { createRuntime, SimulatedClock, type BusRecord } from '../../src/index.js';

const subs: Subscription[] = [{ id: 'A' }, { id: 'B' }, { id: 'C' }];

function setupAgent(opts: { restart?: (s: Subscription) => Promise<void> } = {}) {
  const clock = new SimulatedClock();
  const restarts: string[] = [];
  const calls: string[] = [];
  const machine = agentMachine<string, string>({
    subscriptions: subs,
    now: () => clock.now(),
    restartTimeoutMs: 1_000,
    restartBackoffMs: 100,
    handle: async (input, { subscription }) => {
      calls.push(`${input}@${subscription.id}`);
      return `${input} via ${subscription.id}`;
    },
    restart: async (s) => {
      restarts.push(s.id);
      await opts.restart?.(s);
    },
  });
  const rt = createRuntime({ clock, kinds: { agent: { machine, mailbox: { control: ['subscription.failed'] }, cancelEvent: 'cancel' } } });
  const emitted: AgentEmitted[] = [];
  rt.events$.subscribe((r: BusRecord) => {
    if (r.type === 'emitted') emitted.push((r.data as { event: AgentEmitted }).event);
  });
  return { clock, rt, restarts, calls, emitted, ref: rt.ref('agent/a1') };
}

describe('agent machine', () => {
  it('switches exactly once and restarts once for two concurrent failures of one epoch', async () => {
    const { clock, rt, ref, restarts, emitted } = setupAgent();
    ref.tell({ type: 'subscription.failed', epoch: 0, reason: 'quota' });
    ref.tell({ type: 'subscription.failed', epoch: 0, reason: 'quota' });
    await clock.runAll();
    expect(restarts).toEqual(['B']);
    expect(emitted.filter((e) => e.type === 'subscription.switched')).toEqual([
      { type: 'subscription.switched', from: 'A', to: 'B', epoch: 1, reason: 'quota' },
    ]);
    expect(emitted.filter((e) => e.type === 'failure.stale')).toEqual([{ type: 'failure.stale', epoch: 0, current: 1 }]);
    await rt.shutdown();
  });

  it('runs a request that arrived during the restart after it, on the new subscription', async () => {
    let release!: () => void;
    const { clock, rt, ref, calls } = setupAgent({ restart: () => new Promise<void>((r) => (release = r)) });
    ref.tell({ type: 'subscription.failed', epoch: 0 });
    await clock.tick(0);
    const answer = ref.ask({ type: 'request', input: 'hi' });
    await clock.tick(10);
    expect(calls).toEqual([]);
    expect(ref.snapshot()!.value).toEqual({ restarting: 'attempt' });
    release();
    expect(await answer).toBe('hi via B');
    expect(calls).toEqual(['hi@B']);
    await rt.shutdown();
  });

  it('retries a hanging restart with backoff, then fails and rejects queued requests with a code', async () => {
    const { clock, rt, ref, restarts } = setupAgent({ restart: () => new Promise<void>(() => {}) });
    ref.tell({ type: 'subscription.failed', epoch: 0 });
    const queued = ref.ask({ type: 'request', input: 'x' }).catch((e: unknown) => e);
    await clock.runAll();
    expect(restarts).toEqual(['B', 'B', 'B']);
    expect(ref.snapshot()!.value).toBe('failed');
    expect(await queued).toMatchObject({ code: 'INTERLOCK_AGENT_UNAVAILABLE' });
    await rt.shutdown();
  });
});
