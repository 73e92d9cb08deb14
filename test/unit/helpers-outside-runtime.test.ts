import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, setup, type AnyActorRef } from 'xstate';

/** A fresh copy of the helpers module: its warn-once flag starts unset. */
async function freshHelpers() {
  vi.resetModules();
  return import('../../src/runtime/helpers.js');
}

type Helpers = Awaited<ReturnType<typeof freshHelpers>>;

/** Runs each helper action in a plain XState actor; returns the actor's status after each event. */
function runPlain(h: Helpers) {
  const machine = setup({}).createMachine({
    on: {
      reply: { actions: h.reply('x') },
      fail: { actions: h.fail('x') },
      runTask: { actions: h.runTask(() => 1, { done: () => ({ type: '@done' }), error: () => ({ type: '@error' }) }) },
      abortTask: { actions: h.abortTask(() => 't') },
      fenceTask: { actions: h.fenceTask(() => 't') },
      heartbeat: { actions: h.heartbeat() },
      tellSelf: { actions: ({ self }) => h.tellSelf(self, { type: 'x' }) },
    },
  });
  const actor = createActor(machine).start();
  const statuses: Record<string, string> = {};
  for (const type of ['reply', 'fail', 'runTask', 'abortTask', 'fenceTask', 'heartbeat', 'tellSelf']) {
    actor.send({ type });
    statuses[type] = actor.getSnapshot().status;
  }
  actor.stop();
  return statuses;
}

const allActive = { reply: 'active', fail: 'active', runTask: 'active', abortTask: 'active', fenceTask: 'active', heartbeat: 'active', tellSelf: 'active' };

describe('machine helpers outside a runtime do nothing, and say so once', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('leave a plain actor running, whichever helper runs', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect(runPlain(await freshHelpers())).toEqual(allActive);
  });

  it('give the address as self.id and no request id', async () => {
    const h = await freshHelpers();
    const actor = createActor(setup({}).createMachine({}), { id: 'plain-1' });
    expect(h.addressOf(actor)).toBe('plain-1');
    expect(h.addressOf({ id: 'plain-2' })).toBe('plain-2');
    expect(h.requestId({ self: actor as AnyActorRef })).toBeUndefined();
  });

  it.each(['fail', 'runTask'])('names %s() in the warning when it is the first helper to run', async (helper) => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const h = await freshHelpers();
    const machine = setup({}).createMachine({
      on: {
        go: { actions: helper === 'fail' ? h.fail('x') : h.runTask(() => 1, { done: () => ({ type: '@d' }), error: () => ({ type: '@e' }) }) },
      },
    });
    const actor = createActor(machine).start();
    actor.send({ type: 'go' });
    actor.stop();
    expect(warn.mock.calls).toEqual([
      [
        `${helper}() ran in an actor no Interlock runtime hosts (plain createActor?), so it did nothing. Run the machine in createRuntime({ kinds }) to test its answers and tasks.`,
        { code: 'INTERLOCK_NO_RUNTIME' },
      ],
    ]);
  });

  it('stays silent when NODE_ENV is production', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    vi.stubEnv('NODE_ENV', 'production');
    expect(runPlain(await freshHelpers())).toEqual(allActive);
    expect(warn).not.toHaveBeenCalled();
  });

  it('does not fail where there is no process, no process.env or no emitWarning (a browser, a worker)', async () => {
    const real = globalThis.process;
    const g = globalThis as { process?: unknown };
    const outcomes: Record<string, unknown> = {};
    for (const [name, fake] of [
      ['no process', undefined],
      ['no env', { emitWarning: () => {} }],
      ['no emitWarning', { env: {} }],
    ] as const) {
      const h = await freshHelpers();
      g.process = fake;
      try {
        outcomes[name] = runPlain(h);
      } catch (err) {
        outcomes[name] = err;
      } finally {
        g.process = real;
      }
    }
    expect(outcomes).toEqual({ 'no process': allActive, 'no env': allActive, 'no emitWarning': allActive });
  });
});
