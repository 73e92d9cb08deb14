/**
 * The agent's lifecycle as its callers and operators see it: cancelling the running request,
 * the events it ignores (and why), what it announces through a switch and a restart, the
 * failed state and `reset`, and reports sent from outside `handle`.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { agentMachine, reportSubscriptionFailure, validateAgentEvent, type AgentEmitted, type AgentOptions, type HandleContext } from '../../machines/index.js';
import { createRuntime, SimulatedClock, type BusRecord } from '../../src/index.js';

function world(opts: Partial<AgentOptions<string, string>> & { subs?: string[]; eventView?: (e: { type: string }) => unknown } = {}) {
  const clock = new SimulatedClock();
  const signals: AbortSignal[] = [];
  const { eventView, ...options } = opts;
  const machine = agentMachine<string, string>({
    now: () => clock.now(),
    handle: async (input: string, ctx: HandleContext) => `${input} via ${ctx.subscription.id}`,
    restart: async () => {},
    ...options,
    subscriptions: (opts.subs ?? ['A', 'B']).map((id) => ({ id })),
  });
  const rt = createRuntime({ clock, kinds: { agent: { machine, cancelEvent: 'cancel', mailbox: { control: ['subscription.failed'] }, ...(eventView ? { eventView, publicEvents: ['request', 'cancel', 'reset', 'subscription.failed'] } : {}) } } });
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));
  const emitted = () => records.filter((r) => r.type === 'emitted').map((r) => (r.data as { event: AgentEmitted }).event);
  const ref = rt.ref('agent/a1');
  return { clock, rt, ref, records, emitted, signals };
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, code: (error as { code?: string }).code, message: String((error as Error)?.message ?? error) }),
  );

/** A handle that runs until its signal aborts, or forever when `deaf`. */
const hanging = (signals: AbortSignal[], deaf = false) => (_: string, ctx: HandleContext) =>
  new Promise<string>((_resolve, reject) => {
    signals.push(ctx.signal);
    if (!deaf) ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
  });

describe('cancelling the running request', () => {
  it.each([
    ['names no request', () => undefined],
    ['names the running request', (records: BusRecord[]) => (records.find((r) => r.type === 'task.started')!.data as { requestId: string }).requestId],
  ])('a cancel that %s aborts its work and answers INTERLOCK_CANCELLED', async (_, idOf) => {
    const signals: AbortSignal[] = [];
    const w = world({ handle: hanging(signals) });
    const chat = outcome(w.ref.ask({ type: 'request', input: 'chat' }));
    await w.clock.tick(0);
    const requestId = idOf(w.records);
    w.ref.tell({ type: 'cancel', ...(requestId === undefined ? {} : { requestId }) });
    await w.clock.tick(0);
    expect(signals.map((s) => s.aborted)).toEqual([true]);
    expect(await chat).toEqual({ ok: false, code: 'INTERLOCK_CANCELLED', message: "Request to 'agent/a1' was cancelled by a 'cancel' event while running." });
    expect(w.ref.snapshot()!.value).toBe('idle');
    await w.rt.shutdown();
  });

  it('ignores a cancel naming another request, and the work goes on', async () => {
    let finish!: (v: string) => void;
    const w = world({ handle: () => new Promise<string>((r) => (finish = r)) });
    const chat = w.ref.ask({ type: 'request', input: 'chat' });
    await w.clock.tick(0);
    w.ref.tell({ type: 'cancel', requestId: 'someone-else' });
    await w.clock.tick(0);
    expect(w.ref.snapshot()!.value).toBe('processing');
    expect(w.emitted()).toEqual([{ type: 'event.ignored', event: 'cancel', reason: 'not the running request' }]);
    finish('done');
    expect(await chat).toBe('done');
    await w.rt.shutdown();
  });

  it('fences work that ignores its signal after the default 5 s cancel deadline', async () => {
    const signals: AbortSignal[] = [];
    const w = world({ handle: hanging(signals, true) });
    const chat = outcome(w.ref.ask({ type: 'request', input: 'chat' }));
    await w.clock.tick(0);
    w.ref.tell({ type: 'cancel' });
    await w.clock.tick(4_999);
    expect(w.ref.snapshot()!.value).toBe('cancelling');
    await w.clock.tick(1);
    expect(w.ref.snapshot()!.value).toBe('idle');
    expect(await chat).toMatchObject({ ok: false, code: 'INTERLOCK_CANCELLED' });
    await w.rt.shutdown();
  });
});

