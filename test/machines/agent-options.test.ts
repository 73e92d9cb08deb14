/**
 * agentMachine refuses bad options up front, with INTERLOCK_INVALID_CONFIG and a message
 * naming the option and the fix; and nextViable picks the next subscription off cooldown.
 */
import { describe, expect, it } from 'vitest';
import { agentMachine, nextViable, type AgentOptions } from '../../machines/index.js';

const base: AgentOptions = { subscriptions: [{ id: 'A' }, { id: 'B' }], handle: async () => 'x', restart: async () => {} };

const refusal = (overrides: Record<string, unknown>) => {
  try {
    agentMachine({ ...base, ...overrides } as AgentOptions);
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  return 'accepted';
};

describe('agentMachine options', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['no subscriptions', { subscriptions: undefined }, '`subscriptions` must list at least one subscription'],
    ['an empty subscription list', { subscriptions: [] }, '`subscriptions` must list at least one subscription'],
    ['an empty id', { subscriptions: [{ id: '' }] }, 'every subscription needs a non-empty string `id`'],
    ['a numeric id', { subscriptions: [{ id: 5 }] }, 'every subscription needs a non-empty string `id`'],
    ['one bad id after a good one', { subscriptions: [{ id: 'A' }, { id: '' }] }, 'every subscription needs a non-empty string `id`'],
    ['duplicate ids', { subscriptions: [{ id: 'A' }, { id: 'B' }, { id: 'A' }] }, 'subscription ids must be unique (got A, B, A)'],
    ...(['cooldownMs', 'restartTimeoutMs', 'restartBackoffMs', 'cancelDeadlineMs'] as const).flatMap((k): [string, Record<string, unknown>, string][] => [
      [`${k} 0`, { [k]: 0 }, `\`${k}\` must be a positive number, got 0`],
      [`${k} -1`, { [k]: -1 }, `\`${k}\` must be a positive number, got -1`],
      [`${k} as a string`, { [k]: '5' }, `\`${k}\` must be a positive number, got 5`],
    ]),
    ['restartAttempts 0', { restartAttempts: 0 }, '`restartAttempts` must be an integer >= 1, got 0'],
    ['restartAttempts 1.5', { restartAttempts: 1.5 }, '`restartAttempts` must be an integer >= 1, got 1.5'],
  ])('refuses %s with INTERLOCK_INVALID_CONFIG naming the option', (_, overrides, why) => {
    expect(refusal(overrides)).toEqual({ code: 'INTERLOCK_INVALID_CONFIG', message: `Invalid agentMachine options: ${why}.` });
  });

  it.each<[string, Record<string, unknown>]>([
    ['one subscription', { subscriptions: [{ id: 'A' }] }],
    ['the smallest positive durations', { cooldownMs: 1, restartTimeoutMs: 0.5, restartBackoffMs: 1, cancelDeadlineMs: 1 }],
    ['a single restart attempt', { restartAttempts: 1 }],
  ])('accepts %s', (_, overrides) => {
    expect(refusal(overrides)).toBe('accepted');
  });
});

describe('nextViable', () => {
  const ctx = (current: number, cooldowns: Record<string, number>) => ({ subscriptions: ['A', 'B', 'C'], current, cooldowns });

  it('takes the next subscription in order, wrapping, skipping one still on cooldown', () => {
    expect(nextViable(ctx(0, {}), 50)).toBe(1);
    expect(nextViable(ctx(2, {}), 50)).toBe(0);
    expect(nextViable(ctx(0, { B: 100 }), 50)).toBe(2);
    expect(nextViable(ctx(1, { C: 51 }), 50)).toBe(0);
  });

  it('takes a subscription whose cooldown ends exactly now, or has ended', () => {
    expect(nextViable(ctx(0, { B: 50 }), 50)).toBe(1);
    expect(nextViable(ctx(0, { B: 49 }), 50)).toBe(1);
  });

  it('never offers the current subscription back: undefined when every other one is on cooldown', () => {
    expect(nextViable(ctx(0, { B: 100, C: 100 }), 50)).toBeUndefined();
    expect(nextViable({ subscriptions: ['A'], current: 0, cooldowns: {} }, 50)).toBeUndefined();
  });
});
