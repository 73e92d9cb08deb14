/**
 * compileKind, option by option: every bad value of every kind option is refused with
 * INTERLOCK_INVALID_KIND and a message naming the option, what it must be and what it got
 * (seed 000: nothing falls back silently), and the values at each bound are accepted as
 * given. kinds.test.ts checks the same door through createRuntime.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { compileKind } from '../../src/kinds.js';
import { counterMachine } from './fixtures.js';

function refusal(name: string, config: unknown): unknown {
  try {
    compileKind(name, config);
  } catch (error) {
    return error;
  }
  return 'accepted';
}

/** What an INTERLOCK_INVALID_KIND of kind `name` looks like. */
function invalidKind(name: string, why: string) {
  return expect.objectContaining({ code: 'INTERLOCK_INVALID_KIND', message: `Kind '${name}' is misconfigured: ${why}.`, details: { kind: name } });
}

const fn = () => undefined;
const machine = counterMachine;
const KNOWN = 'machine, input, mailbox, cancelEvent, terminal, supervision, idleAfterMs, replay, publicEvents, answers, view, eventView, validate, maxActive';

describe('compileKind refuses every bad option, naming it and the fix', () => {
  it.each<[string, unknown, string]>([
    ['a null config', null, 'its config must be an object with a `machine`'],
    ['a number for a config', 5, 'its config must be an object with a `machine`'],
    ['no machine', {}, '`machine` must be an XState v5 machine (createMachine / setup().createMachine)'],
    ['a null machine', { machine: null }, '`machine` must be an XState v5 machine (createMachine / setup().createMachine)'],
    ['a machine without transition()', { machine: { getInitialSnapshot: fn, root: {} } }, '`machine` must be an XState v5 machine (createMachine / setup().createMachine)'],
    ['a machine without getInitialSnapshot()', { machine: { transition: fn, root: {} } }, '`machine` must be an XState v5 machine (createMachine / setup().createMachine)'],
    ['a machine without a root', { machine: { transition: fn, getInitialSnapshot: fn } }, '`machine` must be an XState v5 machine (createMachine / setup().createMachine)'],
    ['an unknown option (typo)', { machine, idleAfterMS: 10 }, `unknown option 'idleAfterMS' (known: ${KNOWN})`],
    ['an unknown mailbox option', { machine, mailbox: { capasity: 10 } }, "unknown option 'mailbox.capasity' (known: capacity, defaultTimeoutMs, control)"],
    ['an unknown supervision option', { machine, supervision: { retries: 1 } }, "unknown option 'supervision.retries' (known: maxRestarts, windowMs, backoff, restartInput)"],
    ['an unknown backoff option', { machine, supervision: { backoff: { base: 1 } } }, "unknown option 'supervision.backoff.base' (known: initialMs, maxMs, factor, jitter)"],
    ['an input that is not a function', { machine, input: 5 }, '`input` must be a function (key) => input'],
    ['a number for mailbox', { machine, mailbox: 5 }, '`mailbox` must be an object'],
    ['null for supervision', { machine, supervision: null }, '`supervision` must be an object'],
    ['an array for supervision.backoff', { machine, supervision: { backoff: [] } }, '`supervision.backoff` must be an object'],
    ['a string for mailbox.control', { machine, mailbox: { control: 'inc' } }, '`mailbox.control` must be an array of event types'],
    ['a number in mailbox.control', { machine, mailbox: { control: ['inc', 5] } }, '`mailbox.control` must be an array of event types'],
    ['an empty type in mailbox.control', { machine, mailbox: { control: ['inc', ''] } }, '`mailbox.control` must be an array of event types'],
    ['a string for terminal', { machine, terminal: 'done' }, '`terminal` must be an array of event types'],
    ['a string for publicEvents', { machine, publicEvents: 'inc' }, '`publicEvents` must be an array of event types'],
    ['a string for answers', { machine, answers: 'get' }, '`answers` must be an array of event types'],
    ['an empty type in answers', { machine, answers: ['get', ''] }, '`answers` must be an array of event types'],
    ['a number in answers', { machine, answers: [1] }, '`answers` must be an array of event types'],
    ['a type no state handles in answers', { machine, answers: ['get', 'put'] }, "answers names 'put', which no state of the machine handles"],
    [
      'an internal type in answers',
      { machine, answers: ['@done'] },
      "answers names '@done', a reserved type ('@…' is internal, 'xstate.…' is XState's); callers cannot send it",
    ],
    [
      "an XState type in answers (even one the machine's wildcard handles)",
      { machine: setup({}).createMachine({ on: { '*': {} } }), answers: ['xstate.init'] },
      "answers names 'xstate.init', a reserved type ('@…' is internal, 'xstate.…' is XState's); callers cannot send it",
    ],
    ['a number for cancelEvent', { machine, cancelEvent: 5 }, '`cancelEvent` must be a non-empty event type'],
    ['an empty cancelEvent', { machine, cancelEvent: '' }, '`cancelEvent` must be a non-empty event type'],
    ['a zero capacity', { machine, mailbox: { capacity: 0 } }, '`mailbox.capacity` must be an integer >= 1, got 0'],
    ['a fractional capacity', { machine, mailbox: { capacity: 1.5 } }, '`mailbox.capacity` must be an integer >= 1, got 1.5'],
    ['a capacity given as a string', { machine, mailbox: { capacity: '10' } }, '`mailbox.capacity` must be an integer >= 1, got 10'],
    ['a windowMs given as a string', { machine, supervision: { windowMs: '5' } }, '`supervision.windowMs` must be a positive number, got 5'],
    ['an initialMs given as a string', { machine, supervision: { backoff: { initialMs: '1' } } }, '`supervision.backoff.initialMs` must be a number >= 0, got 1'],
    ['a NaN initialMs', { machine, supervision: { backoff: { initialMs: NaN } } }, '`supervision.backoff.initialMs` must be a number >= 0, got NaN'],
    ['a zero defaultTimeoutMs', { machine, mailbox: { defaultTimeoutMs: 0 } }, '`mailbox.defaultTimeoutMs` must be a positive number, got 0'],
    ['a negative maxRestarts', { machine, supervision: { maxRestarts: -1 } }, '`supervision.maxRestarts` must be an integer >= 0, got -1'],
    ['a zero windowMs', { machine, supervision: { windowMs: 0 } }, '`supervision.windowMs` must be a positive number, got 0'],
    ['an infinite windowMs', { machine, supervision: { windowMs: Infinity } }, '`supervision.windowMs` must be a positive number, got Infinity'],
    ['a negative initialMs', { machine, supervision: { backoff: { initialMs: -1 } } }, '`supervision.backoff.initialMs` must be a number >= 0, got -1'],
    ['an infinite initialMs', { machine, supervision: { backoff: { initialMs: Infinity } } }, '`supervision.backoff.initialMs` must be a number >= 0, got Infinity'],
    ['a negative maxMs', { machine, supervision: { backoff: { maxMs: -1 } } }, '`supervision.backoff.maxMs` must be a number >= 0, got -1'],
    ['maxMs below initialMs', { machine, supervision: { backoff: { initialMs: 10, maxMs: 9 } } }, 'supervision.backoff.maxMs is below initialMs'],
    ['a zero factor', { machine, supervision: { backoff: { factor: 0 } } }, '`supervision.backoff.factor` must be a positive number, got 0'],
    ['a factor below 1 (a shrinking backoff)', { machine, supervision: { backoff: { factor: 0.5 } } }, 'supervision.backoff.factor must be >= 1'],
    ['a jitter above 1', { machine, supervision: { backoff: { jitter: 2 } } }, '`supervision.backoff.jitter` must be between 0 and 1, got 2'],
    ['a negative jitter', { machine, supervision: { backoff: { jitter: -0.1 } } }, '`supervision.backoff.jitter` must be between 0 and 1, got -0.1'],
    ['a jitter given as a string', { machine, supervision: { backoff: { jitter: '0.5' } } }, '`supervision.backoff.jitter` must be between 0 and 1, got 0.5'],
    ['a NaN jitter', { machine, supervision: { backoff: { jitter: NaN } } }, '`supervision.backoff.jitter` must be between 0 and 1, got NaN'],
    ['a negative idleAfterMs', { machine, idleAfterMs: -1 }, '`idleAfterMs` must be a positive number, got -1'],
    ['a negative replay', { machine, replay: -1 }, '`replay` must be an integer >= 0, got -1'],
    ['a zero maxActive', { machine, maxActive: 0 }, '`maxActive` must be an integer >= 1, got 0'],
    ['a view that is not a function', { machine, view: 5 }, '`view` must be a function'],
    ['an eventView that is not a function', { machine, eventView: {} }, '`eventView` must be a function'],
    ['a validate that is not a function', { machine, validate: 'no' }, '`validate` must be a function'],
    ['a restartInput that is not a function', { machine, supervision: { restartInput: 1 } }, '`supervision.restartInput` must be a function'],
  ])('refuses %s', (_what, config, why) => {
    expect(refusal('k', config)).toEqual(invalidKind('k', why));
  });

  it('refuses a kind name that is not lowercase kind syntax, naming the pattern', () => {
    expect(refusal('A', { machine })).toEqual(invalidKind('A', "its name must match /^[a-z][a-z0-9_-]*$/ (no '/')"));
  });
});

