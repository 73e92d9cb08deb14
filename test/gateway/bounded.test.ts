/**
 * Bounded by design: a client inventing session ids or actor keys cannot grow the server
 * without bound. Live sessions are capped (503 + retry-after), idle ones passivate and
 * free their place, passivated snapshots live in a bounded store, per-request sessions
 * are cleaned up after their response.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { boundedMemoryStore } from '../../src/gateway/boundedStore.js';
import { waitUntil } from '../fixtures/upstream.js';
import { closeAll, MODEL, startGateway } from './helpers.js';

afterEach(closeAll);

const post = (url: string, session: string | undefined, content = 'hi') =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session === undefined ? {} : { 'x-session-id': session }) },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }] }),
  });

describe('bounded memory', { timeout: 30_000 }, () => {
  it('answers 503 INTERLOCK_ACTOR_LIMIT with retry-after at maxActive live sessions; a passivated session frees its place', async () => {
    const gw = await startGateway({ session: { maxActive: 3, idleAfterMs: 1_500 }, logLevel: 'warn' });
    expect((await Promise.all(['a', 'b', 'c'].map((s) => post(gw.url, s)))).map((r) => r.status)).toEqual([200, 200, 200]);
    const refused = await post(gw.url, 'd');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_ACTOR_LIMIT');
    // Nothing was activated for the refused one.
    expect(gw.rt.addresses('session').sort()).toEqual(['session/a', 'session/b', 'session/c']);

    await waitUntil(() => gw.rt.addresses('session').length === 0, 'idle sessions passivated');
    expect((await post(gw.url, 'd')).status).toBe(200);
    // A passivated session comes back with its conversation (from the store).
    expect((await post(gw.url, 'a', 'again')).status).toBe(200);
    expect(gw.rt.view('session/a')?.context).toMatchObject({ messages: 4 });
  });

  it('cleans up a per-request session (no X-Session-Id) after its response', async () => {
    const gw = await startGateway({ logLevel: 'warn' });
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(gw.url, undefined)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    await waitUntil(() => gw.rt.addresses('session').length === 0, 'every per-request session is gone');
  });

  it('keeps at most max snapshots, least recently used evicted first', () => {
    const store = boundedMemoryStore(3);
    for (const k of ['a', 'b', 'c']) store.save(`session/${k}`, { k });
    expect(store.load('session/a')).toEqual({ k: 'a' }); // a is now the most recent
    store.save('session/d', { k: 'd' });
    expect(store.size).toBe(3);
    expect(store.evicted).toBe(1);
    expect(store.load('session/b')).toBeUndefined();
    expect(store.load('session/a')).toEqual({ k: 'a' });
    for (let i = 0; i < 100_000; i++) store.save(`session/x${i}`, i);
    expect(store.size).toBe(3);
  });

  it('refuses keys that are too long or odd before anything is activated', async () => {
    const gw = await startGateway({ logLevel: 'warn' });
    for (const id of ['k'.repeat(129), 'has space', '../etc', '-dash-first', 'ünï']) {
      const res = await fetch(`${gw.url}/v1/actors/session/${encodeURIComponent(id)}/tell`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event: { type: 'prompt', text: 'x' } }),
      });
      expect(res.status, id).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code, id).toBe('INTERLOCK_INVALID_ADDRESS');
    }
    expect(gw.rt.addresses()).toEqual([]);
  });
});
