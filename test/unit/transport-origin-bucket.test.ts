import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/clock.js';
import { originAllowed } from '../../src/transport/origin.js';
import { TokenBucket } from '../../src/transport/TokenBucket.js';

describe('the Origin check of the WebSocket upgrade and the SSE stream', () => {
  const none = new Set<string>();

  it('allows a request without Origin, an allowlisted origin, and the server own origin whatever the Host header case', () => {
    expect(originAllowed(undefined, 'api.example:8080', none)).toBe(true);
    expect(originAllowed('https://app.example', 'api.example:8080', new Set(['https://app.example']))).toBe(true);
    expect(originAllowed('http://api.example:8080', 'api.example:8080', none)).toBe(true);
    // URL lowercases the origin's host; a Host header may arrive in any case.
    expect(originAllowed('http://API.example:8080', 'Api.Example:8080', none)).toBe(true);
  });

  it('refuses another origin, any origin when the request names no Host, and an Origin that is not a URL', () => {
    expect(originAllowed('https://evil.example', 'api.example:8080', none)).toBe(false);
    expect(originAllowed('http://api.example:8080', undefined, none)).toBe(false);
    expect(originAllowed('null', 'api.example:8080', none)).toBe(false);
  });
});

describe('the per-connection token bucket', () => {
  it('refills at perSecond from the instant of its last take, not from time 0', () => {
    const clock = new SimulatedClock(1_000);
    const bucket = new TokenBucket(2, 1, () => clock.now());
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    clock.advance(400); // 0.8 of a token
    expect(bucket.take()).toBe(false);
    clock.advance(100); // 1.0 tokens since the take at 1,000
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
  });

  it('takes no tokens away when a clock steps back (a wall clock may), and refills once it passes the last take again', () => {
    let now = 10_000;
    const bucket = new TokenBucket(1, 2, () => now);
    expect(bucket.take()).toBe(true);
    now = 9_000;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now = 11_000;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
  });
});
