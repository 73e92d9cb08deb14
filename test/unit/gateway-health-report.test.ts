/**
 * What `GET /health` reports (src/gateway/health.ts), on a real runtime: status and 503
 * while draining, uptime in seconds, event-loop lag in milliseconds, per-kind counts with a
 * processing flag, one address or every address (at most MAX_ADDRESSES, with a truncation
 * flag), and a histogram that stops when the report is closed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRuntime, type KindConfig } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { createHealth, MAX_ADDRESSES, type Health } from '../../src/gateway/health.js';
import { waitUntil } from '../fixtures/upstream.js';
import { counterMachine, gate, workMachine } from './fixtures.js';

let rt: Runtime | undefined;
let health: Health | undefined;
afterEach(async () => {
  vi.useRealTimers();
  health?.close();
  health = undefined;
  await rt?.shutdown({ drain: false });
  rt = undefined;
});

function start(): { rt: Runtime; health: Health } {
  const log = { events: [] as string[], active: 0, maxActive: 0 };
  rt = createRuntime({ kinds: { counter: { machine: counterMachine } as KindConfig, work: { machine: workMachine(log) } as KindConfig } }) as unknown as Runtime;
  health = createHealth(rt);
  return { rt, health };
}

const idleKind = (kind: string, active: number) => ({
  kind,
  active,
  depth: 0,
  postponed: 0,
  inFlight: 0,
  processing: false,
  restarts: 0,
  stalls: 0,
  failures: 0,
  passivations: 0,
});

describe('health report', () => {
  it('says ok and 200, or draining and 503, with only the keys asked for', () => {
    const { health } = start();
    const ok = health.report({}, false);
    expect([ok.status, Object.keys(ok.body as object)]).toEqual([200, ['status', 'uptimeS', 'eventLoopLagMs', 'kinds']]);
    expect((ok.body as { status: string }).status).toBe('ok');
    expect((ok.body as { kinds: unknown }).kinds).toEqual([idleKind('counter', 0), idleKind('work', 0)]);
    const draining = health.report({ addresses: false }, true);
    expect([draining.status, (draining.body as { status: string }).status, Object.keys(draining.body as object)]).toEqual([
      503,
      'draining',
      ['status', 'uptimeS', 'eventLoopLagMs', 'kinds'],
    ]);
  });

  it('counts uptime in whole seconds since it was created', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 });
    const { health } = start();
    expect((health.report({}, false).body as { uptimeS: number }).uptimeS).toBe(0);
    vi.setSystemTime(1_700_000_061_400);
    expect((health.report({}, false).body as { uptimeS: number }).uptimeS).toBe(61);
    vi.setSystemTime(1_700_000_061_600);
    expect((health.report({}, false).body as { uptimeS: number }).uptimeS).toBe(62);
  });

  it('reports event-loop lag in milliseconds to 2 decimals, from the histogram it then resets', async () => {
    const { health } = start();
    await waitUntil(() => health.lag.count > 0, 'the lag histogram has a sample');
    const ns = { mean: health.lag.mean, p99: health.lag.percentile(99), max: health.lag.max };
    const { eventLoopLagMs } = health.report({}, false).body as { eventLoopLagMs: { mean: number; p99: number; max: number } };
    expect(Object.keys(eventLoopLagMs)).toEqual(['mean', 'p99', 'max']);
    for (const k of ['mean', 'p99', 'max'] as const) {
      expect({ k, off: Math.abs(eventLoopLagMs[k] - ns[k] / 1e6) <= 0.005 + 1e-9, hundredths: Number.isInteger(Math.round(eventLoopLagMs[k] * 100 * 1e6) / 1e6) }).toEqual({
        k,
        off: true,
        hundredths: true,
      });
    }
    expect(health.lag.count).toBe(0);
  });

  it('flags a kind, and an address, as processing while a turn is in flight; describes one address or every one', async () => {
    const { rt, health } = start();
    const g = gate();
    rt.tell('counter/c', { type: 'inc' } as never);
    // An ask opens a turn that stays in flight until the task (held by the gate) replies.
    const answer = rt.ask('work/w', { type: 'work', id: '1', gate: g.promise } as never);
    await waitUntil(() => rt.view('work/w')?.inFlight === 1, 'work/w has its turn in flight');
    const body = health.report({ address: 'work/w', addresses: true }, false).body as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['status', 'uptimeS', 'eventLoopLagMs', 'kinds', 'address', 'addresses', 'addressesTruncated']);
    expect(body.kinds).toEqual([idleKind('counter', 1), { ...idleKind('work', 1), inFlight: 1, processing: true }]);
    const work = { address: 'work/w', kind: 'work', status: 'running', state: 'busy', depth: 0, postponed: 0, inFlight: 1, processing: true };
    expect(body.address).toEqual(work);
    expect(body.addresses).toEqual([{ address: 'counter/c', kind: 'counter', status: 'running', state: rt.view('counter/c')!.state ?? null, depth: 0, postponed: 0, inFlight: 0, processing: false }, work]);
    expect(body.addressesTruncated).toBe(false);
    expect((health.report({ address: 'work/none' }, false).body as { address: unknown }).address).toEqual({ address: 'work/none', status: 'inactive' });
    g.open();
    const answered: unknown[] = [];
    void answer.then((v) => answered.push(v));
    await waitUntil(() => answered.length === 1 && rt.view('work/w')?.inFlight === 0, 'work/w answered');
    expect(answered).toEqual(['done:1']);
    expect((health.report({ address: 'work/w' }, false).body as { address: unknown }).address).toEqual({ ...work, state: 'idle', inFlight: 0, processing: false });
  });

  it(`lists at most ${MAX_ADDRESSES} addresses and says when it left some out`, () => {
    const { rt, health } = start();
    for (let i = 0; i < MAX_ADDRESSES; i++) rt.tell(`counter/k${i}`, { type: 'inc' } as never);
    const full = health.report({ addresses: true }, false).body as { addresses: { address: string }[]; addressesTruncated: boolean };
    expect([full.addresses.length, full.addressesTruncated, full.addresses[0]!.address]).toEqual([MAX_ADDRESSES, false, 'counter/k0']);
    rt.tell('counter/one-more', { type: 'inc' } as never);
    const over = health.report({ addresses: true }, false).body as { addresses: { address: string }[]; addressesTruncated: boolean };
    expect([over.addresses.length, over.addressesTruncated]).toEqual([MAX_ADDRESSES, true]);
  });

  it('stops its event-loop histogram when closed', () => {
    const { health: h } = start();
    // enable() answers whether it started the histogram: false while it runs.
    expect(h.lag.enable()).toBe(false);
    h.close();
    health = undefined;
    expect(h.lag.enable()).toBe(true);
    h.lag.disable();
  });
});
