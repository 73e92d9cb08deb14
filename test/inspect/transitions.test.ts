/**
 * The inspection adapter: XState inspection events become `transition` records on the
 * actor's own stream while (and only while) someone inspects it, in order with the
 * runtime's other records, and show nothing the kind does not publish.
 */
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { agentKind } from '../../machines/agent.js';
import { sessionKind } from '../../machines/session.js';
import { createRuntime, simulated, SimulatedClock, type BusRecord } from '../../src/index.js';
import type { TransitionData } from '../../src/inspect/tap.js';

const SECRET = 'sk-live-NEVER-SHOW-THIS';

function sessionRuntime(inspect?: 'watched') {
  const clock = new SimulatedClock();
  const rt = createRuntime({
    clock,
    ...(inspect ? { inspect } : {}),
    kinds: { session: sessionKind({ provider: simulated({ clock, tokensPerSecond: 10, text: 'a b c d e f g h' }) }) },
  });
  return { clock, rt };
}

/** Is the activation's inspection observer attached? (test-only peek at the runtime) */
function tapped(rt: unknown, address: string): boolean {
  const a = (rt as { activations: Map<string, { tap?: unknown }> }).activations.get(address);
  return a?.tap !== undefined;
}

const transitions = (records: BusRecord[]) => records.filter((r) => r.type === 'transition').map((r) => r.data as TransitionData);

