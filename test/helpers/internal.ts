import type { EventObject } from 'xstate';
import type { Runtime } from '../../src/index.js';

/**
 * Test-only: hands an internal (`@`) event to a live actor through the runtime's door for
 * task outcomes, as a task of that actor would. Callers cannot do this (tell/ask refuse
 * `@` types); model tests use it to reach the defensive transitions for outcomes that a
 * real task can only produce under rare timing (a stale `@stream.closed`).
 */
export function injectInternal(rt: Runtime<any>, address: string, event: EventObject): void {
  const activation = (rt as unknown as { activations: Map<string, { sendInternal(e: EventObject): void }> }).activations.get(address);
  if (!activation) throw new Error(`injectInternal: '${address}' is not active`);
  activation.sendInternal(event);
}
