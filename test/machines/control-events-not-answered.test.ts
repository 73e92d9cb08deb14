/**
 * An `ask` or `stream` of an event nobody answers must not hang (H24). The bundled machines
 * answer only their requests: a session its `prompt`, an agent its `request`, a worker its
 * `item`. Their kind helpers declare it (`answers`), so an ask or stream of a control event
 * (a session's `cancel`, `disconnect`, `close`; an agent's `cancel`, `reset`,
 * `subscription.failed`) is refused at once with INTERLOCK_NOT_ANSWERED, before anything is
 * queued or activated, instead of waiting for a deadline that in process defaults to never.
 * `tell` of the same events works as before; a kind without `answers` takes an ask of any
 * event as before (the ask waits, taken and unanswered).
 */
import { describe, expect, it } from 'vitest';
import { agentKind, sessionMachine, workerKind } from '../../machines/index.js';
import { createRuntime, SimulatedClock, simulated, type Runtime } from '../../src/index.js';
import { fulfilled, outcome, rejected, track } from '../helpers/outcome.js';
import { sessionWorld, TEXT } from './sessionWorld.js';

const coded = (e: unknown) => ({ code: (e as { code?: string }).code, message: (e as Error).message });

const notAnswered = (type: string, kind: string, answers: string, address: string) => ({
  code: 'INTERLOCK_NOT_ANSWERED',
  message: `'${type}' is not answered by kind '${kind}' (it answers: ${answers}), so an ask or stream of it to '${address}' would wait for its deadline; send it with tell (WebSocket \`send\`, POST /v1/actors/${address}/tell).`,
});

/** What a stream's subscriber heard synchronously on subscribing: its error (coded), values, or completion. */
function streamOf(rt: Pick<Runtime, 'stream'>, address: string, event: { type: string }): unknown[] {
  const heard: unknown[] = [];
  rt.stream(address, event as never).subscribe({
    next: (e) => heard.push(e),
    error: (e: unknown) => heard.push(coded(e)),
    complete: () => heard.push('complete'),
  });
  return heard;
}

/** The kind's counters that would move if anything had been queued or activated. */
function traffic(rt: Pick<Runtime, 'stats'>) {
  return rt.stats().kinds.map((k) => ({ kind: k.kind, active: k.active, depth: k.depth, enqueued: k.enqueued, activations: k.activations }));
}

function agentWorld() {
  const clock = new SimulatedClock();
  const kind = agentKind<string, string>({
    subscriptions: [{ id: 'A' }],
    now: () => clock.now(),
    handle: async (input) => `done:${input}`,
    restart: async () => undefined,
  });
  const rt = createRuntime({ clock, kinds: { agent: kind } });
  return { clock, rt, ref: rt.ref('agent/a1') };
}

describe("sessionKind answers only 'prompt'", () => {
  it.each(['cancel', 'disconnect', 'close'])("refuses an ask and a stream of '%s' at once, activating and queueing nothing", async (type) => {
    const w = sessionWorld();
    const asked = track(w.rt.ask('session/1', { type } as never));
    expect(streamOf(w.rt, 'session/1', { type })).toEqual([notAnswered(type, 'session', 'prompt', 'session/1')]);
    // No tick of the clock: the promise is already rejected.
    expect(coded(await rejected(asked))).toEqual(notAnswered(type, 'session', 'prompt', 'session/1'));
    expect(w.clock.now()).toBe(0);
    expect(w.rt.size).toBe(0);
    expect(traffic(w.rt)).toEqual([{ kind: 'session', active: 0, depth: 0, enqueued: 0, activations: 0 }]);
    expect(w.records).toEqual([]);
    // A draining shutdown has nothing to wait for.
    expect(await outcome(w.rt.shutdown())).toEqual({ status: 'fulfilled', value: undefined });
  });

  it('refuses an ask of cancel to a streaming session without queueing it, and a told cancel still cancels the prompt', async () => {
    const w = sessionWorld();
    const prompt = track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    const enqueued = traffic(w.rt)[0]!.enqueued;
    expect(coded(await rejected(w.ref.ask({ type: 'cancel' })))).toEqual(notAnswered('cancel', 'session', 'prompt', 'session/1'));
    expect(w.rt.mailbox('session/1')).toMatchObject({ depth: 0, queued: [], postponed: [] });
    expect(traffic(w.rt)[0]!.enqueued).toBe(enqueued);
    expect([w.state(), await outcome(prompt)]).toEqual(['streaming', { status: 'pending' }]);

    w.ref.tell({ type: 'cancel' });
    await w.clock.runAll();
    expect(coded(await rejected(prompt))).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    await w.rt.shutdown();
  });

  it('answers an asked prompt as before', async () => {
    const w = sessionWorld();
    const prompt = track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.runAll();
    expect(await fulfilled(prompt)).toMatchObject({ text: TEXT, finishReason: 'stop' });
    expect(w.rt.kinds()[0]!.answers).toEqual(['prompt']);
    await w.rt.shutdown();
  });
});

