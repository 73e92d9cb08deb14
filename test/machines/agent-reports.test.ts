/**
 * The agent as a new user meets it (issue 7) and the agent bugs the suite missed (issue 6):
 * failure reports that carry their epoch, one retry per request, agentKind's policies.
 */
import { describe, expect, it } from 'vitest';
import { agentKind, agentMachine, reportSubscriptionFailure, type AgentEmitted, type HandleContext, type Subscription } from '../../machines/index.js';
import { createRuntime, SimulatedClock, type BusRecord } from '../../src/index.js';

const quota = () => Object.assign(new Error('quota exceeded'), { details: { status: 429 } });

function world(opts: { handle?: (input: string, ctx: HandleContext) => Promise<string>; restart?: (s: Subscription) => Promise<void>; subs?: string[] } = {}) {
  const clock = new SimulatedClock();
  const calls: string[] = [];
  const restarts: string[] = [];
  const kind = agentKind<string, string>({
    subscriptions: (opts.subs ?? ['A', 'B', 'C']).map((id) => ({ id })),
    now: () => clock.now(),
    restartTimeoutMs: 1_000,
    handle: async (input, ctx) => {
      calls.push(`${input}@${ctx.subscription.id}`);
      return opts.handle ? opts.handle(input, ctx) : `${input} via ${ctx.subscription.id}`;
    },
    restart: async (s) => {
      restarts.push(s.id);
      await opts.restart?.(s);
    },
  });
  const rt = createRuntime({ clock, random: () => 0.5, kinds: { agent: kind } });
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));
  const emitted = () => records.filter((r) => r.type === 'emitted').map((r) => (r.data as { event: AgentEmitted }).event);
  const ref = rt.ref('agent/a1');
  const current = () => {
    const c = ref.snapshot()!.context; // typed from the agent machine through ref()
    return c.subscriptions[c.current];
  };
  return { clock, rt, ref, calls, restarts, records, emitted, current };
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, code: (error as { code?: string }).code, message: String((error as Error).message) }),
  );

