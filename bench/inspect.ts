/**
 * Section 7: what inspection costs. `tell` throughput into one actor and round-robin over
 * many, (a) with nobody inspecting, (b) on a runtime created with `inspect: 'watched'` that
 * nobody watches (what `interlock serve` runs: must cost nothing), (c) with an inspector
 * attached (`runtime.inspect()` subscribed: every macrostep becomes a `transition` record,
 * built and delivered to a subscriber that counts it).
 *
 * `BENCH_QUICK=1` shrinks every size (a smoke run, numbers meaningless).
 */
import type { BusRecord } from '../src/index.js';
import { createRuntime } from './interlock.js';
import { check, int, msSince, now, until, type Case } from './harness.js';
import { toggleMachine } from './machines.js';

const QUICK = process.env.BENCH_QUICK === '1';
export const INSPECT_ONE_N = QUICK ? 2_000 : 150_000;
export const INSPECT_ACTORS = QUICK ? 100 : 10_000;
export const INSPECT_MANY_N = QUICK ? 2_000 : 100_000;
const QUICK_REPS = QUICK ? { reps: 1 } : {};

export type InspectMode = 'nobody inspecting' | "inspect: 'watched', nobody watching" | 'inspector attached';
export const INSPECT_MODES: readonly InspectMode[] = ['nobody inspecting', "inspect: 'watched', nobody watching", 'inspector attached'];
export const inspectOneId = (mode: InspectMode) => `inspect tell/1 actor/${mode}`;
export const inspectManyId = (mode: InspectMode) => `inspect tell/${int(INSPECT_ACTORS)} actors round-robin/${mode}`;

const EV = { type: 'toggle' } as const;
const eps = [{ key: 'eps', unit: 'events/s', higherIsBetter: true }];

function runtimeFor(mode: InspectMode, capacity: number) {
  const rt = createRuntime({
    kinds: { t: { machine: toggleMachine, mailbox: { capacity } } },
    ...(mode === "inspect: 'watched', nobody watching" ? { inspect: 'watched' as const } : {}),
  });
  let transitions = 0;
  const sub = mode === 'inspector attached' ? rt.inspect().subscribe((r: BusRecord) => void (r.type === 'transition' && transitions++)) : undefined;
  // A peek at the runtime's internals (the activations' inspection taps), for the check only.
  const tapped = () => [...(rt as unknown as { activations: Map<string, { tap?: unknown }> }).activations.values()].filter((a) => a.tap !== undefined).length;
  return { rt, sub, transitions: () => transitions, tapped };
}

/** Nobody inspecting: no observer on any actor, no record built; attached: one transition record per event. */
function checkInspection(mode: InspectMode, built: ReturnType<typeof runtimeFor>, actors: number, transitions: number, events: number): void {
  if (mode === 'inspector attached') {
    check(built.tapped() === actors, `${built.tapped()} of ${actors} actors tapped while inspecting`);
    check(transitions === events, `transition records ${transitions} != ${events}`);
  } else {
    check(built.tapped() === 0 && built.transitions() === 0, `${built.tapped()} actors tapped while nobody inspects`);
  }
}

function one(mode: InspectMode, n: number): Case {
  return {
    id: inspectOneId(mode),
    size: `${int(n)} tells`,
    metrics: eps,
    ...QUICK_REPS,
    async run() {
      const built = runtimeFor(mode, n + 1);
      const { rt, sub, transitions } = built;
      rt.tell('t/k', EV);
      await until(() => rt.snapshot('t/k')?.context.count === 1, 'activation');
      const seen = transitions();
      const t0 = now();
      for (let i = 0; i < n; i++) rt.tell('t/k', EV);
      await until(() => rt.snapshot('t/k')!.context.count === n + 1, 'all tells processed');
      const ms = msSince(t0);
      checkInspection(mode, built, 1, transitions() - seen, n);
      sub?.unsubscribe();
      await rt.shutdown({ drain: false });
      return { eps: n / (ms / 1e3) };
    },
  };
}

function many(mode: InspectMode, actors: number, n: number): Case {
  let built: ReturnType<typeof runtimeFor> | undefined;
  const addresses = Array.from({ length: actors }, (_, i) => `t/k${i}`);
  const delivered = () => built!.rt.stats({ addresses: false }).kinds[0]!.delivered;
  return {
    id: inspectManyId(mode),
    size: `${int(n)} tells over ${int(actors)} actors`,
    metrics: eps,
    ...QUICK_REPS,
    async run() {
      if (!built) {
        built = runtimeFor(mode, n);
        for (const a of addresses) built.rt.tell(a, EV);
        await until(() => delivered() === actors, 'activation');
      }
      const { rt } = built;
      const before = delivered();
      const seen = built.transitions();
      const t0 = now();
      for (let i = 0; i < n; i++) rt.tell(addresses[i % actors]!, EV);
      await until(() => delivered() - before === n, 'all tells processed');
      const ms = msSince(t0);
      checkInspection(mode, built, actors, built.transitions() - seen, n);
      return { eps: n / (ms / 1e3) };
    },
    async dispose() {
      built?.sub?.unsubscribe();
      await built?.rt.shutdown({ drain: false });
      built = undefined;
    },
  };
}

/** Two groups; each interleaves the three modes' repetitions. */
export function inspectGroups(): Case[][] {
  return [INSPECT_MODES.map((m) => one(m, INSPECT_ONE_N)), INSPECT_MODES.map((m) => many(m, INSPECT_ACTORS, INSPECT_MANY_N))];
}