describe('events the agent ignores, with the reason', () => {
  it("records cancel and reset in idle, and cancel in failed, as event.ignored", async () => {
    const w = world({ subs: ['A'] });
    w.ref.tell({ type: 'cancel' });
    w.ref.tell({ type: 'reset' });
    await w.clock.runAll();
    w.ref.tell({ type: 'subscription.failed', epoch: 0 });
    await w.clock.runAll();
    expect(w.ref.snapshot()!.value).toBe('failed');
    w.ref.tell({ type: 'cancel' });
    await w.clock.runAll();
    expect(w.emitted()).toEqual([
      { type: 'event.ignored', event: 'cancel', reason: 'no request running' },
      { type: 'event.ignored', event: 'reset', reason: 'not failed' },
      { type: 'agent.failed', reason: 'no viable subscription' },
      { type: 'event.ignored', event: 'cancel', reason: 'failed' },
    ]);
    await w.rt.shutdown();
  });
});

describe('errors from handle', () => {
  it.each([
    ['an Error with no details', new Error('boom'), 'boom'],
    ['undefined', undefined, 'undefined'],
    ['a 500', Object.assign(new Error('server error'), { details: { status: 500 } }), 'server error'],
  ])('fails the request on %s without switching the subscription', async (_, error, message) => {
    const w = world({ handle: () => Promise.reject(error) });
    const got = await outcome(w.ref.ask({ type: 'request', input: 'chat' }));
    expect(got).toEqual({ ok: false, code: 'INTERLOCK_TURN_FAILED', message: `Actor 'agent/a1' answered with an error: ${message}.` });
    await w.clock.runAll();
    expect(w.ref.snapshot()!.value).toBe('idle');
    expect(w.ref.snapshot()!.context.epoch).toBe(0);
    expect(w.emitted()).toEqual([]);
    await w.rt.shutdown();
  });
});

