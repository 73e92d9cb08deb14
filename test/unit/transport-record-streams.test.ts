/**
 * What a wire subscriber receives (src/transport/recordStreams.ts), read directly from its
 * observables on a simulated clock: the snapshot that opens a subscription, the
 * `recovered: false` snapshot of a resume point that is gone (never coalesced), one
 * encoding per broadcast shared by every subscriber, and completion with the runtime.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, SimulatedClock } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { addressStream, currentSnapshot, patternMatcher, patternStream, type WireItem } from '../../src/transport/recordStreams.js';
import { counterMachine } from './fixtures.js';

const BASE = 5_000_000;

function counters() {
  const clock = new SimulatedClock();
  const rt = createRuntime({ clock, kinds: { c: { machine: counterMachine, replay: 16 }, vault: { machine: counterMachine } } }) as unknown as Runtime;
  return { clock, rt };
}

const parsed = (it: WireItem) => JSON.parse(it.payload) as Record<string, unknown>;

describe('currentSnapshot', () => {
  it('is nothing for an actor that is not live, unless recovered: then an empty snapshot of epoch 0 that is never coalesced', () => {
    const { rt } = counters();
    expect(currentSnapshot(rt, 'c/none', BASE, 42, false)).toBeUndefined();
    const gone = currentSnapshot(rt, 'c/none', BASE, 42, true)!;
    expect({ ...gone, payload: parsed(gone) }).toEqual({
      address: 'c/none',
      epoch: 0,
      seq: 0,
      snapshot: false,
      payload: { address: 'c/none', epoch: 0, seq: 0, ts: 42, type: 'snapshot', data: null, recovered: false },
    });
  });

  it("of a live actor, carries its latest epoch and seq; coalescable unless it says 'recovered: false'", async () => {
    const { clock, rt } = counters();
    rt.tell('c/1', { type: 'inc' });
    await clock.runAll();
    const { seq } = rt.view('c/1')!;
    const fresh = currentSnapshot(rt, 'c/1', BASE, 7, false)!;
    const recovered = currentSnapshot(rt, 'c/1', BASE, 7, true)!;
    expect([fresh.epoch, fresh.seq, fresh.snapshot, recovered.snapshot]).toEqual([BASE + 1, seq, true, false]);
    expect(parsed(fresh)).toEqual({ address: 'c/1', epoch: BASE + 1, seq, ts: 7, type: 'snapshot', data: { value: {}, status: 'active', context: { n: 1, seen: [''] } } });
    expect(parsed(recovered)).toMatchObject({ seq, recovered: false });
  });
});

describe('addressStream and patternStream', () => {
  it('encode a broadcast record once: every subscriber gets the same item', async () => {
    const { clock, rt } = counters();
    const a: WireItem[] = [];
    const b: WireItem[] = [];
    const p: WireItem[] = [];
    const subs = [
      addressStream(rt, 'c/1', undefined, BASE, () => 0).subscribe((x) => a.push(x)),
      addressStream(rt, 'c/1', undefined, BASE, () => 0).subscribe((x) => b.push(x)),
      patternStream(rt, (address) => address.startsWith('c/'), undefined, BASE, () => 0).subscribe((x) => p.push(x)),
    ];
    rt.tell('c/1', { type: 'inc' });
    await clock.runAll();
    expect(a.length).toBeGreaterThan(0);
    expect(a.map((x, i) => x === b[i] && x === p[i])).toEqual(a.map(() => true));
    for (const s of subs) s.unsubscribe();
  });

  it('resume a pattern: what each named address missed (or its recovered snapshot), the snapshot of a live match not named, then live records', async () => {
    const { clock, rt } = counters();
    // A ring starts with the first record someone receives: c/1 was watched, then left.
    const watcher = rt.events('c/1').subscribe();
    for (const a of ['c/1', 'c/2', 'vault/1']) rt.tell(a, { type: 'inc' } as never);
    await clock.runAll();
    watcher.unsubscribe();
    const one = rt.view('c/1')!;
    const two = rt.view('c/2')!.seq;
    const got: Record<string, unknown>[] = [];
    const since = new Map([
      ['c/1', { epoch: BASE + one.epoch, seq: one.seq - 1 }],
      ['c/9', { epoch: BASE + 1, seq: 3 }],
    ]);
    const sub = patternStream(rt, (address) => address.startsWith('c/'), since, BASE, () => 11).subscribe((x) => got.push(parsed(x)));
    rt.tell('c/2', { type: 'inc' } as never);
    await clock.runAll();
    sub.unsubscribe();
    expect(got.map((r) => [r.address, r.type, r.seq, r.recovered])).toEqual([
      // c/1's last record, replayed from its buffer (a snapshot record: the last one an inc publishes)
      ['c/1', 'snapshot', one.seq, undefined],
      ['c/9', 'snapshot', 0, false],
      ['c/2', 'snapshot', two, undefined],
      ...got.slice(3).map(() => ['c/2', expect.any(String), expect.any(Number), undefined]),
    ]);
    expect(got.length).toBeGreaterThan(3);
  });

  it('complete when the runtime shuts down', async () => {
    const { clock, rt } = counters();
    const ended: string[] = [];
    addressStream(rt, 'c/1', undefined, BASE, () => 0).subscribe({ complete: () => ended.push('address') });
    addressStream(rt, 'c/1', { epoch: BASE + 1, seq: 0 }, BASE, () => 0).subscribe({ complete: () => ended.push('resumed') });
    patternStream(rt, () => true, undefined, BASE, () => 0).subscribe({ complete: () => ended.push('pattern') });
    rt.tell('c/1', { type: 'inc' });
    await clock.runAll();
    const done = rt.shutdown({ drain: false });
    await clock.runAll();
    await done;
    expect(ended.sort()).toEqual(['address', 'pattern', 'resumed']);
  });

  it('refuse a malformed address when subscribed, as an error of the stream', () => {
    const { rt } = counters();
    const errors: unknown[] = [];
    const stream = addressStream(rt, 'no-slash', undefined, BASE, () => 0);
    stream.subscribe({ error: (e) => errors.push(e) });
    addressStream(rt, 'no-slash', { epoch: 1, seq: 0 }, BASE, () => 0).subscribe({ error: (e) => errors.push(e) });
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['INTERLOCK_INVALID_ADDRESS', 'INTERLOCK_INVALID_ADDRESS']);
  });
});

describe('patternMatcher', () => {
  const kinds = new Set(['c', 'vault']);
  const code = (pattern: string) => {
    try {
      patternMatcher(pattern, kinds);
      return 'ok';
    } catch (e) {
      return (e as { code: string; message: string }).message.includes(JSON.stringify(pattern)) || (e as { code: string }).code === 'INTERLOCK_UNKNOWN_KIND'
        ? (e as { code: string }).code
        : `message does not name the pattern: ${(e as Error).message}`;
    }
  };

  it('matches every address, a whole kind, or a key prefix of a kind', () => {
    const addresses = ['c/1', 'c/ab', 'c/abc', 'c/a', 'cc/ab', 'vault/ab'];
    const matched = (pattern: string) => addresses.filter(patternMatcher(pattern, kinds));
    expect(matched('*')).toEqual(addresses);
    expect(matched('c/*')).toEqual(['c/1', 'c/ab', 'c/abc', 'c/a']);
    expect(matched('c/ab*')).toEqual(['c/ab', 'c/abc']);
    expect(matched('c/a/b*')).toEqual([]);
  });

  it('takes a key prefix as long as a key may be', () => {
    expect(code(`c/${'k'.repeat(256)}*`)).toBe('ok');
    expect(code(`c/${'k'.repeat(257)}*`)).toBe('INTERLOCK_INVALID_ADDRESS');
  });

  it('refuses a malformed pattern with an error that names it', () => {
    const bad = ['', '**', 'c', 'c/1', 'c/*x', 'c*', 'cc*', '/x*', '/*', 'C/*', 'c/a\u0001*', '-x/*'];
    expect(bad.map((p) => [p, code(p)])).toEqual(bad.map((p) => [p, 'INTERLOCK_INVALID_ADDRESS']));
  });

  it('refuses a kind this runtime does not have, listing the ones it has', () => {
    expect(() => patternMatcher('zz/*', kinds)).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_UNKNOWN_KIND', message: "Address 'zz/*' names kind 'zz', which this runtime does not have. Known kinds: c, vault." }),
    );
    expect(code('zz/ab*')).toBe('INTERLOCK_UNKNOWN_KIND');
  });
});
