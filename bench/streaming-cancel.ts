/**
 * The stream suite's cancel figure: N streams cancelled in one synchronous loop (a mass
 * client disconnect), and how long until every one is released, with the CPU that took.
 *
 * - Interlock: every session's `ref.stream(prompt)` subscription is unsubscribed; the
 *   runtime sends each session its cancel event, the session aborts its task, simulated()
 *   rejects its pending read and the session goes back to `idle`. Released = every session
 *   is `idle` again (ready for its next prompt, the provider stream closed).
 * - Bare: each session's generator is stopped by its own switch, which clears the timer it
 *   waits on; released = every generator has ended.
 *
 * Measured from just before the loop until the check (run once per macrotask turn) sees
 * every stream released; CPU = `process.cpuUsage()` over the same span / N. (A bare Subject
 * completes when its generator ends; Interlock's unsubscribed caller hears nothing more.)
 */
import { check, int, msSince, now, type Case } from './harness.js';
import { streamApi, type StreamApi } from './streaming-api.js';
import { bareLaunch, bareTimerTokens, interlockLaunch, QUICK, RATE, replyText, sleep, tokenize, Tracker, turn, type Launch } from './streaming-fleet.js';

export const CANCEL_SESSIONS = QUICK ? 40 : 1_000;
/** Streaming before the cancel: every session has started and delivered tokens. */
export const CANCEL_AFTER_MS = QUICK ? 150 : 1_000;
export const cancelId = () => `stream cancel ${int(CANCEL_SESSIONS)} streams at once`;
export const CANCEL_SIDE = {
  interlock: 'interlock session + simulated(): unsubscribe each stream',
  bare: 'bare generator (own timer): stop each, clearing its timer',
} as const;

async function measureCancel(launch: Launch, n: number, text: string): Promise<{ ms: number; cpu: number }> {
  const tr = new Tracker(n, tokenize(text));
  const fleet = await launch(n, tr);
  let stopped = false;
  try {
    await sleep(CANCEL_AFTER_MS);
    check(tr.completed === 0, `${tr.completed} streams ran out before the cancel`);
    const before = tr.total;
    const c0 = process.cpuUsage();
    const t0 = now();
    fleet.cancel();
    const after = tr.total;
    while (!fleet.released()) {
      if (msSince(t0) > 30_000) throw new Error('streams not released 30 s after the cancel');
      await turn();
    }
    const ms = msSince(t0);
    const cpu = process.cpuUsage(c0);
    // Nothing reaches a cancelled subscriber, now or later.
    await sleep(3 * (1000 / RATE));
    check(tr.total === before && after === before, `tokens arrived after the cancel: ${before} before, ${tr.total} after`);
    tr.verify({ everySessionAtLeast: 1 });
    stopped = true;
    await fleet.stop();
    return { ms, cpu: (cpu.user + cpu.system) / n };
  } finally {
    if (!stopped) await fleet.stop().catch(() => undefined);
  }
}

function cancelCase(side: string, launch: (api: StreamApi) => Launch, text: string): Case {
  return {
    id: `${cancelId()}/${side}`,
    size: `${int(CANCEL_SESSIONS)} sessions × ${RATE} tok/s, cancelled ${CANCEL_AFTER_MS / 1000} s in`,
    metrics: [
      { key: 'ms', unit: 'ms', label: 'until every stream is released' },
      { key: 'cpu', unit: 'µs/stream', label: 'CPU per cancelled stream' },
    ],
    ...(QUICK ? { reps: 1 } : {}),
    async run() {
      return measureCancel(launch(await streamApi()), CANCEL_SESSIONS, text);
    },
  };
}

export function cancelGroups(): Case[][] {
  const text = replyText(Math.ceil(((CANCEL_AFTER_MS + 3_000) * RATE) / 1000));
  return [
    [
      cancelCase(CANCEL_SIDE.interlock, (api) => interlockLaunch(api, () => api.simulated({ tokensPerSecond: RATE, text })), text),
      cancelCase(CANCEL_SIDE.bare, () => bareLaunch((stop) => bareTimerTokens(text, stop)), text),
    ],
  ];
}
