import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { createRuntime, INTERNAL_PREFIX, isInternalType, isReservedType, SimulatedClock } from '../../src/index.js';

describe('the internal event namespace (INTERNAL_PREFIX)', () => {
  it('builds the types the runtime takes as internal and refuses from a caller with INTERLOCK_INVALID_EVENT', async () => {
    const type = `${INTERNAL_PREFIX}work.done`;
    expect({ internal: isInternalType(type), reserved: isReservedType(type), plain: isInternalType('work.done') }).toEqual({
      internal: true,
      reserved: true,
      plain: false,
    });
    const rt = createRuntime({ clock: new SimulatedClock(), kinds: { k: { machine: setup({}).createMachine({}) } } });
    expect(() => rt.tell('k/1', { type })).toThrow(
      expect.objectContaining({
        code: 'INTERLOCK_INVALID_EVENT',
        message: "Invalid event for 'k/1': event type '@work.done' is reserved ('@…' is internal to the runtime and its tasks, 'xstate.…' to XState).",
      }),
    );
    expect(rt.size).toBe(0);
    await rt.shutdown();
  });
});