describe("agentKind answers only 'request'", () => {
  it.each<[string, Record<string, unknown>]>([
    ['cancel', {}],
    ['reset', {}],
    ['subscription.failed', { epoch: 0 }],
  ])("refuses an ask and a stream of '%s' at once, activating and queueing nothing", async (type, fields) => {
    const w = agentWorld();
    const asked = track(w.rt.ask('agent/a1', { type, ...fields } as never));
    expect(streamOf(w.rt, 'agent/a1', { type, ...fields })).toEqual([notAnswered(type, 'agent', 'request', 'agent/a1')]);
    expect(coded(await rejected(asked))).toEqual(notAnswered(type, 'agent', 'request', 'agent/a1'));
    expect(w.clock.now()).toBe(0);
    expect(w.rt.size).toBe(0);
    expect(traffic(w.rt)).toEqual([{ kind: 'agent', active: 0, depth: 0, enqueued: 0, activations: 0 }]);
    await w.rt.shutdown();
  });

  it('takes the same events told, and answers an asked request as before', async () => {
    const w = agentWorld();
    const emitted: unknown[] = [];
    w.rt.events$.subscribe((r) => {
      if (r.type === 'emitted') emitted.push((r.data as { event: unknown }).event);
    });
    w.ref.tell({ type: 'reset' });
    w.ref.tell({ type: 'cancel' });
    await w.clock.tick(0);
    expect(emitted).toEqual([
      { type: 'event.ignored', event: 'reset', reason: 'not failed' },
      { type: 'event.ignored', event: 'cancel', reason: 'no request running' },
    ]);
    expect(await fulfilled(w.ref.ask({ type: 'request', input: 'x' }), w.clock)).toBe('done:x');
    expect(w.rt.kinds()[0]!.answers).toEqual(['request']);
    await w.rt.shutdown();
  });

  it('checks the kind validate first: a report without an epoch is an invalid event, whatever the verb', async () => {
    const w = agentWorld();
    expect(coded(await rejected(w.rt.ask('agent/a1', { type: 'subscription.failed' } as never)))).toMatchObject({ code: 'INTERLOCK_INVALID_EVENT' });
    await w.rt.shutdown();
  });
});

describe("workerKind answers its 'item'", () => {
  it('refuses an ask of another type at once, and answers an item', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { worker: workerKind({ process: async (item: unknown) => `did:${String(item)}` }) } });
    expect(coded(await rejected(rt.ask('worker/w1', { type: 'job' } as never)))).toEqual(notAnswered('job', 'worker', 'item', 'worker/w1'));
    expect(rt.size).toBe(0);
    expect(await fulfilled(rt.ask('worker/w1', { type: 'item', item: 1 }), clock)).toBe('did:1');
    expect(rt.kinds()[0]!.answers).toEqual(['item']);
    await rt.shutdown();
  });
});

describe('a kind without `answers` takes an ask of any event, as before', () => {
  it('queues an asked cancel to a session kind built without the helper; the machine takes it and it waits, unanswered', async () => {
    const clock = new SimulatedClock();
    const machine = sessionMachine({ provider: simulated({ clock, tokensPerSecond: 10, text: TEXT }) });
    const rt = createRuntime({ clock, kinds: { session: { machine, cancelEvent: 'cancel' } } });
    const emitted: unknown[] = [];
    rt.events$.subscribe((r) => {
      if (r.type === 'emitted') emitted.push((r.data as { event: unknown }).event);
    });
    const asked = track(rt.ask('session/1', { type: 'cancel' }));
    expect(await outcome(asked, clock)).toEqual({ status: 'pending' });
    expect(emitted).toEqual([{ type: 'event.ignored', event: 'cancel', reason: 'no stream' }]);
    expect(rt.kinds()[0]!.answers).toBeUndefined();
    expect(traffic(rt)[0]).toMatchObject({ enqueued: 1, activations: 1 });
    await rt.shutdown({ drain: false });
    expect(coded(await rejected(asked))).toMatchObject({ code: 'INTERLOCK_ACTOR_STOPPED' });
  });
});
