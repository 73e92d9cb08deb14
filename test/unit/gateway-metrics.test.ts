/**
 * `GET /metrics`'s exposition, from createMetrics alone: every runtime figure under its
 * name, help and type, per kind, read from `runtime.stats()` at scrape time (once per
 * scrape, not once per metric); the latency histograms cumulative, in seconds; the
 * counters the machines' emitted events feed; and the chat counters. The runtime here is
 * a stand-in whose stats the test chooses (distinct numbers, so a figure under the wrong
 * name shows); the real runtime's figures behind /metrics: test/gateway/surface.
 */
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../../src/gateway/metrics.js';
import type { BusRecord } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import type { KindStatsSnapshot } from '../../src/runtime/stats.js';

afterEach(() => void vi.useRealTimers());

function kindStats(kind: string, base: number, wait = [2, 3, 1], processing = [0, 1, 4]): KindStatsSnapshot {
  return {
    kind,
    active: base + 1,
    depth: base + 2,
    postponed: base + 3,
    inFlight: base + 4,
    refused: base + 5,
    enqueued: base + 6,
    delivered: base + 7,
    rejected: base + 8,
    replied: base + 9,
    restarts: base + 10,
    stalls: base + 11,
    failures: base + 12,
    activations: base + 13,
    passivations: base + 14,
    // Buckets in ms, one more count for +Inf (by default: 2 under 1 ms, 3 under 250 ms, 1 above).
    waitMs: { buckets: [1, 250], counts: wait, sum: 1_500 + base, count: wait[0]! + wait[1]! + wait[2]!, max: 900 },
    processingMs: { buckets: [1, 250], counts: processing, sum: 20_000 + base, count: processing[0]! + processing[1]! + processing[2]!, max: 9_000 },
  };
}

function standIn(kinds: KindStatsSnapshot[]) {
  const events$ = new Subject<BusRecord>();
  let scrapes = 0;
  const runtime = {
    events$,
    stats: (options?: { addresses?: boolean }) => {
      scrapes++;
      expect(options).toEqual({ addresses: false }); // per-address figures are never built for a scrape
      return { kinds, addresses: [] };
    },
  } as unknown as Runtime;
  return { runtime, events$, statsCalls: () => scrapes };
}

const emitted = (address: string, event: Record<string, unknown>): BusRecord =>
  ({ address, epoch: 1, seq: 1, ts: 0, type: 'emitted', data: { event } }) as BusRecord;

