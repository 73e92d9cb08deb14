import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, setup } from 'xstate';
import { sessionKind } from '../../machines/index.js';
import { createRuntime, errors, fail, reply, requestId, simulated, SimulatedClock, type BusRecord } from '../../src/index.js';

const echo = setup({}).createMachine({ on: { ping: { actions: reply('pong') }, hold: {} } });

describe('errors are built only for someone who receives them', () => {
  afterEach(() => vi.restoreAllMocks());

  it('builds no INTERLOCK_ACTOR_STOPPED error when a quiet actor passivates or the runtime stops it with nothing waiting', async () => {
    const clock = new SimulatedClock();
    const stopped = vi.spyOn(errors, 'stopped');
    const rt = createRuntime({ clock, kinds: { e: { machine: echo, idleAfterMs: 1_000 } } });
    const answers = [rt.ask('e/1', { type: 'ping' }), rt.ask('e/2', { type: 'ping' })];
    await clock.tick(0);
    expect(await Promise.all(answers)).toEqual(['pong', 'pong']);
    await clock.tick(1_000);
    expect(rt.size).toBe(0);
    rt.tell('e/3', { type: 'ping' });
    await clock.tick(0);
    await rt.shutdown();
    expect(stopped).not.toHaveBeenCalled();
  });

  it('still rejects what waits with one INTERLOCK_ACTOR_STOPPED when the runtime stops without draining', async () => {
    const clock = new SimulatedClock();
    const gate = setup({}).createMachine({ initial: 'shut', states: { shut: { on: { open: 'open' } }, open: { on: { ping: { actions: reply('pong') } } } } });
    const rt = createRuntime({ clock, kinds: { g: { machine: gate } } });
    const stopped = vi.spyOn(errors, 'stopped');
    const waiting = [rt.ask('g/1', { type: 'ping' }).catch((e: unknown) => e), rt.ask('g/1', { type: 'ping' }).catch((e: unknown) => e)];
    await clock.tick(0);
    await rt.shutdown({ drain: false });
    expect(await Promise.all(waiting)).toEqual([
      expect.objectContaining({ code: 'INTERLOCK_ACTOR_STOPPED' }),
      expect.objectContaining({ code: 'INTERLOCK_ACTOR_STOPPED' }),
    ]);
    expect(stopped).toHaveBeenCalledTimes(1);
  });
});

describe('a caller that left is not built an error (issue 8: a mass disconnect built thousands)', () => {
  afterEach(() => vi.restoreAllMocks());

  it("unsubscribing a session's stream builds one INTERLOCK_CANCELLED, the task's abort reason, and none for the caller who left", async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider: simulated({ clock, text: 'a b c d e f' }) }) } });
    const chunks: string[] = [];
    const sub = rt
      .ref('session/s1')
      .stream({ type: 'prompt', text: 'hi' })
      .subscribe({ next: (e) => e.type === 'chunk' && chunks.push(e.text) });
    await clock.tick(20);
    expect(chunks).toEqual(['a']);
    const cancelled = vi.spyOn(errors, 'cancelled');
    sub.unsubscribe();
    await clock.tick(0);
    expect(rt.snapshot('session/s1')?.value).toBe('idle');
    expect(cancelled.mock.calls).toEqual([['session/s1', 'running', 'machine']]);
    await rt.shutdown();
  });

  it('withdraws a queued stream whose subscriber left without building its error, and still records the rejection by code', async () => {
    const clock = new SimulatedClock();
    const gate = setup({}).createMachine({ initial: 'shut', states: { shut: { on: { open: 'open' } }, open: { on: { ping: { actions: reply('pong') } } } } });
    const rt = createRuntime({ clock, kinds: { g: { machine: gate } } });
    const records: BusRecord[] = [];
    rt.ref('g/1')
      .events()
      .subscribe((r) => records.push(r));
    const sub = rt.ref('g/1').stream({ type: 'ping' }).subscribe({ error: () => undefined });
    await clock.tick(0);
    const cancelled = vi.spyOn(errors, 'cancelled');
    sub.unsubscribe();
    expect(cancelled).not.toHaveBeenCalled();
    expect(records.filter((r) => r.type === 'mailbox.rejected').map((r) => r.data)).toEqual([{ id: expect.any(String), type: 'ping', code: 'INTERLOCK_CANCELLED' }]);
    await rt.shutdown();
  });

  it("calls fail()'s error function only while the request's caller still waits", async () => {
    const clock = new SimulatedClock();
    let built = 0;
    const boom = () => {
      built++;
      return new Error('stopped by the machine');
    };
    const worker = setup({ types: {} as { context: { req?: string }; events: { type: 'go' } | { type: 'stop' } | { type: 'cancel'; requestId?: string } } }).createMachine({
      context: {},
      on: {
        go: { actions: assign({ req: requestId }) },
        stop: { actions: fail(boom, { to: ({ context }) => context.req }) },
        cancel: { actions: fail(boom, { to: ({ context }) => context.req }) },
      },
    });
    const rt = createRuntime({ clock, kinds: { w: { machine: worker, cancelEvent: 'cancel' } } });
    // Still waiting: the function runs and the caller gets its error.
    const waiting = rt.ask('w/1', { type: 'go' }).catch((e: unknown) => e);
    await clock.tick(0);
    rt.tell('w/1', { type: 'stop' });
    await clock.tick(0);
    expect(await waiting).toMatchObject({ code: 'INTERLOCK_TURN_FAILED', cause: { message: 'stopped by the machine' } });
    expect(built).toBe(1);
    // Gone: the caller's signal answered it (INTERLOCK_CANCELLED); the machine's fail for the cancel builds nothing.
    const ac = new AbortController();
    const gone = rt.ask('w/1', { type: 'go' }, { signal: ac.signal }).catch((e: unknown) => e);
    await clock.tick(0);
    ac.abort();
    await clock.tick(0);
    expect(await gone).toMatchObject({ code: 'INTERLOCK_CANCELLED' });
    expect(built).toBe(1);
    await rt.shutdown();
  });
});
