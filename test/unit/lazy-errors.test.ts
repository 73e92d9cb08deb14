import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup } from 'xstate';
import { createRuntime, errors, reply, SimulatedClock } from '../../src/index.js';

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
