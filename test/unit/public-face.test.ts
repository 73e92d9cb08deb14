import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { createRuntime, reply, SimulatedClock, type BusRecord } from '../../src/index.js';

type Ev = { type: 'login'; token: string } | { type: 'ping' } | { type: 'admin.reset' } | { type: '@task.done' };

/** Keeps a secret in its context: what a kind's `view` must keep off the wire. */
const vault = setup({ types: {} as { context: { user: string; token: string; pings: number }; events: Ev } }).createMachine({
  context: { user: 'nobody', token: '', pings: 0 },
  on: {
    login: { actions: [assign({ user: 'alice', token: ({ event }) => event.token }), reply('ok')] },
    ping: { actions: [assign({ pings: ({ context }) => context.pings + 1 }), reply(({ context }) => context.pings)] },
    'admin.reset': { actions: assign({ pings: 0 }) },
    '@task.done': {},
  },
});

describe('what a kind lets out: publicEvents, view, validate, maxActive', () => {
  it('defaults publicEvents to every handled type outside the reserved namespaces', () => {
    const rt = createRuntime({ kinds: { v: { machine: vault } } });
    expect(rt.kinds()).toEqual([
      { name: 'v', publicEvents: ['admin.reset', 'login', 'ping'], answers: undefined, cancelEvent: undefined, terminal: [], maxActive: undefined },
    ]);
    expect(Object.hasOwn(rt.kinds()[0]!, 'answers')).toBe(true);
  });

  it('refuses a publicEvents entry that is reserved or that no state handles', () => {
    expect(() => createRuntime({ kinds: { v: { machine: vault, publicEvents: ['@task.done'] } } })).toThrow(/reserved/);
    expect(() => createRuntime({ kinds: { v: { machine: vault, publicEvents: ['logout'] } } })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_KIND', message: expect.stringContaining("'logout'") }),
    );
  });

  it('lets a transport check that an event is public, naming the allowed types when it is not', () => {
    const rt = createRuntime({ kinds: { v: { machine: vault, publicEvents: ['login', 'ping'] } } });
    expect(() => rt.checkPublic('v/1', { type: 'ping' })).not.toThrow();
    expect(() => rt.checkPublic('v/1', { type: 'admin.reset' })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_EVENT_NOT_PUBLIC', message: expect.stringContaining('login, ping') }),
    );
    expect(() => rt.checkPublic('v/1', { type: '@task.done' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT' }));
    expect(() => rt.checkPublic('nope/1', { type: 'ping' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_UNKNOWN_KIND' }));
    expect(() => rt.checkPublic('v/1', 'ping')).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT' }));
    // In-process callers may still send a non-public, non-reserved type.
    expect(() => rt.tell('v/1', { type: 'admin.reset' })).not.toThrow();
    expect(rt.size).toBe(1);
  });

  it("publishes snapshot records and the actor's view through the kind's view, never the raw context", async () => {
    const clock = new SimulatedClock();
    const secret = `sk-${Math.random().toString(36).slice(2)}`;
    const rt = createRuntime({ clock, kinds: { v: { machine: vault, view: (c) => ({ user: c.user, pings: c.pings }) } } });
    const records: BusRecord[] = [];
    rt.events$.subscribe((r) => records.push(r));
    const answer = rt.ask('v/1', { type: 'login', token: secret });
    await clock.tick(0);
    expect(await answer).toBe('ok');
    expect(rt.view('v/1')).toEqual({
      address: 'v/1',
      kind: 'v',
      epoch: 1,
      // The view reflects every record up to the latest one.
      seq: records.filter((r) => r.address === 'v/1').at(-1)!.seq,
      status: 'running',
      state: {},
      context: { user: 'alice', pings: 0 },
      depth: 0,
      postponed: 0,
      inFlight: 0,
      restarts: 0,
    });
    const snapshots = records.filter((r) => r.type === 'snapshot').map((r) => (r.data as { context: unknown }).context);
    expect(snapshots.at(-1)).toEqual({ user: 'alice', pings: 0 });
    const replayed: BusRecord[] = [];
    rt.events('v/1', { since: { epoch: 1, seq: 0 } }).subscribe((r) => replayed.push(r)).unsubscribe();
    expect(replayed.length).toBeGreaterThan(0);
    expect(JSON.stringify([records, replayed, rt.view('v/1'), rt.stats()])).not.toContain(secret);
    expect(rt.view('v/2')).toBeUndefined();
  });

  it('shows a view that throws as its error, not the raw context, and keeps the actor running', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({
      clock,
      kinds: {
        v: {
          machine: vault,
          view: () => {
            throw new Error('view bug');
          },
        },
      },
    });
    const answer = rt.ask('v/1', { type: 'login', token: 'sk-secret' });
    await clock.tick(0);
    expect(await answer).toBe('ok');
    expect(rt.view('v/1')?.context).toEqual({ viewError: 'view bug' });
    expect(rt.view('v/1')?.status).toBe('running');
  });

  it("refuses an event the kind's validate rejects, before it is queued or activates anything", () => {
    const rt = createRuntime({
      kinds: { v: { machine: vault, validate: (e) => (e.type === 'login' && typeof (e as { token?: unknown }).token !== 'string' ? 'login needs a token' : undefined) } },
    });
    expect(() => rt.tell('v/1', { type: 'login' } as never)).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT', message: expect.stringContaining('login needs a token') }),
    );
    expect(rt.size).toBe(0);
    rt.tell('v/1', { type: 'login', token: 't' });
    expect(rt.size).toBe(1);
  });

  it('refuses to activate more than maxActive actors of a kind, and admits one again after a passivation', async () => {
    const clock = new SimulatedClock();
    const rt = createRuntime({ clock, kinds: { v: { machine: vault, maxActive: 2, idleAfterMs: 1_000 } } });
    rt.tell('v/1', { type: 'ping' });
    rt.tell('v/2', { type: 'ping' });
    // A live actor still takes messages at the limit.
    rt.tell('v/1', { type: 'ping' });
    expect(() => rt.tell('v/3', { type: 'ping' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_ACTOR_LIMIT' }));
    await expect(rt.ask('v/3', { type: 'ping' })).rejects.toMatchObject({ code: 'INTERLOCK_ACTOR_LIMIT' });
    expect(rt.addresses('v')).toEqual(['v/1', 'v/2']);
    await clock.tick(1_000);
    expect(rt.size).toBe(0);
    rt.tell('v/3', { type: 'ping' });
    expect(rt.addresses()).toEqual(['v/3']);
  });

  it("fails createRuntime when a kind leaves out the cancel event or control lane its machine declares it needs", () => {
    const needy = setup({}).createMachine({ meta: { interlock: { cancelEvent: 'stop', control: ['alarm'] } }, on: { stop: {}, alarm: {} } });
    expect(() => createRuntime({ kinds: { n: { machine: needy } } })).toThrow(
      expect.objectContaining({ code: 'INTERLOCK_INVALID_KIND', message: expect.stringContaining("needs cancelEvent 'stop'") }),
    );
    expect(() => createRuntime({ kinds: { n: { machine: needy, cancelEvent: 'stop' } } })).toThrow(/needs 'alarm' in mailbox.control/);
    expect(() => createRuntime({ kinds: { n: { machine: needy, cancelEvent: 'stop', mailbox: { control: ['alarm'] } } } })).not.toThrow();
  });
});