describe('createMetrics', () => {
  it('exposes every runtime figure per kind under its name, help and type, and the histograms cumulative in seconds', async () => {
    const { runtime } = standIn([kindStats('a', 0), kindStats('b', 100, [4, 0, 2], [1, 2, 3])]);
    const metrics = createMetrics(runtime, { defaultMetrics: false });
    const text = await metrics.registry.metrics();
    const block = (name: string, help: string, type: string, a: number, b: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}{kind="a"} ${a}\n${name}{kind="b"} ${b}\n`;
    const hist = (name: string, help: string, [a1, a2, a3, aSum]: number[], [b1, b2, b3, bSum]: number[]) =>
      [
        `# HELP ${name} ${help}`,
        `# TYPE ${name} histogram`,
        `${name}_bucket{kind="a",le="0.001"} ${a1}`,
        `${name}_bucket{kind="a",le="0.25"} ${a2}`,
        `${name}_bucket{kind="a",le="+Inf"} ${a3}`,
        `${name}_sum{kind="a"} ${aSum}`,
        `${name}_count{kind="a"} ${a3}`,
        `${name}_bucket{kind="b",le="0.001"} ${b1}`,
        `${name}_bucket{kind="b",le="0.25"} ${b2}`,
        `${name}_bucket{kind="b",le="+Inf"} ${b3}`,
        `${name}_sum{kind="b"} ${bSum}`,
        `${name}_count{kind="b"} ${b3}`,
        '',
      ].join('\n');
    const expected = [
      block('interlock_mailbox_depth', 'Envelopes queued and postponed, per kind.', 'gauge', 2, 102),
      block('interlock_mailbox_postponed', 'Envelopes postponed, per kind.', 'gauge', 3, 103),
      block('interlock_in_flight', 'Requests being processed, per kind.', 'gauge', 4, 104),
      block('interlock_active_actors', 'Live (activated) actors, per kind.', 'gauge', 1, 101),
      block('interlock_restarts_total', 'Supervisor restarts, per kind.', 'counter', 10, 110),
      block('interlock_stalls_total', 'Stalls detected (no progress past meta.stallAfterMs), per kind.', 'counter', 11, 111),
      block('interlock_failures_total', 'Actors failed (restart budget exhausted), per kind.', 'counter', 12, 112),
      block('interlock_envelopes_rejected_total', 'Envelopes rejected after enqueue (deadline, cancel, stop), per kind.', 'counter', 8, 108),
      block('interlock_envelopes_refused_total', 'Sends refused at the door (mailbox full), per kind.', 'counter', 5, 105),
      block('interlock_passivations_total', 'Idle actors passivated, per kind.', 'counter', 14, 114),
      // Cumulative: 2, 2 + 3, and the +Inf bucket is the count; ms become seconds.
      hist('interlock_wait_seconds', 'Time from enqueue to delivery, per kind.', [2, 5, 6, 1.5], [4, 4, 6, 1.6]),
      hist('interlock_processing_seconds', 'Time from delivery to answer, per kind.', [0, 1, 5, 20], [1, 3, 6, 20.1]),
      '# HELP interlock_supersessions_total Streams interrupted or prompts superseded by a newer prompt.\n# TYPE interlock_supersessions_total counter\ninterlock_supersessions_total 0\n',
      '# HELP interlock_streams_fenced_total Cancelled streams fenced at their cleanup deadline.\n# TYPE interlock_streams_fenced_total counter\ninterlock_streams_fenced_total 0\n',
      '# HELP interlock_stale_failures_dropped_total Failure reports and stream results of an old epoch/generation, dropped.\n# TYPE interlock_stale_failures_dropped_total counter\n',
      '# HELP interlock_chat_requests_total Chat completion requests, by final status.\n# TYPE interlock_chat_requests_total counter\n',
      '# HELP interlock_chat_requests_started_total Chat completion requests accepted.\n# TYPE interlock_chat_requests_started_total counter\ninterlock_chat_requests_started_total 0\n',
    ].join('\n');
    expect(text).toBe(expected);
    metrics.close();
  });

  it('reads the runtime once per scrape, and again for a scrape more than 50 ms later', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { runtime, statsCalls } = standIn([kindStats('a', 0)]);
    const metrics = createMetrics(runtime, { defaultMetrics: false });
    await metrics.registry.metrics(); // twelve metrics read the runtime's figures
    expect(statsCalls()).toBe(1);
    vi.advanceTimersByTime(50);
    await metrics.registry.metrics();
    expect(statsCalls()).toBe(1); // 50 ms later: the same scrape's figures
    vi.advanceTimersByTime(1);
    await metrics.registry.metrics();
    expect(statsCalls()).toBe(2);
    await metrics.registry.metrics();
    expect(statsCalls()).toBe(2);
    metrics.close();
  });

  it("counts what the machines' emitted events report, from any caller, and nothing else; close() stops counting", async () => {
    const { runtime, events$ } = standIn([]);
    const metrics = createMetrics(runtime, { defaultMetrics: false });
    const value = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);
    events$.next(emitted('session/1', { type: 'stream.fenced', gen: 1 }));
    events$.next(emitted('session/1', { type: 'stream.end', reason: 'interrupted' }));
    events$.next(emitted('session/1', { type: 'stream.end', reason: 'done' }));
    events$.next(emitted('session/1', { type: 'stream.end', reason: 'cancelled' }));
    events$.next(emitted('session/1', { type: 'prompt.dropped', reason: 'superseded' }));
    events$.next(emitted('session/1', { type: 'prompt.dropped', reason: 'cancelled' }));
    events$.next(emitted('session/1', { type: 'prompt.dropped', reason: 'disconnected' }));
    events$.next(emitted('agent/x', { type: 'failure.stale' }));
    events$.next(emitted('session/2', { type: 'stream.stale' }));
    events$.next(emitted('session/3', { type: 'stream.stale' }));
    events$.next(emitted('session/3', { type: 'chunk', text: 'x' }));
    events$.next(emitted('session/3', {}));
    events$.next({ ...emitted('session/3', {}), data: {} } as BusRecord); // no event at all
    // Not an emitted event: a record of another type whose data looks like one.
    events$.next({ ...emitted('session/4', { type: 'stream.fenced' }), type: 'snapshot' } as BusRecord);
    metrics.chatStarted();
    metrics.chatStarted();
    metrics.chatEnded(200);
    metrics.chatEnded(409);
    metrics.chatEnded(200);
    expect({
      fenced: await value('interlock_streams_fenced_total'),
      supersessions: await value('interlock_supersessions_total'),
      stale: await value('interlock_stale_failures_dropped_total'),
      started: await value('interlock_chat_requests_started_total'),
      chats: await value('interlock_chat_requests_total'),
    }).toEqual({
      fenced: [[{}, 1]],
      supersessions: [[{}, 2]],
      stale: [
        [{ kind: 'agent' }, 1],
        [{ kind: 'session' }, 2],
      ],
      started: [[{}, 2]],
      chats: [
        [{ status: '200' }, 2],
        [{ status: '409' }, 1],
      ],
    });
    metrics.close();
    events$.next(emitted('session/1', { type: 'stream.fenced', gen: 2 }));
    expect(await value('interlock_streams_fenced_total')).toEqual([[{}, 1]]);
  });

  it("includes Node's default process metrics unless told not to", async () => {
    const on = createMetrics(standIn([]).runtime);
    const off = createMetrics(standIn([]).runtime, { defaultMetrics: false });
    expect(await on.registry.metrics()).toContain('process_cpu_user_seconds_total');
    expect(await off.registry.metrics()).not.toContain('process_cpu_user_seconds_total');
    on.close();
    off.close();
  });
});