describe('agent failure reports carry their epoch', () => {
  it("gives handle the epoch and a reportFailure bound to it: a report from a request's work switches once, a late one of the same epoch is stale", async () => {
    let report: HandleContext['reportFailure'] | undefined;
    const seen: number[] = [];
    const w = world({
      handle: async (input, ctx) => {
        seen.push(ctx.epoch);
        report ??= ctx.reportFailure;
        return input;
      },
    });
    expect(await w.ref.ask({ type: 'request', input: 'one' })).toBe('one');
    report!('quota seen by a monitor');
    await w.clock.runAll();
    report!('the same burst, reported again');
    await w.clock.runAll();
    expect(await w.ref.ask({ type: 'request', input: 'two' })).toBe('two');
    expect(seen).toEqual([0, 1]);
    expect(w.restarts).toEqual(['B']);
    expect(w.emitted().filter((e) => e.type === 'subscription.switched' || e.type === 'failure.stale')).toEqual([
      { type: 'subscription.switched', from: 'A', to: 'B', epoch: 1, reason: 'quota seen by a monitor' },
      { type: 'failure.stale', epoch: 0, current: 1 },
    ]);
    await w.rt.shutdown();
  });

  it('refuses a report with no epoch with INTERLOCK_INVALID_EVENT (agentKind validate and reportSubscriptionFailure), and nothing switches', async () => {
    const w = world();
    expect(() => w.ref.tell({ type: 'subscription.failed' } as never)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT' }));
    await expect(w.rt.ask('agent/a1', { type: 'subscription.failed', epoch: '0' } as never)).rejects.toMatchObject({ code: 'INTERLOCK_INVALID_EVENT' });
    expect(() => reportSubscriptionFailure(w.ref, { epoch: undefined as never, reason: 'quota' })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT', message: expect.stringContaining('epoch') }),
    );
    reportSubscriptionFailure(w.ref, { epoch: 0, reason: 'quota' });
    await w.clock.runAll();
    expect(w.restarts).toEqual(['B']);
    expect(w.emitted().filter((e) => e.type === 'subscription.switched')).toHaveLength(1);
    await w.rt.shutdown();
  });

  it('records a report with no epoch that reaches the machine (a hand-built kind without validate) as ignored, never as stale or a switch', async () => {
    const clock = new SimulatedClock();
    const machine = agentMachine({ subscriptions: [{ id: 'A' }, { id: 'B' }], handle: async () => 'x', restart: async () => {}, now: () => clock.now() });
    const rt = createRuntime({ clock, kinds: { agent: { machine, cancelEvent: 'cancel', mailbox: { control: ['subscription.failed'] } } } });
    const events: AgentEmitted[] = [];
    rt.events$.subscribe((r) => r.type === 'emitted' && events.push((r.data as { event: AgentEmitted }).event));
    rt.tell('agent/a', { type: 'subscription.failed', reason: 'quota' } as never);
    await clock.runAll();
    expect(events).toEqual([{ type: 'event.ignored', event: 'subscription.failed', reason: 'no epoch: a failure report must name the epoch it happened under' }]);
    expect(rt.snapshot('agent/a')!.value).toBe('idle');
    expect(rt.snapshot('agent/a')!.context.epoch).toBe(0);
    await rt.shutdown();
  });

  it('refuses at createRuntime a hand-built agent kind without the cancel event or the control lane the machine declares', () => {
    const machine = agentMachine({ subscriptions: [{ id: 'A' }], handle: async () => 'x', restart: async () => {} });
    expect(() => createRuntime({ kinds: { agent: { machine, mailbox: { control: ['subscription.failed'] } } } })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_KIND', message: expect.stringContaining("needs cancelEvent 'cancel'") }),
    );
    expect(() => createRuntime({ kinds: { agent: { machine, cancelEvent: 'cancel' } } })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_KIND', message: expect.stringContaining("needs 'subscription.failed' in mailbox.control") }),
    );
  });
});

describe('one retry per request', () => {
  it('rejects a chat with INTERLOCK_RETRY_EXHAUSTED, not AGENT_UNAVAILABLE, when the subscription it was retried on is reported failed during the restart; the agent serves the next chat on C', async () => {
    // A answers 429; the agent switches to B. While B's restart runs, B is reported failed
    // (epoch 1): the chat is re-run on B once, fenced by that report, and the agent moves to C.
    let releaseRestart!: () => void;
    const w = world({
      handle: async (input, ctx) => {
        if (ctx.subscription.id === 'A') throw quota();
        if (ctx.subscription.id === 'B') return new Promise<string>(() => {}); // hangs until fenced
        return `${input} via ${ctx.subscription.id}`;
      },
      restart: (s) => (s.id === 'B' ? new Promise<void>((r) => (releaseRestart = r)) : Promise.resolve()),
    });
    const chat = outcome(w.ref.ask({ type: 'request', input: 'chat' }));
    await w.clock.tick(0);
    expect(w.ref.snapshot()!.value).toEqual({ restarting: 'attempt' });
    w.ref.tell({ type: 'subscription.failed', epoch: 1, reason: 'B: 429' });
    await w.clock.tick(0);
    releaseRestart();
    await w.clock.runAll();
    const got = await chat;
    expect(got).toMatchObject({ ok: false, code: 'INTERLOCK_RETRY_EXHAUSTED' });
    expect(got.ok === false && got.message).not.toContain("send it a 'reset'");
    expect(w.calls).toEqual(['chat@A', 'chat@B']);
    expect(w.restarts).toEqual(['B', 'C']);
    expect(w.ref.snapshot()!.value).toBe('idle');
    expect(w.current()).toBe('C');
    expect(await w.ref.ask({ type: 'request', input: 'next' })).toBe('next via C');
    await w.rt.shutdown();
  });

  it('re-runs a request the failure interrupted once, not after every switch: A and B both answer 429, the chat is not run on C', async () => {
    const w = world({
      handle: async (input, ctx) => {
        if (ctx.subscription.id !== 'C') throw quota();
        return `${input} via C`;
      },
    });
    const chat = outcome(w.ref.ask({ type: 'request', input: 'chat' }));
    await w.clock.runAll();
    expect(await chat).toMatchObject({ ok: false, code: 'INTERLOCK_RETRY_EXHAUSTED' });
    expect(w.calls).toEqual(['chat@A', 'chat@B']);
    expect(w.emitted().filter((e) => e.type === 'subscription.switched').map((e) => `${(e as { from: string }).from}→${(e as { to: string }).to}`)).toEqual(['A→B', 'B→C']);
    await w.rt.shutdown();
  });
});

describe('agentKind()', () => {
  it('keeps the epoch, subscription and cooldowns across a supervisor restart (restartInput): a stale report after a crash does not switch again', async () => {
    const clock = new SimulatedClock();
    const restarts: string[] = [];
    const kind = agentKind<string, string>({
      subscriptions: [{ id: 'A' }, { id: 'B' }, { id: 'C' }],
      now: () => clock.now(),
      handle: async (input) => {
        if (input === 'odd') throw new Error('odd');
        return input;
      },
      isSubscriptionFailure: (error) => {
        if ((error as Error).message === 'odd') throw new TypeError('classifier bug');
        return false;
      },
      restart: async (s) => {
        restarts.push(s.id);
      },
    });
    const rt = createRuntime({ clock, random: () => 0.5, kinds: { agent: kind } });
    const records: BusRecord[] = [];
    rt.events$.subscribe((r) => records.push(r));
    const ref = rt.ref('agent/a1');
    ref.tell({ type: 'subscription.failed', epoch: 0, reason: 'quota' });
    await clock.runAll();
    expect(restarts).toEqual(['B']);
    await expect(ref.ask({ type: 'request', input: 'odd' })).rejects.toMatchObject({ code: 'INTERLOCK_ACTOR_CRASHED' });
    await clock.runAll();
    expect(records.filter((r) => r.type === 'lifecycle.restarted')).toHaveLength(1);
    expect(ref.snapshot()!.context).toMatchObject({ epoch: 1, current: 1, cooldowns: { A: expect.any(Number) } });
    ref.tell({ type: 'subscription.failed', epoch: 0, reason: 'late report about A' });
    await clock.runAll();
    expect(restarts).toEqual(['B']);
    expect(await ref.ask({ type: 'request', input: 'after' })).toBe('after');
    await rt.shutdown();
  });
});

describe('secrets never leave the agent', () => {
  it('keeps a random API key out of every bus record, replay, error, view, stats and persisted snapshot through a switch, a failed request, a crash restart and a passivation', async () => {
    const secret = `sk-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    const clock = new SimulatedClock();
    const saved: unknown[] = [];
    const store = {
      load: () => undefined,
      save: (_address: string, snapshot: unknown) => void saved.push(snapshot),
      delete: () => {},
    };
    const kind = agentKind<string, string>(
      {
        subscriptions: [
          { id: 'A', apiKey: secret },
          { id: 'B', apiKey: `${secret}-b`, headers: { authorization: `Bearer ${secret}` } },
        ],
        now: () => clock.now(),
        handle: async (input, { subscription }) => {
          if (input === 'quota') throw quota();
          if (input === 'boom') throw new Error('tool failed');
          if (input === 'crash') throw Object.assign(new Error('classifier input'), { crash: true });
          return `${input} via ${subscription.id}`;
        },
        isSubscriptionFailure: (error) => {
          if ((error as { crash?: boolean }).crash) throw new TypeError('classifier bug');
          return (error as { details?: { status?: number } }).details?.status === 429;
        },
        restart: async (s) => {
          if (typeof s.apiKey !== 'string') throw new Error('restart needs the key');
        },
      },
      { idleAfterMs: 60_000 },
    );
    const rt = createRuntime({ clock, store, random: () => 0.5, kinds: { agent: kind } });
    const records: BusRecord[] = [];
    rt.events$.subscribe((r) => records.push(r));
    const ref = rt.ref('agent/a1');
    const errors: unknown[] = [];
    const views: unknown[] = [];
    const asked = (input: string) => ref.ask({ type: 'request', input }).catch((e: unknown) => void errors.push(e));
    const first = asked('quota'); // fails on A: switch to B, restart, retried on B
    await clock.runAll();
    await first;
    views.push(rt.view('agent/a1'), rt.stats({ addresses: true }));
    await asked('boom');
    const crash = asked('crash');
    await clock.runAll();
    await crash;
    await asked('fine');
    views.push(rt.view('agent/a1'), rt.stats({ addresses: true }));
    const replayed: BusRecord[] = [];
    rt.events('agent/a1', { since: { epoch: records[0]!.epoch, seq: 0 } }).subscribe((r) => replayed.push(r)).unsubscribe();
    await clock.tick(60_000); // passivates: the persisted snapshot goes to the store
    expect(records.some((r) => r.type === 'lifecycle.passivated')).toBe(true);
    expect(records.some((r) => r.type === 'emitted' && (r.data as { event: { type: string } }).event.type === 'subscription.switched')).toBe(true);
    expect(records.some((r) => r.type === 'lifecycle.restarted')).toBe(true);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(saved.length).toBeGreaterThan(0);
    expect(replayed.length).toBeGreaterThan(0);
    const dump = (x: unknown) =>
      JSON.stringify(x, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack, cause: v.cause } : v));
    for (const [what, x] of Object.entries({ records, replayed, errors, views, saved })) {
      expect(dump(x), what).not.toContain(secret);
    }
    await rt.shutdown();
  });
});
