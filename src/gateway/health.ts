/**
 * `GET /health`: status (503 while draining, so a load balancer stops sending), event-loop
 * lag, per-kind counts (live actors, queue depth, postponed, in flight, restarts, stalls,
 * failures), and on request one address (`?address=kind/key`) or every live address
 * (`?addresses=true`, at most {@link MAX_ADDRESSES}) with its state and processing flag.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Runtime } from '../runtime/Runtime.js';

export const MAX_ADDRESSES = 1_000;

export interface Health {
  readonly lag: IntervalHistogram;
  report(query: { address?: string; addresses?: boolean }, draining: boolean): { status: number; body: unknown };
  close(): void;
}

const ms = (ns: number): number => Math.round(ns / 1e4) / 100;

export function createHealth(runtime: Runtime): Health {
  // Sampled every 10 ms (Node's default resolution).
  const lag = monitorEventLoopDelay();
  lag.enable();
  const started = Date.now();
  return {
    lag,
    report(query, draining) {
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: only stats.kinds is read below, and the per-kind figures are summed over every activation whatever `addresses` says (statsReport.ts); false only spares building the per-address rows
      const stats = runtime.stats({ addresses: false });
      const body: Record<string, unknown> = {
        status: draining ? 'draining' : 'ok',
        uptimeS: Math.round((Date.now() - started) / 1000),
        // Since the previous /health call (the histogram is reset after each read).
        eventLoopLagMs: { mean: ms(lag.mean), p99: ms(lag.percentile(99)), max: ms(lag.max) },
        kinds: stats.kinds.map((k) => ({
          kind: k.kind,
          active: k.active,
          depth: k.depth,
          postponed: k.postponed,
          inFlight: k.inFlight,
          processing: k.inFlight > 0,
          restarts: k.restarts,
          stalls: k.stalls,
          failures: k.failures,
          passivations: k.passivations,
        })),
      };
      lag.reset();
      const describe = (address: string) => {
        const v = runtime.view(address);
        return v
          ? { address, kind: v.kind, status: v.status, state: v.state ?? null, depth: v.depth, postponed: v.postponed, inFlight: v.inFlight, processing: v.inFlight > 0 }
          : { address, status: 'inactive' };
      };
      if (query.address !== undefined) body.address = describe(query.address);
      if (query.addresses === true) {
        const all = runtime.addresses();
        body.addresses = all.slice(0, MAX_ADDRESSES).map(describe);
        body.addressesTruncated = all.length > MAX_ADDRESSES;
      }
      return { status: draining ? 503 : 200, body };
    },
    close: () => lag.disable(),
  };
}