describe('inspection adapter', () => {
  it('records a prompt superseding a stream as streaming → cancelling → streaming, in order with the mailbox records', async () => {
    const { clock, rt } = sessionRuntime();
    const records: BusRecord[] = [];
    const sub = rt.inspect().subscribe((r) => records.push(r));
    const ref = rt.ref('session/u1');
    ref.stream({ type: 'prompt', text: 'A' }).subscribe({ error: () => {} });
    await clock.tick(250);
    const b = new Promise<void>((resolve) => ref.stream({ type: 'prompt', text: 'B' }).subscribe({ complete: resolve, error: () => {} }));
    await clock.runAll();
    await b;
    sub.unsubscribe();

    const moves = transitions(records).map((t) => `${JSON.stringify(t.from)} -${t.event.type}-> ${JSON.stringify(t.to)}`);
    expect(moves).toEqual([
      'null -xstate.init-> "idle"',
      '"idle" -prompt-> "streaming"',
      '"streaming" -prompt-> "cancelling"',
      '"cancelling" -@stream.closed-> "streaming"',
      '"streaming" -@stream.closed-> "idle"',
    ]);
    const [, , supersede, closed] = transitions(records);
    expect(supersede!.transitions).toEqual([{ source: 'session.streaming', targets: ['session.cancelling'], event: 'prompt' }]);
    // The eventless follow-up through the transient `settled` state is there too, in order.
    expect(closed!.transitions).toEqual([
      { source: 'session.cancelling', targets: ['session.settled'], event: '@stream.closed' },
      { source: 'session.settled', targets: ['session.streaming'], event: '' },
    ]);
    expect(closed!.event).toEqual({ type: '@stream.closed', internal: true });
    expect(supersede!.event).toEqual({ type: 'prompt', internal: false });
    // The caller's delivery comes first, then the snapshot, then the transition that explains it.
    const i = records.findIndex((r) => r.type === 'transition' && (r.data as TransitionData).to === 'cancelling');
    expect(records.slice(i - 2, i + 1).map((r) => r.type)).toEqual(['mailbox.delivered', 'snapshot', 'transition']);
    expect((records[i]!.data as TransitionData).requestId).toBe((records[i - 2]!.data as { id: string }).id);
    // One stream, gapless.
    expect(records.map((r) => r.seq)).toEqual(records.map((_, n) => records[0]!.seq + n));
    await rt.shutdown();
  });

  it('builds nothing and attaches nothing while nobody inspects, and detaches when the last one leaves', async () => {
    const { clock, rt } = sessionRuntime();
    const watched: BusRecord[] = [];
    const plain = rt.events$.subscribe((r) => watched.push(r));
    rt.tell('session/u1', { type: 'prompt', text: 'hi' });
    await clock.runAll();
    expect(tapped(rt, 'session/u1')).toBe(false);
    expect(watched.some((r) => r.type === 'transition')).toBe(false);

    // Two inspectors of one address, then one of everything: on until the last leaves.
    const one = rt.inspect({ address: 'session/u1' }).subscribe();
    const two = rt.inspect({ address: 'session/u1' }).subscribe();
    rt.tell('session/u2', { type: 'prompt', text: 'hi' });
    await clock.runAll();
    expect([tapped(rt, 'session/u1'), tapped(rt, 'session/u2')]).toEqual([true, false]);
    one.unsubscribe();
    expect(tapped(rt, 'session/u1')).toBe(true);
    const all = rt.inspect().subscribe();
    expect([tapped(rt, 'session/u1'), tapped(rt, 'session/u2')]).toEqual([true, true]);
    two.unsubscribe();
    expect([tapped(rt, 'session/u1'), tapped(rt, 'session/u2')]).toEqual([true, true]);
    all.unsubscribe();
    expect([tapped(rt, 'session/u1'), tapped(rt, 'session/u2')]).toEqual([false, false]);

    const before = watched.length;
    rt.tell('session/u1', { type: 'prompt', text: 'again' });
    await clock.runAll();
    expect(watched.slice(before).some((r) => r.type === 'transition')).toBe(false);
    expect(watched.slice(before).map((r) => r.type)).toContain('snapshot');
    plain.unsubscribe();
    await rt.shutdown();
  });

  it("with inspect: 'watched', taps exactly the addresses someone subscribes to", async () => {
    const { clock, rt } = sessionRuntime('watched');
    rt.tell('session/a', { type: 'prompt', text: 'x' });
    rt.tell('session/b', { type: 'prompt', text: 'x' });
    await clock.tick(0);
    expect([tapped(rt, 'session/a'), tapped(rt, 'session/b')]).toEqual([false, false]);
    const seen: BusRecord[] = [];
    const sub = rt.events('session/a').subscribe((r) => seen.push(r));
    expect([tapped(rt, 'session/a'), tapped(rt, 'session/b')]).toEqual([true, false]);
    await clock.runAll();
    // Tapped mid-stream: records start with its next macrostep, from the state it was in.
    expect(transitions(seen).map((t) => [t.from, t.event.type, t.to])).toEqual([['streaming', '@stream.closed', 'idle']]);
    sub.unsubscribe();
    expect(tapped(rt, 'session/a')).toBe(false);
    const everything = rt.events$.subscribe();
    expect([tapped(rt, 'session/a'), tapped(rt, 'session/b')]).toEqual([true, true]);
    everything.unsubscribe();
    expect([tapped(rt, 'session/a'), tapped(rt, 'session/b')]).toEqual([false, false]);
    await rt.shutdown();
  });

  it('puts the delivery before the transition even when the transition leaves the snapshot as it was', async () => {
    const clock = new SimulatedClock();
    const quiet = setup({}).createMachine({ on: { note: { actions: () => undefined } } });
    const rt = createRuntime({ clock, kinds: { q: { machine: quiet } } });
    const records: BusRecord[] = [];
    const sub = rt.inspect().subscribe((r) => records.push(r));
    rt.tell('q/1', { type: 'note' });
    await clock.runAll();
    sub.unsubscribe();
    // No snapshot record: XState kept the same snapshot for a targetless transition with a plain action.
    expect(records.map((r) => r.type)).toEqual(['lifecycle.activated', 'snapshot', 'transition', 'mailbox.enqueued', 'mailbox.delivered', 'transition']);
    expect((records.at(-1)!.data as TransitionData).transitions).toEqual([{ source: '(machine)', targets: [], event: 'note' }]);
    await rt.shutdown();
  });

  it('keeps inspecting across a supervisor restart (the new actor is tapped from its start)', async () => {
    const clock = new SimulatedClock();
    const crashy = setup({ types: {} as { events: { type: 'boom' } | { type: 'go' } } }).createMachine({
      id: 'crashy',
      initial: 'a',
      states: {
        a: {
          on: {
            go: 'b',
            boom: {
              actions: () => {
                throw new Error('boom');
              },
            },
          },
        },
        b: {},
      },
    });
    const rt = createRuntime({ clock, random: () => 0, kinds: { c: { machine: crashy, supervision: { backoff: { initialMs: 10 } } } } });
    const records: BusRecord[] = [];
    const sub = rt.inspect().subscribe((r) => records.push(r));
    rt.tell('c/1', { type: 'boom' });
    await clock.runAll();
    rt.tell('c/1', { type: 'go' });
    await clock.runAll();
    sub.unsubscribe();
    expect(records.filter((r) => r.type === 'transition' || r.type.startsWith('lifecycle')).map((r) => (r.type === 'transition' ? `${(r.data as TransitionData).event.type}->${JSON.stringify((r.data as TransitionData).to)}` : r.type))).toEqual([
      'lifecycle.activated',
      'xstate.init->"a"',
      'lifecycle.crashed',
      'lifecycle.restarted',
      'xstate.init->"a"',
      'go->"b"',
    ]);
    expect(rt.view('c/1')!.restarts).toBe(1);
    await rt.shutdown();
  });

  it('never shows a secret: not the subscription keys in the agent’s closure, nor a public event’s payload unless eventView says so', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({
      clock,
      kinds: {
        agent: agentKind(
          {
            subscriptions: [{ id: 'primary', apiKey: SECRET }, { id: 'backup', apiKey: `${SECRET}-2` }],
            // The first subscription fails once: the agent switches to the second and re-runs.
            handle: async (_input, ctx) => {
              if (ctx.epoch === 0) ctx.reportFailure('quota');
              return 'ok';
            },
            restart: async () => undefined,
            now: () => clock.now(),
          },
          // The request input is caller data: keep it out of the published context.
          { view: (c) => ({ epoch: c.epoch, current: c.subscriptions[c.current] }) },
        ),
        shown: {
          machine: setup({ types: {} as { events: { type: 'note'; text: string; token: string } } }).createMachine({ on: { note: { actions: () => undefined } } }),
          eventView: (e) => ({ text: (e as unknown as { text: string }).text }),
        },
      },
    });
    const records: BusRecord[] = [];
    const sub = rt.inspect().subscribe((r) => records.push(r));
    await rt.ask('agent/a1', { type: 'request', input: { password: SECRET } });
    await clock.runAll();
    rt.tell('shown/1', { type: 'note', text: 'visible', token: SECRET });
    await clock.runAll();
    sub.unsubscribe();
    const moves = transitions(records.filter((r) => r.address === 'agent/a1')).map((t) => `${JSON.stringify(t.from)}->${JSON.stringify(t.to)}`);
    expect(moves).toContain('"processing"->{"restarting":"attempt"}');
    const note = transitions(records.filter((r) => r.address === 'shown/1')).find((t) => t.event.type === 'note')!;
    expect(note.event).toEqual({ type: 'note', internal: false, payload: { text: 'visible' } });
    const request = transitions(records).find((t) => t.event.type === 'request')!;
    expect(request.event).toEqual({ type: 'request', internal: false });
    expect(JSON.stringify(records)).not.toContain(SECRET);
    expect(JSON.stringify(rt.mailbox('agent/a1'))).not.toContain(SECRET);
    await rt.shutdown();
  });
});

