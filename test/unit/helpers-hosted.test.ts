/**
 * The helpers inside a runtime, and given no actor at all. The warn-once flag of
 * INTERLOCK_NO_RUNTIME is the module's, so this file (its own module instance) starts unset.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup } from 'xstate';
import { abortTask, createRuntime, fenceTask, heartbeat, reply, requestId, runTask, SimulatedClock, tellSelf } from '../../src/index.js';
import { outcome } from '../helpers/outcome.js';

afterEach(() => vi.restoreAllMocks());

describe('helpers in a runtime', () => {
  it('emit no INTERLOCK_NO_RUNTIME warning when a runtime hosts the actor', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const machine = setup({}).createMachine({
      on: {
        go: { actions: [heartbeat(), abortTask(() => 't'), fenceTask(() => 't'), runTask(() => 1, { done: () => ({ type: '@d' }), error: () => ({ type: '@d' }) })] },
        '@d': { actions: reply('done') },
      },
    });
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { k: { machine } } });
    expect(await outcome(rt.ask('k/1', { type: 'go' }), clock)).toEqual({ status: 'fulfilled', value: 'done' });
    await rt.shutdown();
    expect(warn.mock.calls.filter(([, o]) => (o as { code?: string } | undefined)?.code === 'INTERLOCK_NO_RUNTIME')).toEqual([]);
  });
});

describe('helpers given no actor', () => {
  it('do nothing for an undefined or null self, as outside a runtime, instead of throwing', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    for (const self of [undefined, null]) {
      expect(() => tellSelf(self as never, { type: 'x' })).not.toThrow();
      expect(requestId({ self: self as never })).toBeUndefined();
    }
  });
});
