/**
 * Benchmark 2: async `ask` round trips whose turn awaits a promise (the work unit is
 * `async (v) => v`), per-key serialized, against raw XState and plain per-key queues.
 *
 * Workloads: `seq` (one key, one ask at a time), `closed` (1,000 keys x 100 asks, one
 * outstanding per key), `open` (the same 100,000 asks fired at once; only implementations
 * that queue per key can take it). Every ask's answer is checked against its request.
 */
import { Mutex } from 'async-mutex';
import PQueue from 'p-queue';
import { createActor, type AnyActorRef } from 'xstate';
import { createRuntime, srcApi, target, type Api } from './interlock.js';
import { check, int, msSince, now, tick, type Case } from './harness.js';
import { fastWork, interlockAskMachine, srcAskMachine, type ChatEvent, work, xstateExtMachine, xstateInvokeMachine } from './machines.js';

export const KEYS = 1_000;
export const PER_KEY = 100;

type AskFn = (key: number, v: number) => Promise<number>;

interface Impl {
  name: string;
  /** Can take more than one outstanding request per key (queues per key). */
  open: boolean;
  /** Sizes that make one repetition ~0.2-2 s on the reference VM. */
  seqN: number;
  closedRounds: number;
  openRounds: number;
  make(keys: number): { ask: AskFn; dispose(): void | Promise<void> };
}

const address = (k: number) => `a/k${k}`;

function xstateImpl(name: string, machine: typeof xstateInvokeMachine | typeof xstateExtMachine, seqN: number): Impl {
  return {
    name,
    open: false, // a `chat` arriving in `processing` would be dropped: XState has no deferral
    seqN,
    closedRounds: 1,
    openRounds: 0,
    make(keys) {
      const actors: AnyActorRef[] = Array.from({ length: keys }, () => createActor(machine).start());
      return {
        ask: (k, v) => new Promise<number>((resolve, reject) => actors[k]!.send({ type: 'chat', v, resolve, reject })),
        dispose: () => actors.forEach((a) => a.stop()),
      };
    },
  };
}

function interlockImpl(name: string, create: Api['createRuntime'], machine: typeof interlockAskMachine): Impl {
  return {
    name,
    open: true,
    seqN: 30_000,
    closedRounds: 1,
    openRounds: 1,
    make() {
      const rt = create({ kinds: { a: { machine, mailbox: { capacity: 1_000 } } } });
      const addrs: string[] = [];
      return {
        ask: (k, v) => {
          const ev: ChatEvent = { type: 'chat', v };
          return rt.ask<number>((addrs[k] ??= address(k)), ev);
        },
        dispose: () => rt.shutdown({ drain: false }),
      };
    },
  };
}

/** Interlock from src/ through tsx, for the bundle-vs-tsx rows (seq only). */
export const TSX_IMPL = interlockImpl('interlock (src via tsx)', srcApi.createRuntime, srcAskMachine);

export const IMPLS: Impl[] = [
  interlockImpl('interlock', createRuntime, interlockAskMachine),
  xstateImpl('xstate invoke(fromPromise)', xstateInvokeMachine, 20_000),
  xstateImpl('xstate-ext (action + DONE event)', xstateExtMachine, 40_000),
  {
    name: 'p-queue per key',
    open: true,
    seqN: 400_000,
    closedRounds: 5,
    openRounds: 3,
    make() {
      const queues = new Map<string, PQueue>();
      const addrs: string[] = [];
      return {
        ask: (k, v) => {
          const a = (addrs[k] ??= address(k));
          let q = queues.get(a);
          if (!q) queues.set(a, (q = new PQueue({ concurrency: 1 })));
          return q.add(() => work.fn(v)) as Promise<number>;
        },
        dispose: () => queues.clear(),
      };
    },
  },
  {
    name: 'async-mutex per key',
    open: true,
    seqN: 300_000,
    closedRounds: 3,
    openRounds: 2,
    make() {
      const mutexes = new Map<string, Mutex>();
      const addrs: string[] = [];
      return {
        ask: (k, v) => {
          const a = (addrs[k] ??= address(k));
          let m = mutexes.get(a);
          if (!m) mutexes.set(a, (m = new Mutex()));
          return m.runExclusive(() => work.fn(v));
        },
        dispose: () => mutexes.clear(),
      };
    },
  },
  {
    name: 'promise chain per key',
    open: true,
    seqN: 1_000_000,
    closedRounds: 10,
    openRounds: 5,
    make() {
      const tails = new Map<string, Promise<unknown>>();
      const addrs: string[] = [];
      const resolved = Promise.resolve();
      return {
        ask: (k, v) => {
          const a = (addrs[k] ??= address(k));
          const run = () => work.fn(v);
          const p = (tails.get(a) ?? resolved).then(run, run);
          tails.set(a, p);
          return p;
        },
        dispose: () => tails.clear(),
      };
    },
  },
];

const aps = [{ key: 'aps', unit: 'asks/s', higherIsBetter: true }];

