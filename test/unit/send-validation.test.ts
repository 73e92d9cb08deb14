import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import { settled } from '../helpers/outcome.js';
import { counterMachine } from './fixtures.js';

/**
 * Every way `tell` refuses an event or its options at the runtime's edge: the code, and the
 * whole message (the part after the address tells the caller what to fix). A malformed
 * value must get this coded error, never a TypeError from reading into it.
 */
describe('send validation at the edge', () => {
  const clock = new SimulatedClock();
  const rt = createRuntime({ clock, kinds: { counter: { machine: counterMachine } } });
  const refusal = (why: string) => expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT', message: `Invalid event for 'counter/a': ${why}.` });
  const reserved = (type: string) => `event type '${type}' is reserved ('@…' is internal to the runtime and its tasks, 'xstate.…' to XState)`;
  const shape = 'an event must be an object with a string `type`';

  const badEvents: [string, unknown, string][] = [
    ['a string', 'inc', shape],
    ['null', null, shape],
    ['undefined', undefined, shape],
    ['an object without a type', {}, shape],
    ['a numeric type', { type: 5 }, shape],
    ['an empty type', { type: '' }, 'the event type is empty'],
    ['a runtime-internal type', { type: '@done' }, reserved('@done')],
    ['an XState type', { type: 'xstate.stop' }, reserved('xstate.stop')],
  ];
  it.each(badEvents)('refuses %s as an event, naming what an event must be', (_, event, why) => {
    expect(() => rt.tell('counter/a', event as never)).toThrow(refusal(why));
  });

  const badOptions: [string, unknown, string][] = [
    ['a string', 'high', 'options must be an object'],
    ['a number', 5, 'options must be an object'],
    ['null', null, 'options must be an object'],
    ['an unknown priority', { priority: 'urgent' }, "priority must be 'high', 'normal' or 'low', got urgent"],
    // Once accepted (`in` reads the prototype): the envelope sat in a lane nothing reads, never delivered.
    ['a priority named after an Object method', { priority: 'toString' }, "priority must be 'high', 'normal' or 'low', got toString"],
    ['a priority named after an Object property', { priority: '__proto__' }, "priority must be 'high', 'normal' or 'low', got __proto__"],
    ['a zero timeout', { timeoutMs: 0 }, 'timeoutMs must be a positive finite number, got 0'],
    ['a negative timeout', { timeoutMs: -1 }, 'timeoutMs must be a positive finite number, got -1'],
    ['an infinite timeout', { timeoutMs: Infinity }, 'timeoutMs must be a positive finite number, got Infinity'],
    ['a numeric-string timeout', { timeoutMs: '5' }, 'timeoutMs must be a positive finite number, got 5'],
    ['a string signal', { signal: 'abort' }, 'signal must be an AbortSignal'],
    ['a numeric signal', { signal: 1 }, 'signal must be an AbortSignal'],
    ['a null signal', { signal: null }, 'signal must be an AbortSignal'],
    ['a signal without `aborted`', { signal: {} }, 'signal must be an AbortSignal'],
    // Once accepted: the envelope was enqueued, then tell threw a TypeError from addEventListener.
    ['a signal with `aborted` but no listeners', { signal: { aborted: false } }, 'signal must be an AbortSignal'],
    ['a signal without removeEventListener', { signal: { aborted: false, addEventListener: () => {} } }, 'signal must be an AbortSignal'],
    ['a signal without addEventListener', { signal: { aborted: false, removeEventListener: () => {} } }, 'signal must be an AbortSignal'],
    ['a signal whose `aborted` is not a boolean', { signal: Object.assign(new EventTarget(), { aborted: 'no' }) }, 'signal must be an AbortSignal'],
  ];
  it.each(badOptions)('refuses %s in the options, naming the allowed values', (_, options, why) => {
    expect(() => rt.tell('counter/a', { type: 'inc' }, options as never)).toThrow(refusal(why));
  });

  it('enqueues nothing for a refused send', async () => {
    for (const [, options] of badOptions) expect(() => rt.tell('counter/a', { type: 'inc' }, options as never)).toThrow();
    expect(rt.stats({ address: 'counter/a' }).addresses.map((a) => a.enqueued)).toEqual([]);
  });

  it('accepts well-formed options, each alone (an absent option is not checked)', async () => {
    const options = [{}, { priority: 'low' }, { timeoutMs: 0.5 }, { signal: new AbortController().signal }, { priority: 'high', timeoutMs: 10, signal: Object.assign(new EventTarget(), { aborted: false }) }];
    for (const o of options) rt.tell('counter/a', { type: 'inc' }, o as never);
    // `get` in the low lane, behind every `inc` whatever its priority.
    expect(await settled(rt.ask('counter/a', { type: 'get' }, { priority: 'low' }), clock)).toBe(options.length);
    await rt.shutdown({ drain: false });
  });
});
