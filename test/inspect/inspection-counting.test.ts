/**
 * Inspection's counting per scope, against a recording `each`: an actor is switched on only
 * when its first scope (or the first "everything") arrives, switched off only when the last
 * leaves, and a release with nothing retained changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { Inspection } from '../../src/inspect/Inspection.js';

function recorder() {
  const live = ['a', 'b'];
  const log: string[] = [];
  const inspection = new Inspection((address, fn) => {
    for (const a of address === undefined ? live : live.filter((x) => x === address)) {
      fn({ address: a, setInspected: (on) => log.push(`${a}:${on ? 'on' : 'off'}`) });
    }
  });
  return { inspection, log };
}

describe('Inspection counting', () => {
  it('switches an address on once for its first scope and never again while others hold it', () => {
    const { inspection, log } = recorder();
    inspection.retain('a');
    inspection.retain('a');
    expect(log).toEqual(['a:on']);
    inspection.retain(undefined);
    expect(log).toEqual(['a:on', 'a:on', 'b:on']);
    // Already on for everything: a new address scope switches nothing.
    inspection.retain('b');
    expect(log).toEqual(['a:on', 'a:on', 'b:on']);
    expect([inspection.has('a'), inspection.has('b'), inspection.has('c')]).toEqual([true, true, true]);
  });

  it('ignores a release of a scope nobody retained, so the next retain still switches the actors on', () => {
    const { inspection, log } = recorder();
    inspection.release(undefined);
    inspection.release('a');
    expect(log).toEqual([]);
    inspection.retain(undefined);
    expect(log).toEqual(['a:on', 'b:on']);
    inspection.release(undefined);
    expect(log).toEqual(['a:on', 'b:on', 'a:off', 'b:off']);
    expect(inspection.has('a')).toBe(false);
    inspection.retain('a');
    inspection.release('a');
    inspection.release('a');
    inspection.retain('a');
    expect(log.slice(4)).toEqual(['a:on', 'a:off', 'a:on']);
  });
});
