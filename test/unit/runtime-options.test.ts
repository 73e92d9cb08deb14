import { describe, expect, it } from 'vitest';
import { createRuntime, memoryStore, SimulatedClock } from '../../src/index.js';
import { counterMachine } from './fixtures.js';

/**
 * Every way createRuntime refuses its options: INTERLOCK_INVALID_CONFIG with the whole
 * message (what to pass instead), never a TypeError from reading into a bad value.
 */
describe('runtime options at createRuntime', () => {
  const kinds = { counter: { machine: counterMachine } };
  const refusal = (why: string) => expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG', message: `Invalid runtime options: ${why}.` });
  const fn = () => {};
  const clockMissing = (name: 'now' | 'setTimeout' | 'clearTimeout') => ({ now: fn, setTimeout: fn, clearTimeout: fn, [name]: undefined });
  const storeMissing = (name: 'load' | 'save' | 'delete') => ({ load: fn, save: fn, delete: fn, [name]: undefined });
  const CLOCK = '`clock` must have now(), setTimeout() and clearTimeout()';
  const STORE = '`store` must have load(), save() and delete()';
  const KINDS = '`kinds` must name at least one kind: { kinds: { session: { machine } } }';

  const cases: [string, unknown, string][] = [
    ['no options', undefined, 'pass { kinds: { name: { machine } } }'],
    ['null', null, 'pass { kinds: { name: { machine } } }'],
    ['a string', 'counter', 'pass { kinds: { name: { machine } } }'],
    ['an unknown option', { kinds, queue: [] }, "unknown option 'queue' (known: kinds, clock, store, random, inspect)"],
    ['no kinds', {}, KINDS],
    ['null kinds', { kinds: null }, KINDS],
    ['empty kinds', { kinds: {} }, KINDS],
    ['a null clock', { kinds, clock: null }, CLOCK],
    ['a clock without now()', { kinds, clock: clockMissing('now') }, CLOCK],
    ['a clock without setTimeout()', { kinds, clock: clockMissing('setTimeout') }, CLOCK],
    ['a clock without clearTimeout()', { kinds, clock: clockMissing('clearTimeout') }, CLOCK],
    ['a null store', { kinds, store: null }, STORE],
    ['a store without load()', { kinds, store: storeMissing('load') }, STORE],
    ['a store without save()', { kinds, store: storeMissing('save') }, STORE],
    ['a store without delete()', { kinds, store: storeMissing('delete') }, STORE],
    ['a store with only delete()', { kinds, store: { delete: fn } }, STORE],
    ['a non-function random', { kinds, random: 0.5 }, '`random` must be a function returning [0, 1)'],
    ['an unknown inspect mode', { kinds, inspect: 'on' }, "`inspect` must be 'off' or 'watched', got \"on\""],
  ];
  it.each(cases)('refuses %s, naming what to pass', (_, options, why) => {
    expect(() => createRuntime(options as never)).toThrow(refusal(why));
  });

  it('accepts every option well formed', async () => {
    const clock = new SimulatedClock();
    for (const inspect of ['off', 'watched'] as const) {
      const rt = createRuntime({ kinds, clock, store: memoryStore(), random: () => 0.5, inspect });
      rt.tell('counter/a', { type: 'inc' });
      await rt.shutdown({ drain: false });
    }
  });
});
