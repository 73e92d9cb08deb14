/**
 * Benchmark 1: `tell` throughput, Interlock against raw XState `actor.send` on the same
 * toggle machine, into one actor and round-robin across 10,000 actors.
 *
 * Interlock: N `rt.tell` calls back to back, then the clock runs until every one of them
 * has been processed (the machine's counter says so), so the figure is enqueue + full
 * delivery. Raw XState processes synchronously inside `send`.
 */
import { createActor, type ActorRefFrom } from 'xstate';
import { createRuntime, srcApi, target } from './interlock.js';
import { check, int, msSince, now, until, type Case } from './harness.js';
import { toggleMachine } from './machines.js';

const EV = { type: 'toggle' } as const;
const eps = [{ key: 'eps', unit: 'events/s', higherIsBetter: true }];

export const TELL_ONE_N = 150_000;
export const TELL_MANY_ACTORS = 10_000;
export const TELL_MANY_N = 100_000;

function rawOne(n: number): Case {
  return {
    id: 'tell/1 actor/xstate',
    size: `${int(n)} sends`,
    metrics: eps,
    async run() {
      const actor = createActor(toggleMachine).start();
      const t0 = now();
      for (let i = 0; i < n; i++) actor.send(EV);
      const ms = msSince(t0);
      check(actor.getSnapshot().context.count === n, `count ${actor.getSnapshot().context.count} != ${n}`);
      actor.stop();
      return { eps: n / (ms / 1e3) };
    },
  };
}

export const TSX_SUFFIX = ' (src via tsx)';

function interlockOne(n: number, viaTsx = false): Case {
  const create = viaTsx ? srcApi.createRuntime : createRuntime;
  return {
    id: `tell/1 actor/interlock${viaTsx ? TSX_SUFFIX : ''}`,
    size: `${int(n)} tells`,
    metrics: eps,
    async run() {
      const rt = create({ kinds: { t: { machine: toggleMachine, mailbox: { capacity: n + 1 } } } });
      rt.tell('t/k', EV); // activate (not timed)
      await until(() => rt.snapshot('t/k')?.context.count === 1, 'activation');
      const t0 = now();
      for (let i = 0; i < n; i++) rt.tell('t/k', EV);
      await until(() => rt.snapshot('t/k')!.context.count === n + 1, 'all tells processed');
      const ms = msSince(t0);
      const k = rt.stats({ addresses: false }).kinds[0]!;
      check(k.delivered === n + 1 && k.rejected === 0, `delivered ${k.delivered}, rejected ${k.rejected}`);
      await rt.shutdown({ drain: false });
      return { eps: n / (ms / 1e3) };
    },
  };
}

function rawMany(actors: number, n: number): Case {
  let refs: ActorRefFrom<typeof toggleMachine>[] = [];
  return {
    id: `tell/${int(actors)} actors round-robin/xstate`,
    size: `${int(n)} sends over ${int(actors)} actors`,
    metrics: eps,
    async run() {
      if (refs.length === 0) refs = Array.from({ length: actors }, () => createActor(toggleMachine).start());
      const before = refs.reduce((s, a) => s + a.getSnapshot().context.count, 0);
      const t0 = now();
      for (let i = 0; i < n; i++) refs[i % actors]!.send(EV);
      const ms = msSince(t0);
      const after = refs.reduce((s, a) => s + a.getSnapshot().context.count, 0);
      check(after - before === n, `counted ${after - before} != ${n}`);
      return { eps: n / (ms / 1e3) };
    },
    dispose() {
      for (const a of refs) a.stop();
      refs = [];
    },
  };
}

function interlockMany(actors: number, n: number): Case {
  const make = () => createRuntime({ kinds: { t: { machine: toggleMachine, mailbox: { capacity: n } } } });
  let rt: ReturnType<typeof make> | undefined;
  const addresses = Array.from({ length: actors }, (_, i) => `t/k${i}`);
  const delivered = () => rt!.stats({ addresses: false }).kinds[0]!.delivered;
  return {
    id: `tell/${int(actors)} actors round-robin/interlock`,
    size: `${int(n)} tells over ${int(actors)} actors`,
    metrics: eps,
    async run() {
      if (!rt) {
        // Activated once, outside the timing (activation is benchmark 4's subject).
        rt = make();
        for (const a of addresses) rt.tell(a, EV);
        await until(() => delivered() === actors, 'activation');
      }
      const r = rt;
      const before = delivered();
      const t0 = now();
      for (let i = 0; i < n; i++) r.tell(addresses[i % actors]!, EV);
      await until(() => delivered() - before === n, 'all tells processed');
      const ms = msSince(t0);
      let sum = 0;
      for (const a of addresses) sum += r.snapshot(a)!.context.count;
      check(r.size === actors, `live actors ${rt.size}`);
      check(sum === before + n, `sum of counters ${sum} != ${before + n}`);
      return { eps: n / (ms / 1e3) };
    },
    async dispose() {
      await rt?.shutdown({ drain: false });
      rt = undefined;
    },
  };
}

/** Both groups; each group interleaves Interlock and raw XState repetitions. */
export function tellGroups(): Case[][] {
  return [
    [rawOne(TELL_ONE_N), interlockOne(TELL_ONE_N), ...(target === 'bundle' ? [interlockOne(TELL_ONE_N, true)] : [])],
    [rawMany(TELL_MANY_ACTORS, TELL_MANY_N), interlockMany(TELL_MANY_ACTORS, TELL_MANY_N)],
  ];
}
