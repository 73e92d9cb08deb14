/**
 * A session on a SimulatedClock for the machine tests of issue 6's mutation round: every
 * emitted event recorded in order, every abort that reaches the provider recorded by
 * stream number, and a provider that can be told to ignore the first stream's abort (so
 * the session stays in `cancelling` until the cleanup deadline) or replaced outright.
 */
import { sessionKind, type SessionContext, type SessionEmitted, type SessionOptions } from '../../machines/session.js';
import { createRuntime, simulated, SimulatedClock, type BusRecord } from '../../src/index.js';
import type { Provider } from '../../src/providers/types.js';

/** Eight tokens at 10 a second: a stream runs 800 ms unless cut. */
export const TEXT = 'a b c d e f g h';

export interface WorldOptions {
  /** The first stream gets a signal that never fires: it runs on after its abort. */
  ignoreFirstAbort?: boolean;
  /** Replaces the simulated provider. */
  provider?: (clock: SimulatedClock) => Provider;
}

export function sessionWorld(opts: Partial<SessionOptions> = {}, world: WorldOptions = {}) {
  const clock = new SimulatedClock();
  const inner = world.provider ? world.provider(clock) : simulated({ clock, tokensPerSecond: 10, text: TEXT });
  /** Stream numbers (1, 2, …) whose abort reached the provider, in order. */
  const aborts: number[] = [];
  let calls = 0;
  const provider: Provider = {
    name: 'recording',
    stream: (request, signal) => {
      const n = ++calls;
      signal.addEventListener('abort', () => aborts.push(n), { once: true });
      return inner.stream(request, world.ignoreFirstAbort && n === 1 ? new AbortController().signal : signal);
    },
  };
  const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider, ...opts }) } });
  const ref = rt.ref('session/1');
  const records: BusRecord[] = [];
  const emitted: SessionEmitted[] = [];
  rt.events$.subscribe((r: BusRecord) => {
    records.push(r);
    if (r.type === 'emitted') emitted.push((r.data as { event: SessionEmitted }).event);
  });
  const ctx = () => ref.snapshot()!.context as SessionContext;
  const state = () => ref.snapshot()!.value;
  const ofType = <T extends SessionEmitted['type']>(type: T) => emitted.filter((e): e is Extract<SessionEmitted, { type: T }> => e.type === type);
  return { clock, rt, ref, aborts, records, emitted, ctx, state, ofType };
}

export type SessionWorld = ReturnType<typeof sessionWorld>;