function seqCase(impl: Impl): Case {
  let inst: ReturnType<Impl['make']> | undefined;
  return {
    id: `ask seq 1 key/${impl.name}`,
    size: `${int(impl.seqN)} asks`,
    metrics: aps,
    async run() {
      inst ??= impl.make(1);
      let bad = 0;
      const t0 = now();
      for (let i = 0; i < impl.seqN; i++) if ((await inst.ask(0, i)) !== i) bad++;
      const ms = msSince(t0);
      check(bad === 0, `${bad} wrong replies`);
      return { aps: impl.seqN / (ms / 1e3) };
    },
    dispose: () => inst?.dispose(),
  };
}

function closedCase(impl: Impl): Case {
  let inst: ReturnType<Impl['make']> | undefined;
  const total = KEYS * PER_KEY * impl.closedRounds;
  return {
    id: `ask closed ${int(KEYS)} keys/${impl.name}`,
    size: `${int(KEYS)} keys x ${PER_KEY} asks${impl.closedRounds > 1 ? ` x ${impl.closedRounds} rounds` : ''}`,
    metrics: aps,
    async run() {
      inst ??= impl.make(KEYS);
      const ask = inst.ask;
      let bad = 0;
      let done = 0;
      const t0 = now();
      for (let r = 0; r < impl.closedRounds; r++) {
        const loops: Promise<void>[] = [];
        for (let k = 0; k < KEYS; k++) {
          loops.push(
            (async () => {
              for (let i = 0; i < PER_KEY; i++) {
                const v = k * 1000 + i;
                if ((await ask(k, v)) !== v) bad++;
                done++;
              }
            })(),
          );
        }
        await Promise.all(loops);
      }
      const ms = msSince(t0);
      check(bad === 0 && done === total, `${bad} wrong replies, ${done}/${total} answered`);
      return { aps: total / (ms / 1e3) };
    },
    dispose: () => inst?.dispose(),
  };
}

function openCase(impl: Impl): Case {
  let inst: ReturnType<Impl['make']> | undefined;
  const total = KEYS * PER_KEY * impl.openRounds;
  return {
    id: `ask open ${int(KEYS)} keys/${impl.name}`,
    size: `${int(KEYS)} keys x ${PER_KEY} asks at once${impl.openRounds > 1 ? ` x ${impl.openRounds} rounds` : ''}`,
    metrics: aps,
    async run() {
      inst ??= impl.make(KEYS);
      const ask = inst.ask;
      let bad = 0;
      let done = 0;
      const t0 = now();
      for (let r = 0; r < impl.openRounds; r++) {
        const all: Promise<void>[] = new Array(KEYS * PER_KEY);
        let j = 0;
        for (let i = 0; i < PER_KEY; i++) {
          for (let k = 0; k < KEYS; k++) {
            const v = k * 1000 + i;
            all[j++] = ask(k, v).then((o) => {
              if (o !== v) bad++;
              done++;
            });
          }
        }
        await Promise.all(all);
      }
      const ms = msSince(t0);
      check(bad === 0 && done === total, `${bad} wrong replies, ${done}/${total} answered`);
      return { aps: total / (ms / 1e3) };
    },
    dispose: () => inst?.dispose(),
  };
}

/**
 * Serialization check, untimed: a work unit that yields a macrotask and records, per key,
 * how many run at once and whether they start in request order. Returns '' when every
 * key saw at most one at a time, in FIFO order; otherwise what went wrong.
 */
export async function checkSerialized(impl: Impl): Promise<string> {
  const keys = 8;
  const per = 25;
  const inFlight = new Array<number>(keys).fill(0);
  const last = new Array<number>(keys).fill(-1);
  let maxInFlight = 0;
  let outOfOrder = 0;
  work.fn = async (v: number) => {
    const k = Math.floor(v / 1000);
    const i = v % 1000;
    maxInFlight = Math.max(maxInFlight, ++inFlight[k]!);
    if (i <= last[k]!) outOfOrder++;
    last[k] = i;
    await tick();
    inFlight[k]!--;
    return v;
  };
  const inst = impl.make(keys);
  let bad = 0;
  try {
    const all: Promise<void>[] = [];
    if (impl.open) {
      for (let i = 0; i < per; i++)
        for (let k = 0; k < keys; k++) {
          const v = k * 1000 + i;
          all.push(inst.ask(k, v).then((o) => void (o !== v && bad++)));
        }
    } else {
      for (let k = 0; k < keys; k++)
        all.push(
          (async () => {
            for (let i = 0; i < per; i++) if ((await inst.ask(k, k * 1000 + i)) !== k * 1000 + i) bad++;
          })(),
        );
    }
    await Promise.all(all);
  } finally {
    work.fn = fastWork;
    await inst.dispose();
  }
  const problems: string[] = [];
  if (maxInFlight !== 1) problems.push(`max ${maxInFlight} concurrent work units per key`);
  if (outOfOrder) problems.push(`${outOfOrder} started out of order`);
  if (bad) problems.push(`${bad} wrong replies`);
  return problems.join(', ');
}

export function askGroups(impls: Impl[]): Case[][] {
  const seq = target === 'bundle' ? [...impls, TSX_IMPL] : impls;
  return [seq.map(seqCase), impls.map(closedCase), impls.filter((i) => i.open).map(openCase)];
}
