import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { resolveOptions, type WebSocketOptions } from '../../src/transport/options.js';

/**
 * Every way the WebSocket server refuses its options: INTERLOCK_INVALID_CONFIG with the
 * whole message (which option, what it must be, what was given), never a TypeError from
 * reading into a bad value; and the defaults, exactly.
 */
describe('WebSocket options at attachWebSocket', () => {
  const refusal = (why: string) => expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG', message: `Invalid WebSocket options: ${why}.` });
  const ORIGINS = '`origins` must be an array of exact origins such as https://app.example (no wildcards)';
  const KNOWN =
    'path, token, authenticate, authorize, origins, initTimeoutMs, heartbeatMs, maxPayload, maxFragments, maxBufferedChunks, ' +
    'rateLimit, maxSubscriptions, highWaterBytes, hardLimitBytes, askTimeoutMs, closeTimeoutMs, maxBatchBytes, clock, logger';
  const counts = [
    'initTimeoutMs',
    'heartbeatMs',
    'maxPayload',
    'maxFragments',
    'maxBufferedChunks',
    'maxSubscriptions',
    'highWaterBytes',
    'hardLimitBytes',
    'askTimeoutMs',
    'closeTimeoutMs',
    'maxBatchBytes',
  ] as const;

  const cases: [string, unknown, string][] = [
    ['an unknown option', { maxFrames: 3 }, `unknown option 'maxFrames' (known: ${KNOWN})`],
    ['a path without a leading slash', { path: 'ws' }, "`path` must start with '/', got ws"],
    ['a path that is not a string', { path: 5 }, "`path` must start with '/', got 5"],
    ['origins that are not an array', { origins: 'https://app.example' }, ORIGINS],
    ['an origin that is not a string', { origins: ['https://app.example', 5] }, ORIGINS],
    ['a wildcard origin among exact ones', { origins: ['https://app.example', 'https://*.example'] }, ORIGINS],
    ['a bare wildcard origin', { origins: ['*'] }, ORIGINS],
    ['an authenticate that is not a function', { authenticate: 'secret' }, '`authenticate` must be a function'],
    ['an authorize that is not a function', { authorize: true }, '`authorize` must be a function'],
    ['a rateLimit.perSecond of 0', { rateLimit: { perSecond: 0, burst: 1 } }, '`rateLimit.perSecond` must be an integer >= 1, got 0'],
    ['a fractional rateLimit.burst', { rateLimit: { perSecond: 1, burst: 0.5 } }, '`rateLimit.burst` must be an integer >= 1, got 0.5'],
    ['a rateLimit without burst', { rateLimit: { perSecond: 10 } }, '`rateLimit.burst` must be an integer >= 1, got undefined'],
    ['a rateLimit without perSecond', { rateLimit: { burst: 10 } }, '`rateLimit.perSecond` must be an integer >= 1, got undefined'],
    ['a null rateLimit', { rateLimit: null }, '`rateLimit` must be { perSecond, burst } or false, got null'],
    ['a rateLimit of true', { rateLimit: true }, '`rateLimit` must be { perSecond, burst } or false, got true'],
    ['a hardLimitBytes below highWaterBytes', { highWaterBytes: 10, hardLimitBytes: 9 }, '`hardLimitBytes` must be >= `highWaterBytes`'],
    ...counts.flatMap((name): [string, unknown, string][] => [
      [`${name} 0`, { [name]: 0 }, `\`${name}\` must be an integer >= 1, got 0`],
      [`a fractional ${name}`, { [name]: 1.5 }, `\`${name}\` must be an integer >= 1, got 1.5`],
      [`${name} as a string`, { [name]: '5' }, `\`${name}\` must be an integer >= 1, got 5`],
    ]),
  ];
  it.each(cases)('refuses %s, naming the option and what it must be', (_, options, why) => {
    expect(() => resolveOptions(options as WebSocketOptions)).toThrow(refusal(why));
  });

  it('fills in every default: /ws, same origin only, 100 frames/s with a burst of 200, 4 MiB and 16 MiB of unsent bytes', () => {
    expect(resolveOptions({})).toEqual({
      path: '/ws',
      origins: new Set(),
      initTimeoutMs: 3_000,
      heartbeatMs: 15_000,
      maxPayload: 64 * 1024,
      maxFragments: 128,
      maxBufferedChunks: 1_024,
      rate: { perSecond: 100, burst: 200 },
      maxSubscriptions: 100,
      highWaterBytes: 4 * 1024 * 1024,
      hardLimitBytes: 16 * 1024 * 1024,
      askTimeoutMs: 30_000,
      closeTimeoutMs: 5_000,
      maxBatchBytes: 64 * 1024,
      clock: systemClock,
      logger: expect.objectContaining({ info: expect.any(Function), warn: expect.any(Function), error: expect.any(Function) }),
    });
  });

  it('accepts every limit at its least value, 1, hardLimitBytes equal to highWaterBytes, and no rate limit', () => {
    const least = Object.fromEntries(counts.map((name) => [name, 1]));
    const limits = resolveOptions({ ...least, path: '/', origins: ['https://app.example'], rateLimit: { perSecond: 1, burst: 1 } });
    for (const name of counts) expect(limits[name]).toBe(1);
    expect(limits.path).toBe('/');
    expect(limits.origins).toEqual(new Set(['https://app.example']));
    expect(limits.rate).toEqual({ perSecond: 1, burst: 1 });
    expect(resolveOptions({ rateLimit: false }).rate).toBeUndefined();
    expect(resolveOptions({ highWaterBytes: 10, hardLimitBytes: 10 })).toMatchObject({ highWaterBytes: 10, hardLimitBytes: 10 });
  });
});
