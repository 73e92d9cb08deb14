/**
 * Minimal runtime repros of what the model tests found (they fail until fixed; see the
 * invariant of the same name in session.model.test.ts / agent.model.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { agentMachine } from '../../machines/agent.js';
import { sessionMachine, type SessionContext } from '../../machines/session.js';
import { createRuntime, flushMicrotasks, SimulatedClock, type BusRecord } from '../../src/index.js';
import { controlledCalls, controlledProvider } from './fakes.js';

function session(opts: Partial<Parameters<typeof sessionMachine>[0]> = {}) {
  const clock = new SimulatedClock();
  const { provider, streams } = controlledProvider();
  const rt = createRuntime({ clock, kinds: { session: { machine: sessionMachine({ provider, ...opts }), cancelEvent: 'cancel' } } });
  return { clock, rt, streams, ref: rt.ref('session/s') };
}

describe('found by the model tests', () => {
  it('session: the caller of the interrupted stream unsubscribing does not cancel the prompt waiting behind it', async () => {
    const { rt, ref } = session();
    const a = ref.stream({ type: 'prompt', text: 'A' }).subscribe({ error: () => {} });
    await flushMicrotasks();
    let bError: unknown;
    ref.stream({ type: 'prompt', text: 'B' }).subscribe({ error: (e) => (bError = e) });
    await flushMicrotasks();
    expect(ref.snapshot()!.value).toBe('cancelling');
    a.unsubscribe(); // the runtime sends { type: 'cancel', requestId: A }
    await flushMicrotasks();
    expect(bError).toBeUndefined();
    expect((ref.snapshot()!.context as SessionContext).pending).toBeDefined();
    await rt.shutdown({ drain: false });
  });

  it('session: a close is not carried past the cancel it caused (a later cancel does not close the session)', async () => {
    const { rt, ref, streams } = session();
    ref.stream({ type: 'prompt', text: 'A' }).subscribe({ error: () => {} });
    await flushMicrotasks();
    ref.tell({ type: 'close' });
    ref.stream({ type: 'prompt', text: 'B' }).subscribe({ error: () => {} });
    await flushMicrotasks();
    streams[0]!.close('done'); // A closes; B starts
    await flushMicrotasks();
    expect(ref.snapshot()!.value).toBe('streaming');
    expect((ref.snapshot()!.context as SessionContext).closeAfter).toBe(false);
    await rt.shutdown({ drain: false });
  });

  it("session: INTERLOCK_BUSY under 'reject' names the state the session is in (cancelling)", async () => {
    const { rt, ref } = session({ onBusy: 'reject' });
    ref.stream({ type: 'prompt', text: 'A' }).subscribe({ error: () => {} });
    await flushMicrotasks();
    ref.tell({ type: 'cancel' });
    await flushMicrotasks();
    expect(ref.snapshot()!.value).toBe('cancelling');
    await expect(ref.ask({ type: 'prompt', text: 'B' })).rejects.toMatchObject({ code: 'INTERLOCK_BUSY', details: { state: 'cancelling' } });
    await rt.shutdown({ drain: false });
  });

  it('agent: a request after cancelled work that ignores its abort was fenced runs (the actor does not crash)', async () => {
    const clock = new SimulatedClock();
    const { fn, calls } = controlledCalls<string>();
    const machine = agentMachine<string, string>({
      subscriptions: [{ id: 'A' }, { id: 'B' }],
      now: () => clock.now(),
      cancelDeadlineMs: 500,
      handle: (_input, { signal }) => fn(signal),
      restart: async () => {},
    });
    const rt = createRuntime({ clock, kinds: { agent: { machine, cancelEvent: 'cancel', mailbox: { control: ['subscription.failed'] } } } });
    const records: BusRecord[] = [];
    rt.events$.subscribe((r) => records.push(r));
    const ref = rt.ref('agent/a');
    ref.ask({ type: 'request', input: 'one' }).catch(() => {});
    await flushMicrotasks();
    ref.tell({ type: 'cancel' });
    await clock.tick(500); // work 'one' ignores the abort: fenced at the deadline, still running
    expect(ref.snapshot()!.value).toBe('idle');
    const two = ref.ask({ type: 'request', input: 'two' });
    await flushMicrotasks();
    expect(records.filter((r) => r.type === 'lifecycle.crashed').map((r) => (r.data as { error: string }).error)).toEqual([]);
    calls[1]?.succeed('two done');
    expect(await two).toBe('two done');
    await rt.shutdown({ drain: false });
  });

  it('agent: a reset after a hanging restart was fenced restarts again (restart-<epoch>-0 is not still taken)', async () => {
    const clock = new SimulatedClock();
    const { fn } = controlledCalls<void>();
    const machine = agentMachine({
      subscriptions: [{ id: 'A' }, { id: 'B' }],
      now: () => clock.now(),
      restartAttempts: 1,
      restartTimeoutMs: 1_000,
      handle: async () => 'ok',
      restart: (_s, { signal }) => fn(signal),
    });
    const rt = createRuntime({ clock, kinds: { agent: { machine, cancelEvent: 'cancel', mailbox: { control: ['subscription.failed'] } } } });
    const records: BusRecord[] = [];
    rt.events$.subscribe((r) => records.push(r));
    const ref = rt.ref('agent/a');
    ref.tell({ type: 'subscription.failed', epoch: 0 });
    await clock.tick(1_000); // the restart hangs, ignores its abort: fenced, failed
    expect(ref.snapshot()!.value).toBe('failed');
    ref.tell({ type: 'reset' });
    await flushMicrotasks();
    expect(records.filter((r) => r.type === 'lifecycle.crashed').map((r) => (r.data as { error: string }).error)).toEqual([]);
    expect(ref.snapshot()!.value).toEqual({ restarting: 'attempt' });
    await rt.shutdown({ drain: false });
  });
});
