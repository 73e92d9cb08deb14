import type { Activation } from './Activation.js';
import type { AddressStats, KindStats, RuntimeStats } from './stats.js';

/** Builds `runtime.stats()`: live figures summed per kind, the kind counters, and per-address rows. */
export function collectStats(
  activations: Iterable<Activation>,
  kindStats: ReadonlyMap<string, KindStats>,
  options?: { address?: string; addresses?: boolean },
): RuntimeStats {
  const perKind = new Map<string, { active: number; depth: number; postponed: number; inFlight: number }>();
  for (const name of kindStats.keys()) perKind.set(name, { active: 0, depth: 0, postponed: 0, inFlight: 0 });
  const addresses: AddressStats[] = [];
  for (const a of activations) {
    const k = perKind.get(a.kind.name)!;
    k.active++;
    k.depth += a.mailbox.depth;
    k.postponed += a.mailbox.postponed;
    k.inFlight += a.inFlight;
    if (options?.addresses === false || (options?.address !== undefined && options.address !== a.address)) continue;
    addresses.push(addressStats(a));
  }
  return {
    kinds: [...perKind].map(([kind, live]) => {
      const s = kindStats.get(kind)!;
      return {
        kind,
        ...live,
        refused: s.refused,
        enqueued: s.enqueued,
        delivered: s.delivered,
        rejected: s.rejected,
        replied: s.replied,
        restarts: s.restarts,
        stalls: s.stalls,
        failures: s.failures,
        activations: s.activations,
        passivations: s.passivations,
        waitMs: s.waitMs.toJSON(),
        processingMs: s.processingMs.toJSON(),
      };
    }),
    addresses,
  };
}

function addressStats(a: Activation): AddressStats {
  const c = a.counters;
  return {
    address: a.address,
    kind: a.kind.name,
    epoch: a.epoch,
    status: a.status,
    state: a.snapshot?.value,
    depth: a.mailbox.depth,
    queued: a.mailbox.queued,
    postponed: a.mailbox.postponed,
    inFlight: a.inFlight,
    refused: c.refused,
    enqueued: c.enqueued,
    delivered: c.delivered,
    rejected: c.rejected,
    replied: c.replied,
    waitMs: { sum: c.waitMsSum, max: c.waitMsMax, mean: c.delivered ? c.waitMsSum / c.delivered : 0 },
    processingMs: { sum: c.processingMsSum, max: c.processingMsMax, mean: c.replied ? c.processingMsSum / c.replied : 0 },
  };
}
