/**
 * `GET /metrics` with prom-client, on a registry of the gateway's own (two gateways in
 * one process do not collide). Runtime figures are read from `runtime.stats()` at scrape
 * time; supersessions, fenced streams and stale failures are counted from the bus.
 */
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { Runtime } from '../runtime/Runtime.js';
import type { HistogramSnapshot, KindStatsSnapshot } from '../runtime/stats.js';

export interface GatewayMetrics {
  readonly registry: Registry;
  chatStarted(): void;
  chatEnded(status: number): void;
  close(): void;
}

type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

/** A metric whose samples are computed at scrape time (prom-client calls `get()`). */
function snapshotMetric(registry: Registry, name: string, help: string, type: 'gauge' | 'counter' | 'histogram', values: () => Sample[]): void {
  registry.registerMetric({
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset: () => undefined,
  } as never);
}

function histogram(name: string, kind: string, h: HistogramSnapshot): Sample[] {
  const out: Sample[] = [];
  let cumulative = 0;
  h.buckets.forEach((le, i) => {
    cumulative += h.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { kind, le: le / 1000 }, value: cumulative });
  });
  out.push({ metricName: `${name}_bucket`, labels: { kind, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels: { kind }, value: h.sum / 1000 });
  out.push({ metricName: `${name}_count`, labels: { kind }, value: h.count });
  return out;
}

export function createMetrics(runtime: Runtime, options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  let cached: { at: number; kinds: KindStatsSnapshot[] } | undefined;
  // One stats() call per scrape, shared by every metric below.
  const kinds = (): KindStatsSnapshot[] => {
    const now = Date.now();
    if (!cached || now - cached.at > 50) cached = { at: now, kinds: runtime.stats({ addresses: false }).kinds };
    return cached.kinds;
  };
  const perKind = (pick: (k: KindStatsSnapshot) => number) => () => kinds().map((k) => ({ labels: { kind: k.kind }, value: pick(k) }));

  snapshotMetric(registry, 'interlock_mailbox_depth', 'Envelopes queued and postponed, per kind.', 'gauge', perKind((k) => k.depth));
  snapshotMetric(registry, 'interlock_mailbox_postponed', 'Envelopes postponed, per kind.', 'gauge', perKind((k) => k.postponed));
  snapshotMetric(registry, 'interlock_in_flight', 'Requests being processed, per kind.', 'gauge', perKind((k) => k.inFlight));
  snapshotMetric(registry, 'interlock_active_actors', 'Live (activated) actors, per kind.', 'gauge', perKind((k) => k.active));
  snapshotMetric(registry, 'interlock_restarts_total', 'Supervisor restarts, per kind.', 'counter', perKind((k) => k.restarts));
  snapshotMetric(registry, 'interlock_stalls_total', 'Stalls detected (no progress past meta.stallAfterMs), per kind.', 'counter', perKind((k) => k.stalls));
  snapshotMetric(registry, 'interlock_failures_total', 'Actors failed (restart budget exhausted), per kind.', 'counter', perKind((k) => k.failures));
  snapshotMetric(registry, 'interlock_envelopes_rejected_total', 'Envelopes rejected after enqueue (deadline, cancel, stop), per kind.', 'counter', perKind((k) => k.rejected));
  snapshotMetric(registry, 'interlock_envelopes_refused_total', 'Sends refused at the door (mailbox full), per kind.', 'counter', perKind((k) => k.refused));
  snapshotMetric(registry, 'interlock_passivations_total', 'Idle actors passivated, per kind.', 'counter', perKind((k) => k.passivations));
  snapshotMetric(registry, 'interlock_wait_seconds', 'Time from enqueue to delivery, per kind.', 'histogram', () =>
    kinds().flatMap((k) => histogram('interlock_wait_seconds', k.kind, k.waitMs)),
  );
  snapshotMetric(registry, 'interlock_processing_seconds', 'Time from delivery to answer, per kind.', 'histogram', () =>
    kinds().flatMap((k) => histogram('interlock_processing_seconds', k.kind, k.processingMs)),
  );

  const supersessions = new Counter({ name: 'interlock_supersessions_total', help: 'Streams interrupted or prompts superseded by a newer prompt.', registers: [registry] });
  const fenced = new Counter({ name: 'interlock_streams_fenced_total', help: 'Cancelled streams fenced at their cleanup deadline.', registers: [registry] });
  const stale = new Counter({
    name: 'interlock_stale_failures_dropped_total',
    help: 'Failure reports and stream results of an old epoch/generation, dropped.',
    labelNames: ['kind'],
    registers: [registry],
  });
  const chats = new Counter({ name: 'interlock_chat_requests_total', help: 'Chat completion requests, by final status.', labelNames: ['status'], registers: [registry] });
  const chatsStarted = new Counter({ name: 'interlock_chat_requests_started_total', help: 'Chat completion requests accepted.', registers: [registry] });

  // Lifecycle the machines report as emitted events (any caller's, not only the gateway's).
  const sub: Subscription = runtime.events$.subscribe((r) => {
    if (r.type !== 'emitted') return;
    const e = (r.data as { event?: { type?: string; reason?: string } }).event;
    switch (e?.type) {
      case 'stream.fenced':
        return fenced.inc();
      case 'stream.end':
        if (e.reason === 'interrupted') supersessions.inc();
        return;
      case 'prompt.dropped':
        if (e.reason === 'superseded') supersessions.inc();
        return;
      case 'failure.stale':
      case 'stream.stale':
        return stale.inc({ kind: r.address.slice(0, r.address.indexOf('/')) });
    }
  });

  return {
    registry,
    chatStarted: () => chatsStarted.inc(),
    chatEnded: (status) => chats.inc({ status: String(status) }),
    close: () => sub.unsubscribe(),
  };
}
