import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, flushMicrotasks, reply, runTask, SimulatedClock, type BusRecord } from '../../src/index.js';

/**
 * Minimal deterministic repros of what the properties in this folder found, shrunk by
 * hand from fast-check counterexamples (fixed in 62634ea). Each names the property that
 * finds it. Caller promises are observed, never awaited, so a regression fails fast
 * instead of hanging on a promise that never settles.
 */

type JobEvent = { type: 'job'; id: string; ms?: number; throwInAction?: boolean } | { type: '@finished'; id: string } | { type: 'boom' };

/** idle --job--> busy (a task of `ms` on the clock) --finished--> idle, replying the job id. */
function jobMachine(clock: SimulatedClock) {
  return setup({ types: {} as { events: JobEvent } }).createMachine({
    initial: 'idle',
    on: {
      boom: {
        actions: () => {
          throw new Error('boom');
        },
      },
    },
    states: {
      idle: {
        on: {
          job: {
            target: 'busy',
            actions: [
              ({ event }) => {
                if ((event as { throwInAction?: boolean }).throwInAction) throw new Error('action threw');
              },
              runTask(
                ({ event }) => {
                  const e = event as Extract<JobEvent, { type: 'job' }>;
                  return new Promise<string>((resolve) => clock.setTimeout(() => resolve(e.id), e.ms ?? 0));
                },
                { done: (id) => ({ type: '@finished', id: id as string }), error: () => ({ type: '@finished', id: 'error' }) },
              ),
            ],
          },
        },
      },
      busy: { on: { '@finished': { target: 'idle', actions: reply(({ event }) => (event as { id: string }).id) } } },
    },
  });
}

function recordBus(rt: { events$: { subscribe(f: (r: BusRecord) => void): unknown } }) {
  const records: BusRecord[] = [];
  rt.events$.subscribe((r) => records.push(r));
  return records;
}

/** Records how a promise settled, without awaiting it. */
function outcome(p: Promise<unknown>) {
  const o = { state: 'pending' as string };
  p.then(
    (v) => (o.state = `resolved ${String(v)}`),
    (e: unknown) => (o.state = `rejected ${(e as { code?: string }).code ?? String(e)}`),
  );
  return o;
}

const idsOf = (records: BusRecord[], id: string) =>
  records.filter((r) => (r.data as { id?: unknown } | undefined)?.id === id).map((r) => r.type);

describe('found by property 3 (every envelope ends exactly once) and the stall property', () => {
  it('delivers the rest of the postponed queue when a postponed head expires at the moment it is retried', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, random: () => 0.5, kinds: { w: { machine: jobMachine(clock) } } });
    const ref = rt.ref('w/1');
    const a = outcome(ref.ask({ type: 'job', id: 'A', ms: 10 }));
    await flushMicrotasks(); // A is delivered; its 10 ms work timer is created before B's deadline timer
    const b = outcome(ref.ask({ type: 'job', id: 'B' }, { timeoutMs: 10 }));
    const c = outcome(ref.ask({ type: 'job', id: 'C' }));
    // At t=10 A's work ends first (its timer is older) and the actor goes idle; B, retried
    // first from the postponed set, has reached its deadline and is expired in deliver().
    // Before the fix C was never offered to the idle actor again (nor anything after it).
    await clock.tick(10);
    await clock.runAll();
    await flushMicrotasks();
    expect({ a: a.state, b: b.state, c: c.state, state: ref.snapshot()?.value }).toEqual({
      a: 'resolved A',
      b: 'rejected INTERLOCK_DEADLINE_EXCEEDED',
      c: 'resolved C',
      state: 'idle',
    });
    await rt.shutdown({ drain: false });
  });
});

describe('found by property 3 (every envelope ends exactly once): a terminal record per envelope on the bus', () => {
  it('records the end of an ask whose open turn is torn down by a crash', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, random: () => 0.5, kinds: { w: { machine: jobMachine(clock) } } });
    const records = recordBus(rt);
    const ref = rt.ref('w/1');
    const a = outcome(ref.ask({ type: 'job', id: 'A', ms: 10 }));
    await flushMicrotasks();
    ref.tell({ type: 'boom' });
    await flushMicrotasks();
    expect(a.state).toBe('rejected INTERLOCK_ACTOR_CRASHED');
    const idA = (records.find((r) => r.type === 'mailbox.enqueued')!.data as { id: string }).id;
    // Before the fix: ['mailbox.enqueued', 'mailbox.delivered'] — the caller was answered, the bus never said so.
    expect(idsOf(records, idA).filter((t) => t === 'turn.replied' || t === 'mailbox.rejected')).toHaveLength(1);
    await rt.shutdown({ drain: false });
  });

  it('records the delivery and the end of an ask whose delivery crashes the machine', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, random: () => 0.5, kinds: { w: { machine: jobMachine(clock) } } });
    const records = recordBus(rt);
    const a = outcome(rt.ask('w/1', { type: 'job', id: 'A', throwInAction: true }));
    await flushMicrotasks();
    expect(a.state).toBe('rejected INTERLOCK_ACTOR_CRASHED');
    const idA = (records.find((r) => r.type === 'mailbox.enqueued')!.data as { id: string }).id;
    // Before the fix: ['mailbox.enqueued'] only.
    expect(idsOf(records, idA)).toEqual(['mailbox.enqueued', 'mailbox.delivered', expect.stringMatching(/^(turn\.replied|mailbox\.rejected)$/)]);
    await rt.shutdown({ drain: false });
  });

  it('records the delivery of a tell whose delivery crashes the machine', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, random: () => 0.5, kinds: { w: { machine: jobMachine(clock) } } });
    const records = recordBus(rt);
    rt.tell('w/1', { type: 'boom' });
    await flushMicrotasks();
    expect(records.map((r) => r.type)).toContain('lifecycle.crashed');
    const id = (records.find((r) => r.type === 'mailbox.enqueued')!.data as { id: string }).id;
    // Before the fix: ['mailbox.enqueued'] only, though the machine took the event (its action ran).
    expect(idsOf(records, id)).toEqual(['mailbox.enqueued', 'mailbox.delivered']);
    await rt.shutdown({ drain: false });
  });
});
