/**
 * One Interlock workload in a loop, for `node --cpu-prof`. Not part of `npm run bench`.
 *
 *   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts tell-one
 *   node --import tsx bench/profile-top.ts /tmp/prof/<file>.cpuprofile
 *
 * Workloads: tell-one, tell-many, ask-seq, ask-closed, activate, backlog-postponed.
 * Profiles the bundle in bench/.build/ (written by `npm run bench`); `BENCH_TARGET=src`
 * profiles src/ through tsx instead (then expect tsx's `__name` wrappers in the profile).
 */
import { createRuntime } from './interlock.js';
import { until } from './harness.js';
import { interlockAskMachine, toggleMachine, backlogMachine, type ChatEvent } from './machines.js';

const which = process.argv[2] ?? 'tell-one';
const EV = { type: 'toggle' } as const;
const t0 = Date.now();

if (which === 'tell-one') {
  // The benchmark's shape: bursts of 150,000 tells, each drained before the next.
  const n = 150_000;
  const rt = createRuntime({ kinds: { t: { machine: toggleMachine, mailbox: { capacity: n } } } });
  for (let r = 1; r <= 8; r++) {
    for (let i = 0; i < n; i++) rt.tell('t/k', EV);
    await until(() => rt.snapshot('t/k')?.context.count === r * n, 'processed');
  }
} else if (which === 'tell-many') {
  const actors = 10_000;
  const n = 600_000;
  const rt = createRuntime({ kinds: { t: { machine: toggleMachine } } });
  const addrs = Array.from({ length: actors }, (_, i) => `t/k${i}`);
  for (const a of addrs) rt.tell(a, EV);
  const delivered = () => rt.stats({ addresses: false }).kinds[0]!.delivered;
  await until(() => delivered() === actors, 'activated');
  for (let r = 0; r < 6; r++) {
    for (let i = 0; i < n / 6; i++) rt.tell(addrs[i % actors]!, EV);
    await until(() => delivered() === actors + ((r + 1) * n) / 6, 'processed');
  }
} else if (which === 'ask-seq') {
  const rt = createRuntime({ kinds: { a: { machine: interlockAskMachine } } });
  for (let i = 0; i < 150_000; i++) {
    const ev: ChatEvent = { type: 'chat', v: i };
    if ((await rt.ask('a/k', ev)) !== i) throw new Error('wrong reply');
  }
} else if (which === 'ask-closed') {
  const rt = createRuntime({ kinds: { a: { machine: interlockAskMachine } } });
  await Promise.all(
    Array.from({ length: 1_000 }, async (_, k) => {
      for (let i = 0; i < 150; i++) {
        const ev: ChatEvent = { type: 'chat', v: i };
        if ((await rt.ask(`a/k${k}`, ev)) !== i) throw new Error('wrong reply');
      }
    }),
  );
} else if (which === 'activate') {
  const n = 100_000;
  const rt = createRuntime({ kinds: { t: { machine: toggleMachine } } });
  for (let i = 0; i < n; i++) rt.tell(`t/k${i}`, EV);
  await until(() => rt.stats({ addresses: false }).kinds[0]!.delivered === n, 'processed');
} else if (which === 'backlog-postponed') {
  const rt = createRuntime({ kinds: { b: { machine: backlogMachine, mailbox: { capacity: 100_002 } } } });
  for (let r = 0; r < 5; r++) {
    rt.tell('b/k', { type: 'hold' });
    for (let i = 0; i < 100_000; i++) rt.tell('b/k', { type: 'req' });
    rt.tell('b/k', { type: 'release' });
    await until(() => rt.snapshot('b/k')?.context.count === (r + 1) * 100_000, 'released');
  }
} else throw new Error(`unknown workload ${which}`);
process.stderr.write(`${which}: ${Date.now() - t0} ms\n`);
