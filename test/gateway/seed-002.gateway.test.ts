/**
 * Seed 002's test plan, tests 1–5, end to end: HTTP clients (like the seed's curls) →
 * the gateway → session actors → the real `openAICompatible` provider → the real-HTTP
 * upstream fixture. Each test asserts the log sequence the seed expects (in the
 * gateway's pino lines) and, through the gateway's write tap (`chunkChannel`), that no
 * chunk of an interrupted stream is written to any client after the next stream's first
 * chunk. No test asserts a duration; the only fixed delays are the seed's own triggers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Provider } from '../../src/providers/types.js';
import { upstreamTokens, waitUntil } from '../fixtures/upstream.js';
import { ignoringAbort } from '../scenarios/helpers-002.js';
import { closeWorlds, Curl, world, type Written } from './streams.js';

afterEach(closeWorlds);

/** No chunk of `earlier` is written after the first chunk of `later` (to any client). */
function expectNoLateChunks(written: Written[], earlier: string, later: string): void {
  const firstLater = written.findIndex((w) => w.trace === later);
  expect(firstLater, 'the later stream wrote chunks').toBeGreaterThanOrEqual(0);
  expect(written.slice(firstLater).filter((w) => w.trace === earlier)).toEqual([]);
}

describe('seed 002 through the gateway, against a real HTTP model server', { timeout: 30_000 }, () => {
  it('test 1: a normal stream streams every token and logs stream_start, stream_end', async () => {
    const w = await world();
    w.tracing.plan('S:Hello', { tokens: 8 });
    const a = new Curl(w.gw.url, 'S:Hello', 'S');
    await a.ended;
    expect(a.status).toBe(200);
    expect(a.contents).toEqual(upstreamTokens(8));
    expect(a.outcome()).toBe('done');
    expect(w.gw.vocabulary('S', { A: a.trace })).toEqual(['stream_start A', 'stream_end A reason=done']);
    expect(w.upstream.completed).toBe(1);
    expect(w.upstream.clientAborts).toBe(0);
  });

  it('test 2: the user stops a stream (the curl is killed): stream_cancelled reason=client_disconnect, the upstream socket closes', async () => {
    const w = await world();
    w.tracing.plan('S:Write a very long poem', { tokens: 200, delayMs: 10 });
    const a = new Curl(w.gw.url, 'S:Write a very long poem', 'S');
    await a.firstChunk;
    a.kill();
    await a.ended;
    await waitUntil(() => w.gw.rt.view('session/S')?.state === 'idle', 'the session is idle again');
    await waitUntil(() => w.upstream.busySockets() === 0, 'the upstream connection closed');
    expect(w.upstream.clientAborts).toBe(1);
    expect(w.upstream.completed).toBe(0);
    expect(w.gw.vocabulary('S', { A: a.trace })).toEqual(['stream_start A', 'stream_cancelled A reason=client_disconnect', 'stream_end A reason=client_disconnect']);
    expect(w.tracing.lines('S')).toEqual(['open S:Write a very long poem', 'release S:Write a very long poem']);
  });

  it('test 3 (the critical test): prompt B while A streams — A is cancelled, cleaned up, then B streams; never two upstream requests', async () => {
    const w = await world();
    w.tracing.plan('S:A', { tokens: 200, delayMs: 10 });
    w.tracing.plan('S:B', { tokens: 6, delayMs: 5 });
    const a = new Curl(w.gw.url, 'S:A', 'S');
    await a.firstChunk; // A is streaming (200 tokens, 10 ms apart) when B arrives
    const b = new Curl(w.gw.url, 'S:B', 'S');
    await Promise.all([a.ended, b.ended]);

    expect(a.outcome()).toBe('INTERLOCK_SUPERSEDED');
    expect(a.done).toBe(true);
    expect(b.outcome()).toBe('done');
    expect(b.contents).toEqual(upstreamTokens(6));
    expect(w.gw.vocabulary('S', { A: a.trace, B: b.trace })).toEqual([
      'stream_start A',
      'stream_cancelled A reason=new_stream',
      'prev_stream_finished_cleanly A',
      'stream_end A reason=interrupted',
      'stream_start B',
      'stream_end B reason=done',
    ]);
    expectNoLateChunks(w.written, a.trace, b.trace);
    expect(w.tracing.lines('S')).toEqual(['open S:A', 'release S:A', 'open S:B', 'release S:B']);
    await waitUntil(() => w.upstream.busySockets() === 0, 'no exchange busy upstream');
    expect(w.upstream.clientAborts).toBe(1);
    expect(w.upstream.completed).toBe(1);
    const metrics = await (await fetch(`${w.gw.url}/metrics`)).text();
    expect(metrics).toMatch(/^interlock_supersessions_total 1$/m);
    expect(metrics).toMatch(/^interlock_streams_fenced_total 0$/m);
  });

  it('test 3, with a model call that ignores the abort (the seed\'s blocking Ollama call): A is fenced at the cleanup deadline, B streams, none of A\'s late chunks reaches anyone', async () => {
    let wrapper!: Provider & { yieldedAfterAbort: number };
    const w = await world({ cleanupDeadlineMs: 200, wrap: (p) => (wrapper = ignoringAbort(p)) });
    // The upstream keeps writing after its client leaves, and the client does not leave.
    w.tracing.plan('S:A', { behaviour: 'ignoreAbort', tokens: 60, delayMs: 10 });
    w.tracing.plan('S:B', { tokens: 6, delayMs: 5 });
    const a = new Curl(w.gw.url, 'S:A', 'S');
    await a.firstChunk; // A is streaming (60 tokens, 10 ms apart) when B arrives
    const b = new Curl(w.gw.url, 'S:B', 'S');
    await Promise.all([a.ended, b.ended]);

    expect(a.outcome()).toBe('INTERLOCK_CANCELLED');
    expect(b.outcome()).toBe('done');
    expect(b.contents).toEqual(upstreamTokens(6));
    expect(w.gw.vocabulary('S', { A: a.trace, B: b.trace })).toEqual([
      'stream_start A',
      'stream_fenced A',
      'stream_end A reason=fenced',
      'stream_start B',
      'stream_end B reason=done',
    ]);
    expectNoLateChunks(w.written, a.trace, b.trace);
    // A really kept producing after its abort: the fence, not politeness, kept it out.
    await waitUntil(() => wrapper.yieldedAfterAbort > 0, "A's call kept yielding after the abort");
    await waitUntil(() => w.upstream.busySockets() === 0, 'A finally ended upstream');
    expect(await (await fetch(`${w.gw.url}/metrics`)).text()).toMatch(/^interlock_streams_fenced_total 1$/m);
  });

  it('test 4: five prompts in a row on one session, each sent once the one before streams — each request ends exactly once, only the last completes, no hang', async () => {
    const w = await world();
    const prompts = ['S:P1', 'S:P2', 'S:P3', 'S:P4', 'S:P5'];
    for (const p of prompts.slice(0, 4)) w.tracing.plan(p, { tokens: 200, delayMs: 10 });
    w.tracing.plan('S:P5', { tokens: 6, delayMs: 5 });
    const curls: Curl[] = [];
    for (const [i, p] of prompts.entries()) {
      // The seed sent them 50 ms apart; here each goes once the previous one streams (no sleep).
      if (i > 0) await curls[i - 1]!.firstChunk;
      curls.push(new Curl(w.gw.url, p, 'S'));
    }
    await Promise.all(curls.map((c) => c.ended));
    const outcomes = curls.map((c) => c.outcome());
    expect(outcomes.at(-1)).toBe('done');
    for (const o of outcomes.slice(0, 4)) expect(o).toBe('INTERLOCK_SUPERSEDED');
    expect(curls[4]!.contents).toEqual(upstreamTokens(6));
    // Never two model requests of the session open at once.
    expect(w.tracing.maxOpen('S')).toBe(1);
    for (let i = 0; i < 4; i++) if (curls[i]!.contents.length > 0) expectNoLateChunks(w.written, curls[i]!.trace, curls[4]!.trace);
    const ends = w.gw.logs.filter((l) => l.msg === 'stream_end' && l.session === 'S');
    expect(ends.filter((l) => l.reason === 'done')).toHaveLength(1);
  });

  it('test 4 as the seed wrote it: five prompts in a row without a session id all complete (a fresh session each, cleaned up after)', async () => {
    const w = await world();
    const curls: Curl[] = [];
    for (let i = 1; i <= 5; i++) curls.push(new Curl(w.gw.url, `anon:Prompt ${i}`));
    await Promise.all(curls.map((c) => c.ended));
    expect(curls.map((c) => c.outcome())).toEqual(['done', 'done', 'done', 'done', 'done']);
    await waitUntil(() => w.gw.rt.addresses('session').length === 0, 'every per-request session was passivated');
  });

  it('test 5: two sessions — B on session 1 interrupts only session 1; session 2 streams to completion', async () => {
    const w = await world();
    w.tracing.plan('S1:A', { tokens: 200, delayMs: 10 });
    w.tracing.plan('S2:A', { tokens: 30, delayMs: 10 });
    w.tracing.plan('S1:B', { tokens: 6, delayMs: 5 });
    const s1a = new Curl(w.gw.url, 'S1:A', 'S1');
    const s2a = new Curl(w.gw.url, 'S2:A', 'S2');
    await Promise.all([s1a.firstChunk, s2a.firstChunk]);
    const s1b = new Curl(w.gw.url, 'S1:B', 'S1');
    await Promise.all([s1a.ended, s2a.ended, s1b.ended]);

    expect(s1a.outcome()).toBe('INTERLOCK_SUPERSEDED');
    expect(s1b.outcome()).toBe('done');
    expect(s2a.outcome()).toBe('done');
    expect(s2a.contents).toEqual(upstreamTokens(30));
    expect(w.gw.vocabulary('S2', { A: s2a.trace })).toEqual(['stream_start A', 'stream_end A reason=done']);
    expect(w.gw.vocabulary('S1', { A: s1a.trace, B: s1b.trace })).toEqual([
      'stream_start A',
      'stream_cancelled A reason=new_stream',
      'prev_stream_finished_cleanly A',
      'stream_end A reason=interrupted',
      'stream_start B',
      'stream_end B reason=done',
    ]);
    expectNoLateChunks(w.written, s1a.trace, s1b.trace);
    expect(w.tracing.maxOpen('S1')).toBe(1);
  });
});
