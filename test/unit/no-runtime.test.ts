import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, setup } from 'xstate';
import { reply } from '../../src/index.js';

describe('machine helpers outside a runtime', () => {
  afterEach(() => vi.restoreAllMocks());

  it('warns once, with code INTERLOCK_NO_RUNTIME, when reply() runs in an actor no runtime hosts', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const machine = setup({}).createMachine({ on: { ping: { actions: reply('pong') } } });
    const actor = createActor(machine).start();
    actor.send({ type: 'ping' });
    actor.send({ type: 'ping' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]).toEqual([expect.stringContaining('reply() ran in an actor no Interlock runtime hosts'), { code: 'INTERLOCK_NO_RUNTIME' }]);
    actor.stop();
  });
});