describe('compileKind accepts the values at each bound as given', () => {
  it('fills in every default', () => {
    const kind = compileKind('k', { machine });
    expect({
      capacity: kind.capacity,
      defaultTimeoutMs: kind.defaultTimeoutMs,
      maxRestarts: kind.maxRestarts,
      windowMs: kind.windowMs,
      backoff: kind.backoff,
      idleAfterMs: kind.idleAfterMs,
      replay: kind.replay,
      maxActive: kind.maxActive,
      answers: kind.answers,
    }).toEqual({
      capacity: 10_000,
      defaultTimeoutMs: undefined,
      maxRestarts: 5,
      windowMs: 60_000,
      backoff: { initialMs: 100, maxMs: 10_000, factor: 2, jitter: 0.2 },
      idleAfterMs: undefined,
      replay: 1024,
      maxActive: undefined,
      answers: undefined,
    });
  });

  it('keeps the answered types as given, an empty list (a machine that answers nothing) included', () => {
    expect([...compileKind('k', { machine, answers: ['get', 'inc'] }).answers!]).toEqual(['get', 'inc']);
    expect([...compileKind('k', { machine, answers: [] }).answers!]).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['the smallest integers', { mailbox: { capacity: 1 }, supervision: { maxRestarts: 0 }, replay: 0, maxActive: 1 }, { capacity: 1, maxRestarts: 0, replay: 0, maxActive: 1 }],
    [
      'a zero backoff (initialMs = maxMs = 0), factor 1 and no jitter',
      { supervision: { backoff: { initialMs: 0, maxMs: 0, factor: 1, jitter: 0 } } },
      { backoff: { initialMs: 0, maxMs: 0, factor: 1, jitter: 0 } },
    ],
    [
      'maxMs equal to initialMs and a full jitter',
      { supervision: { backoff: { initialMs: 50, maxMs: 50, jitter: 1 } } },
      { backoff: { initialMs: 50, maxMs: 50, factor: 2, jitter: 1 } },
    ],
    [
      'small positive durations',
      { mailbox: { defaultTimeoutMs: 0.5 }, supervision: { windowMs: 0.5 }, idleAfterMs: 0.5 },
      { defaultTimeoutMs: 0.5, windowMs: 0.5, idleAfterMs: 0.5 },
    ],
  ])('accepts %s', (_what, options, fields) => {
    const kind = compileKind('k', { machine, ...options }) as unknown as Record<string, unknown>;
    expect(Object.fromEntries(Object.keys(fields).map((f) => [f, kind[f]]))).toEqual(fields);
  });

  it('accepts any object shaped like a machine (transition, getInitialSnapshot, root), a root without config handling nothing', () => {
    const kind = compileKind('k', { machine: { transition: fn, getInitialSnapshot: fn, root: {} } });
    expect([...kind.publicEvents]).toEqual([]);
    expect(kind.hasStallStates).toBe(false);
  });
});

