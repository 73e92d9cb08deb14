import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.js';
import { counterMachine } from './fixtures.js';

const bad = (kinds: unknown) => () => createRuntime({ kinds } as never);

describe('kind validation at createRuntime (seed 000: no silent fallback)', () => {
  it.each([
    ['no machine', { k: {} }],
    ['a non-machine', { k: { machine: { transition: 1 } } }],
    ['an unknown option (typo)', { k: { machine: counterMachine, idleAfterMS: 10 } }],
    ['an unknown mailbox option', { k: { machine: counterMachine, mailbox: { capasity: 10 } } }],
    ['a zero capacity', { k: { machine: counterMachine, mailbox: { capacity: 0 } } }],
    ['a fractional capacity', { k: { machine: counterMachine, mailbox: { capacity: 1.5 } } }],
    ['a negative idleAfterMs', { k: { machine: counterMachine, idleAfterMs: -1 } }],
    ['a jitter above 1', { k: { machine: counterMachine, supervision: { backoff: { jitter: 2 } } } }],
    ['maxMs below initialMs', { k: { machine: counterMachine, supervision: { backoff: { initialMs: 10, maxMs: 1 } } } }],
    ['a cancelEvent no state handles', { k: { machine: counterMachine, cancelEvent: 'cancel' } }],
    ['a control event no state handles', { k: { machine: counterMachine, mailbox: { control: ['stop'] } } }],
    ['a kind name with a slash', { 'a/b': { machine: counterMachine } }],
  ])('refuses %s with INTERLOCK_INVALID_KIND', (_why, kinds) => {
    expect(bad(kinds)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_KIND' }));
  });

  it('refuses bad runtime options with INTERLOCK_INVALID_CONFIG', () => {
    expect(bad({})).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }));
    expect(() => createRuntime({ kinds: { k: { machine: counterMachine } }, queue: [] } as never)).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }),
    );
    expect(() => createRuntime({ kinds: { k: { machine: counterMachine } }, clock: {} as never })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG' }),
    );
  });

  it('accepts a cancelEvent handled in any state, and wildcard handlers', () => {
    const m = setup({ types: {} as { events: { type: 'go' } | { type: 'cancel' } } }).createMachine({
      initial: 'a',
      states: { a: { on: { go: 'b' } }, b: { on: { cancel: 'a' } } },
    });
    expect(() => createRuntime({ kinds: { k: { machine: m, cancelEvent: 'cancel' } } })).not.toThrow();
    const any = setup({}).createMachine({ on: { '*': {} } });
    expect(() => createRuntime({ kinds: { k: { machine: any, cancelEvent: 'stop' } } })).not.toThrow();
  });
});
