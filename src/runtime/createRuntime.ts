import { systemClock, type Clock } from '../clock.js';
import { errors } from '../errors.js';
import { compileKind, type Kind } from '../kinds.js';
import { memoryStore, type SnapshotStore } from '../store/SnapshotStore.js';
import type { Kinds } from './handles.js';
import { Runtime } from './Runtime.js';

export interface RuntimeOptions<K extends Kinds> {
  /** Named machines with their policies. Fixed at creation: nothing registers later. */
  kinds: K;
  /** Time source for deadlines, backoff, stall and idle timers, and XState's delayed events. */
  clock?: Clock;
  /** Where passivated actors keep their snapshot (default: in memory). */
  store?: SnapshotStore;
  /** Randomness for backoff jitter (default Math.random); inject a seeded one in tests. */
  random?: () => number;
  /**
   * `'watched'`: whoever subscribes to an address's records (`events`, or `events$` for
   * every actor) also turns its inspection on, so the stream carries `transition` records
   * while watched (what the inspector page shows). Default `'off'`: only `runtime.inspect()`
   * turns inspection on. Either way an actor nobody inspects pays nothing.
   */
  inspect?: 'off' | 'watched';
}

const OPTION_KEYS = new Set(['kinds', 'clock', 'store', 'random', 'inspect']);

/**
 * Creates a runtime. Every kind is validated here, so a misconfiguration fails loudly at
 * startup with INTERLOCK_INVALID_KIND instead of queueing work nobody will read (seed 000).
 */
export function createRuntime<K extends Kinds>(options: RuntimeOptions<K>): Runtime<K> {
  if (typeof options !== 'object' || options === null) throw errors.invalidConfig('pass { kinds: { name: { machine } } }');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw errors.invalidConfig(`unknown option '${key}' (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const { kinds, clock = systemClock, store = memoryStore(), random = Math.random } = options;
  if (typeof kinds !== 'object' || kinds === null || Object.keys(kinds).length === 0) {
    throw errors.invalidConfig('`kinds` must name at least one kind: { kinds: { session: { machine } } }');
  }
  if (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw errors.invalidConfig('`clock` must have now(), setTimeout() and clearTimeout()');
  }
  if (typeof store?.load !== 'function' || typeof store.save !== 'function' || typeof store.delete !== 'function') {
    throw errors.invalidConfig('`store` must have load(), save() and delete()');
  }
  if (typeof random !== 'function') throw errors.invalidConfig('`random` must be a function returning [0, 1)');
  const inspect = options.inspect ?? 'off';
  if (inspect !== 'off' && inspect !== 'watched') throw errors.invalidConfig(`\`inspect\` must be 'off' or 'watched', got ${JSON.stringify(inspect)}`);
  const compiled = new Map<string, Kind>();
  for (const [name, config] of Object.entries(kinds)) compiled.set(name, compileKind(name, config));
  return new Runtime<K>({ kinds: compiled, clock, store, random, inspect });
}