describe('compileKind reads the events a machine handles', () => {
  const wild = setup({}).createMachine({
    initial: 'idle',
    states: { idle: { on: { 'chat.*': {}, stop: {} } }, other: { on: { go: {} } } },
  });

  it.each([['chat.stop'], ['chat.x.y'], ['stop'], ['go']])("takes a partial wildcard 'chat.*' (or a plain type) as handling %j", (type) => {
    expect(refusal('k', { machine: wild, cancelEvent: type })).toBe('accepted');
    expect(refusal('k', { machine: wild, mailbox: { control: [type] } })).toBe('accepted');
    expect(refusal('k', { machine: wild, publicEvents: [type] })).toBe('accepted');
    expect(refusal('k', { machine: wild, answers: [type] })).toBe('accepted');
  });

  // 'cancel' and 'chat' share a first letter with 'chat.*', 'stone' the prefix 'sto' with 'stop': only
  // 'chat.' followed by something is a match.
  it.each([['cancel'], ['chat'], ['stone'], ['xchat.stop']])('refuses %j, which no state handles', (type) => {
    expect(refusal('k', { machine: wild, cancelEvent: type })).toEqual(invalidKind('k', `cancelEvent '${type}' is not handled by any state of the machine`));
    expect(refusal('k', { machine: wild, mailbox: { control: [type] } })).toEqual(
      invalidKind('k', `mailbox.control names '${type}', which no state of the machine handles`),
    );
    expect(refusal('k', { machine: wild, publicEvents: [type] })).toEqual(invalidKind('k', `publicEvents names '${type}', which no state of the machine handles`));
    expect(refusal('k', { machine: wild, answers: [type] })).toEqual(invalidKind('k', `answers names '${type}', which no state of the machine handles`));
  });

  it('makes public by default every concrete type some state handles, sorted: no wildcard, no reserved type', () => {
    const m = setup({}).createMachine({
      on: { '*': {}, 'chat.*': {}, zed: {}, '@tick': {}, 'xstate.custom': {} },
      initial: 'a',
      states: { a: { on: { go: {} } }, b: { on: { alpha: {} } } },
    });
    expect([...compileKind('k', { machine: m }).publicEvents]).toEqual(['alpha', 'go', 'zed']);
  });

  it('knows whether any state, however deep, declares meta.stallAfterMs', () => {
    const none = setup({}).createMachine({ initial: 'a', states: { a: {}, b: { initial: 'c', states: { c: {} } } } });
    const deep = setup({}).createMachine({
      initial: 'a',
      states: { a: {}, b: { initial: 'c', states: { c: {}, d: { meta: { stallAfterMs: 10 } } } } },
    });
    expect(compileKind('k', { machine: none }).hasStallStates).toBe(false);
    expect(compileKind('k', { machine: deep }).hasStallStates).toBe(true);
  });
});
