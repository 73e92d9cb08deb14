/**
 * The bridge to the Stately inspector (`@statelyai/inspect`, the inspector package for
 * XState v5; `@xstate/inspect` declares `xstate ^4` as its peer and cannot inspect v5
 * actors). It inspects every actor (`runtime.inspect()`) and forwards the same records the
 * inspector page reads, as Stately's three events: an actor registers (`@xstate.actor`)
 * with its machine's structure when it starts, each `transition` record becomes the event
 * (`@xstate.event`) and the snapshot after it (`@xstate.snapshot`). Only what a kind
 * publishes goes out: the context is the kind's `view` (from the `snapshot` records),
 * events are their type plus what the kind's `eventView` returns.
 *
 * `@statelyai/inspect` is an optional peer dependency, loaded only here, on demand: a
 * runtime that never asks for the bridge works without it installed.
 */
import { errors } from '../errors.js';
import type { BusRecord } from '../bus/records.js';
import type { Runtime } from '../runtime/Runtime.js';
import type { ShownEvent } from './publicEvent.js';
import { statelyConfig } from './statelyConfig.js';
import type { TransitionData } from './tap.js';

/** The part of a `@statelyai/inspect` inspector the bridge uses (its `Inspector` type). */
export interface StatelyInspectorLike {
  actor(actor: { sessionId: string; logic: { config: unknown } }, snapshot?: StatelySnapshot): void;
  event(actor: string, event: { type: string; [key: string]: unknown }): void;
  snapshot(actor: string, snapshot: StatelySnapshot, info?: { event?: { type: string } }): void;
  stop(): void;
}

export interface StatelySnapshot {
  status: string;
  value: unknown;
  context: unknown;
}

export interface StatelyBridgeOptions {
  /**
   * WebSocket URL of the Stately relay (`createInspectorServer` of `@statelyai/inspect/server`,
   * which shows https://stately.ai/inspect). Default `ws://localhost:8081`.
   */
  url?: string;
  /** Where the warning that actor data leaves the machine goes. Default `console.warn`. */
  warn?: (message: string) => void;
  /** An inspector you built with `@statelyai/inspect` (browser, custom adapter); then `url` is not used. */
  inspector?: StatelyInspectorLike;
}

export interface StatelyBridge {
  /** Stops inspecting and closes the inspector's connection. Idempotent. */
  stop(): void;
}

export const STATELY_PACKAGE = '@statelyai/inspect';
export const DEFAULT_STATELY_URL = 'ws://localhost:8081';

export const STATELY_WARNING =
  'Stately bridge on: every actor’s public view and public events go to the Stately inspector, ' +
  'whose page (https://stately.ai/inspect) runs outside this machine. Use it in development only.';

/**
 * Loads `@statelyai/inspect` (or `specifier`); throws INTERLOCK_MISSING_PEER naming the
 * install command when it is not installed. @internal
 */
export async function loadStately(specifier: string = STATELY_PACKAGE): Promise<{ createWebSocketInspector(o: { url: string }): StatelyInspectorLike }> {
  try {
    return (await import(specifier)) as { createWebSocketInspector(o: { url: string }): StatelyInspectorLike };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    throw errors.missingPeer(specifier, 'the Stately bridge (--stately)', `npm install ${specifier}@0.7`);
  }
}

/** Starts forwarding this runtime's actors to the Stately inspector. Prints a warning first. */
// Any kinds: the bridge reads only what every runtime publishes.
export async function statelyBridge(runtime: Runtime<any>, options: StatelyBridgeOptions = {}): Promise<StatelyBridge> {
  const inspector = options.inspector ?? (await loadStately()).createWebSocketInspector({ url: options.url ?? DEFAULT_STATELY_URL });
  (options.warn ?? console.warn)(STATELY_WARNING);
  const machines = new Map<string, unknown>();
  const definition = (kind: string) => {
    let config = machines.get(kind);
    if (config === undefined) machines.set(kind, (config = statelyConfig(runtime.machine(kind))));
    return config;
  };
  const kindOf = (address: string) => address.slice(0, address.indexOf('/'));
  const register = (address: string, snapshot: StatelySnapshot) =>
    inspector.actor({ sessionId: address, logic: { config: definition(kindOf(address)) } }, snapshot);
  /** The latest public snapshot of each actor (from its `snapshot` records). */
  const last = new Map<string, StatelySnapshot>();

  // A snapshot or transition record on the bus always carries its data: the runtime passes
  // `undefined` only when no one watches the channel, and then Channel.publish builds no record.
  const onRecord = (r: BusRecord) => {
    switch (r.type) {
      case 'snapshot': {
        const d = r.data as StatelySnapshot;
        last.set(r.address, { status: d.status, value: d.value, context: d.context });
        return;
      }
      case 'transition': {
        const t = r.data as TransitionData;
        // Stryker disable next-line OptionalChaining: unreachable today: XState notifies observers (the snapshot record) before the inspector (the transition record), and a start that errors sends no transition; kept so an XState change cannot crash the subscriber
        const snapshot: StatelySnapshot = { status: t.status, value: t.to, context: last.get(r.address)?.context };
        if (t.from === null) return register(r.address, snapshot);
        const event = eventObject(t.event);
        inspector.event(r.address, event);
        inspector.snapshot(r.address, snapshot, { event });
        return;
      }
      case 'lifecycle.crashed':
      case 'lifecycle.stalled':
      case 'lifecycle.failed':
      case 'lifecycle.stopped':
      case 'lifecycle.passivated': {
        const prev = last.get(r.address);
        // A stall is a crash (the supervisor tears the actor down and restarts it), as in wireRecord.
        const status = r.type === 'lifecycle.stopped' || r.type === 'lifecycle.passivated' ? 'stopped' : 'error';
        inspector.snapshot(r.address, { status, value: prev?.value, context: prev?.context });
        if (status === 'stopped') last.delete(r.address);
        return;
      }
      // Any other record: nothing to show (the switch is the function's last statement).
    }
  };

  const sub = runtime.inspect().subscribe({ next: onRecord, error: () => undefined });
  // Actors already live: registered with what they publish now (later ones register at start).
  for (const address of runtime.addresses()) {
    const v = runtime.view(address);
    if (!v || v.state === undefined) continue;
    // Stately's statuses: a live actor with a state is running, or restarting after a crash, or
    // failed (a stopped one has left addresses()); the last two show as after a crash.
    const snapshot = { status: v.status === 'running' ? 'active' : 'error', value: v.state, context: v.context };
    last.set(address, snapshot);
    register(address, snapshot);
  }
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      sub.unsubscribe();
      inspector.stop();
    },
  };
}

function eventObject(e: ShownEvent): { type: string; [key: string]: unknown } {
  if (e.payload === undefined) return { type: e.type };
  const p = e.payload;
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? { ...(p as Record<string, unknown>), type: e.type } : { type: e.type, payload: p };
}