describe('switching and restarting, as announced', () => {
  it('cools the failed subscription for 2 h by default, says why it switched, and numbers restart attempts from 1', async () => {
    let restarts = 0;
    const w = world({
      restartBackoffMs: 10,
      restart: () => (++restarts === 1 ? Promise.reject(undefined) : restarts === 2 ? Promise.reject(new Error('port busy')) : Promise.resolve()),
    });
    await w.clock.tick(1_000);
    w.ref.tell({ type: 'subscription.failed', epoch: 0 });
    await w.clock.runAll();
    expect(w.emitted()).toEqual([
      { type: 'subscription.switched', from: 'A', to: 'B', epoch: 1, reason: 'subscription failed' },
      { type: 'restart.failed', subscription: 'B', attempt: 1, error: 'undefined' },
      { type: 'restart.failed', subscription: 'B', attempt: 2, error: 'port busy' },
      { type: 'agent.restarted', subscription: 'B', attempt: 3 },
    ]);
    expect(w.ref.snapshot()!.context.cooldowns).toEqual({ A: 1_000 + 2 * 60 * 60 * 1000 });
    await w.rt.shutdown();
  });

  it('records a report of an epoch that has moved on as stale, and does not switch again', async () => {
    const w = world({ subs: ['A', 'B', 'C'] });
    w.ref.tell({ type: 'subscription.failed', epoch: 0 });
    await w.clock.runAll();
    w.ref.tell({ type: 'subscription.failed', epoch: 0 });
    await w.clock.runAll();
    expect(w.emitted().slice(-1)).toEqual([{ type: 'failure.stale', epoch: 0, current: 1 }]);
    expect(w.ref.snapshot()!.context).toMatchObject({ current: 1, epoch: 1 });
    await w.rt.shutdown();
  });

  it('answers the request in flight INTERLOCK_AGENT_UNAVAILABLE naming why when the restart budget is spent', async () => {
    const w = world({
      restartAttempts: 1,
      handle: (input, ctx) => (ctx.subscription.id === 'A' ? Promise.reject(Object.assign(new Error('q'), { details: { status: 429 } })) : Promise.resolve(input)),
      restart: () => Promise.reject(new Error('no backend')),
    });
    const got = await outcome(w.ref.ask({ type: 'request', input: 'chat' }));
    expect(got).toMatchObject({ ok: false, code: 'INTERLOCK_AGENT_UNAVAILABLE' });
    expect(got.ok === false && got.message).toContain('backend restart failed');
    expect(w.ref.snapshot()!.value).toBe('failed');
    await w.rt.shutdown();
  });

  it("says a switch caused by a request's error was 'request failed on subscription'", async () => {
    const w = world({ handle: (input, ctx) => (ctx.subscription.id === 'A' ? Promise.reject(Object.assign(new Error('q'), { details: { status: 429 } })) : Promise.resolve(`${input} via B`)) });
    expect(await w.ref.ask({ type: 'request', input: 'chat' })).toBe('chat via B');
    expect(w.emitted()[0]).toEqual({ type: 'subscription.switched', from: 'A', to: 'B', epoch: 1, reason: 'request failed on subscription' });
    await w.rt.shutdown();
  });

  it('fails with no viable subscription when every other one is cooling, rejects requests naming why, and reset restarts it with cooldowns cleared', async () => {
    const w = world({ cooldownMs: 1_000 });
    w.ref.tell({ type: 'subscription.failed', epoch: 0 });
    await w.clock.runAll();
    w.ref.tell({ type: 'subscription.failed', epoch: 1 });
    await w.clock.runAll();
    expect(w.ref.snapshot()!.value).toBe('failed');
    expect(w.ref.snapshot()!.context.failure).toBe('no viable subscription');
    expect(w.emitted().at(-1)).toEqual({ type: 'agent.failed', reason: 'no viable subscription' });
    const got = await outcome(w.ref.ask({ type: 'request', input: 'x' }));
    expect(got).toMatchObject({ ok: false, code: 'INTERLOCK_AGENT_UNAVAILABLE' });
    expect(got.ok === false && got.message).toContain('no viable subscription');
    w.ref.tell({ type: 'reset' });
    await w.clock.runAll();
    expect(w.ref.snapshot()!.value).toBe('idle');
    expect(w.ref.snapshot()!.context).toMatchObject({ failure: undefined, attempt: 0, cooldowns: {}, current: 1 });
    await w.rt.shutdown();
  });

  it('clears the request after answering INTERLOCK_RETRY_EXHAUSTED, naming the subscription it switched to', async () => {
    let releaseRestart!: () => void;
    const w = world({
      subs: ['A', 'B', 'C'],
      handle: async (input, ctx) => {
        if (ctx.subscription.id === 'A') throw Object.assign(new Error('q'), { details: { status: 429 } });
        if (ctx.subscription.id === 'B') return new Promise<string>(() => {});
        return `${input} via ${ctx.subscription.id}`;
      },
      restart: (s) => (s.id === 'B' ? new Promise<void>((r) => (releaseRestart = r)) : Promise.resolve()),
    });
    const chat = outcome(w.ref.ask({ type: 'request', input: 'chat' }));
    await w.clock.tick(0);
    w.ref.tell({ type: 'subscription.failed', epoch: 1 });
    await w.clock.tick(0);
    releaseRestart();
    await w.clock.runAll();
    const got = await chat;
    expect(got).toMatchObject({ ok: false, code: 'INTERLOCK_RETRY_EXHAUSTED' });
    expect(got.ok === false && got.message).toContain("its subscription failed again; the agent switched to 'C'");
    expect(w.ref.snapshot()!.context.inflight).toBeUndefined();
    await w.rt.shutdown();
  });
});

