/**
 * Benchmark 4: heap per idle activated actor and activation time, 100,000 actors.
 *
 * Interlock: each address activated by one `tell` (toggle), all processed, then
 * `gc()` twice and `(heapUsed after - heapUsed before) / n`. Raw XState: one root
 * `createActor(machine).start()` per address, sent the same one event, kept in a
 * `Map<address, actor>` (the minimum directory any runtime needs). The address strings
 * are built the same way in both, so they count on both sides.
 */
import { createActor, type AnyActorRef } from 'xstate';
import { createRuntime } from './interlock.js';
import { check, gc, int, msSince, now, until, type Case, type Metric } from './harness.js';
import { toggleMachine } from './machines.js';

export const HEAP_ACTORS = 100_000;
const EV = { type: 'toggle' } as const;

const metrics: Metric[] = [
  { key: 'heap', unit: 'B/actor', label: 'heap' },
  { key: 'activate', unit: 'µs/actor', label: 'activation' },
];

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

function interlockCase(n: number): Case {
  return {
    id: `heap ${int(n)} idle actors/interlock`,
    size: `${int(n)} actors`,
    metrics,
    async run() {
      const h0 = heapUsed();
      const rt = createRuntime({ kinds: { t: { machine: toggleMachine } } });
      const delivered = () => rt.stats({ addresses: false }).kinds[0]!.delivered;
      const t0 = now();
      for (let i = 0; i < n; i++) rt.tell(`t/k${i}`, EV);
      await until(() => delivered() === n, 'every activation processed its tell');
      const ms = msSince(t0);
      const h1 = heapUsed();
      check(rt.size === n, `live actors ${rt.size} != ${n}`);
      check(rt.snapshot(`t/k${n - 1}`)?.context.count === 1 && rt.snapshot('t/k0')?.value === 'b', 'actor state after one toggle');
      return { heap: (h1 - h0) / n, activate: (ms * 1e3) / n };
    },
  };
}

function xstateCase(n: number): Case {
  return {
    id: `heap ${int(n)} idle actors/xstate root actors`,
    size: `${int(n)} actors`,
    metrics,
    async run() {
      const h0 = heapUsed();
      const actors = new Map<string, AnyActorRef>();
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const a = createActor(toggleMachine).start();
        a.send(EV);
        actors.set(`t/k${i}`, a);
      }
      const ms = msSince(t0);
      const h1 = heapUsed();
      check(actors.size === n, 'actor count');
      check(actors.get(`t/k${n - 1}`)!.getSnapshot().context.count === 1, 'actor state after one toggle');
      return { heap: (h1 - h0) / n, activate: (ms * 1e3) / n };
    },
  };
}

export function heapGroups(): Case[][] {
  return [
    [xstateCase(HEAP_ACTORS), interlockCase(HEAP_ACTORS)],
  ];
}