describe('restart input', () => {
  it('starts on the carried subscription, or on the first when the carried index is out of range', () => {
    const machine = agentMachine({ subscriptions: [{ id: 'A' }, { id: 'B' }], handle: async () => 'x', restart: async () => {} });
    const start = (current: number) => {
      const actor = createActor(machine, { input: { current, epoch: 3, cooldowns: {} } }).start();
      const c = actor.getSnapshot().context;
      actor.stop();
      return { current: c.current, epoch: c.epoch };
    };
    expect(start(1)).toEqual({ current: 1, epoch: 3 });
    expect(start(2)).toEqual({ current: 0, epoch: 3 });
  });
});

describe('reports from outside handle', () => {
  const fakeRef = (address?: string) => {
    const sent: unknown[] = [];
    return { sent, ref: { ...(address === undefined ? {} : { address }), tell: (e: unknown) => void sent.push(e) } };
  };

  it('sends exactly the epoch, and the reason only when given', () => {
    const { sent, ref } = fakeRef('agent/a1');
    reportSubscriptionFailure(ref, { epoch: 2 });
    reportSubscriptionFailure(ref, { epoch: 3, reason: 'quota' });
    expect(sent).toStrictEqual([
      { type: 'subscription.failed', epoch: 2 },
      { type: 'subscription.failed', epoch: 3, reason: 'quota' },
    ]);
  });

  it.each([
    ['no report', undefined, 'agent/a1', "Invalid event for 'agent/a1'"],
    ['a fractional epoch', { epoch: 1.5 }, 'agent/a1', "Invalid event for 'agent/a1'"],
    ['a ref without an address', { epoch: '1' }, undefined, "Invalid event for 'agent'"],
  ])('refuses %s with INTERLOCK_INVALID_EVENT naming the fix, sending nothing', (_, report, address, prefix) => {
    const { sent, ref } = fakeRef(address);
    expect(() => reportSubscriptionFailure(ref, report as never)).toThrow(
      expect.objectContaining({
        code: 'INTERLOCK_INVALID_EVENT',
        message: `${prefix}: a 'subscription.failed' report must carry the integer epoch it happened under (read it from handle's ctx.epoch, or use ctx.reportFailure).`,
      }),
    );
    expect(sent).toEqual([]);
    expect(validateAgentEvent({ type: 'subscription.failed', epoch: 1 } as never)).toBeUndefined();
  });
});

describe('reportFailure from handle', () => {
  it('mails the agent a report with exactly its epoch, and a reason only when one is given (as an inspector shows it)', async () => {
    const w = world({
      subs: ['A', 'B', 'C'],
      handle: async (input, ctx) => {
        if (input === 'one' && ctx.epoch === 0) ctx.reportFailure();
        if (input === 'two' && ctx.epoch === 1) ctx.reportFailure('quota');
        return input;
      },
      eventView: (e) => e,
    });
    const shown: unknown[] = [];
    const sub = w.rt.inspect().subscribe((r: BusRecord) => {
      const event = (r.data as { event?: { type: string; payload?: unknown } } | undefined)?.event;
      if (r.type === 'transition' && event?.type === 'subscription.failed') shown.push(event.payload);
    });
    await w.ref.ask({ type: 'request', input: 'one' });
    await w.clock.runAll();
    await w.ref.ask({ type: 'request', input: 'two' });
    await w.clock.runAll();
    expect(shown).toStrictEqual([
      { type: 'subscription.failed', epoch: 0 },
      { type: 'subscription.failed', epoch: 1, reason: 'quota' },
    ]);
    sub.unsubscribe();
    await w.rt.shutdown();
  });
});
