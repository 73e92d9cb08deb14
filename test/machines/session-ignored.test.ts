/**
 * Every (state, event) pair a session takes on purpose and does nothing with: it is
 * recorded as exactly one `event.ignored` with the reason a user reads, nothing else is
 * emitted, and the session stays where it was.
 */
import { describe, expect, it } from 'vitest';
import type { DisconnectPolicy, SessionEvent } from '../../machines/session.js';
import { track } from '../helpers/outcome.js';
import { sessionWorld, type SessionWorld } from './sessionWorld.js';

interface Setup {
  state: 'idle' | 'streaming' | 'cancelling';
  /** Brings a fresh world into `state`; returns the request ids of the running and waiting prompts. */
  run(w: SessionWorld): Promise<{ active?: string; pending?: string }>;
}

const idle: Setup = { state: 'idle', run: async () => ({}) };

const idleAfterAnswer: Setup = {
  state: 'idle',
  run: async (w) => {
    track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.runAll();
    return {};
  },
};

const streaming: Setup = {
  state: 'streaming',
  run: async (w) => {
    track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    return { active: w.ctx().active!.requestId };
  },
};

/** A ignores its abort, so the session waits in cancelling with B behind it. */
const cancellingWithPending: Setup = {
  state: 'cancelling',
  run: async (w) => {
    track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    track(w.ref.ask({ type: 'prompt', text: 'B' }));
    await w.clock.tick(10);
    return { active: w.ctx().active!.requestId, pending: w.ctx().pending!.requestId };
  },
};

const cancellingAlone: Setup = {
  state: 'cancelling',
  run: async (w) => {
    track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    w.ref.tell({ type: 'cancel' });
    await w.clock.tick(10);
    return { active: w.ctx().active!.requestId };
  },
};

const FRESH = { gen: 0, active: undefined, pending: undefined, messages: 0, closing: false };

type Row = [name: string, setup: Setup, onDisconnect: DisconnectPolicy, event: (ids: { active?: string; pending?: string }) => SessionEvent, reason: string];

const rows: Row[] = [
  ['idle, a cancel naming nobody', idle, 'cancel', () => ({ type: 'cancel' }), 'no stream'],
  ['idle, a cancel naming a request', idle, 'cancel', () => ({ type: 'cancel', requestId: 'r-gone' }), 'no stream'],
  ['idle, a disconnect naming nobody', idle, 'cancel', () => ({ type: 'disconnect' }), 'no stream'],
  ['idle, a disconnect naming a request', idle, 'detach', () => ({ type: 'disconnect', requestId: 'r-gone' }), 'no stream'],
  ['idle after an answer, a late cancel of it', idleAfterAnswer, 'cancel', () => ({ type: 'cancel' }), 'no stream'],
  ['idle after an answer, a late disconnect', idleAfterAnswer, 'cancel', () => ({ type: 'disconnect' }), 'no stream'],
  ['streaming, a cancel naming another request', streaming, 'cancel', () => ({ type: 'cancel', requestId: 'r-other' }), 'not the active request'],
  ['streaming, a disconnect naming another request', streaming, 'cancel', () => ({ type: 'disconnect', requestId: 'r-other' }), 'not the active request'],
  ['cancelling, a cancel naming the stream being cancelled', cancellingWithPending, 'cancel', (ids) => ({ type: 'cancel', requestId: ids.active }), 'already cancelling'],
  ['cancelling, a cancel naming another request', cancellingWithPending, 'cancel', () => ({ type: 'cancel', requestId: 'r-other' }), 'already cancelling'],
  ['cancelling, a disconnect naming another request', cancellingWithPending, 'cancel', () => ({ type: 'disconnect', requestId: 'r-other' }), 'not the active or waiting request'],
  ['cancelling, a disconnect of the stream being cancelled', cancellingWithPending, 'cancel', (ids) => ({ type: 'disconnect', requestId: ids.active }), 'already cancelling'],
  ['cancelling, a disconnect naming nobody under detach', cancellingWithPending, 'detach', () => ({ type: 'disconnect' }), 'detach policy'],
  ['cancelling, a disconnect of the waiting prompt under detach', cancellingWithPending, 'detach', (ids) => ({ type: 'disconnect', requestId: ids.pending }), 'detach policy'],
  ['cancelling with nothing waiting, a cancel', cancellingAlone, 'cancel', () => ({ type: 'cancel' }), 'already cancelling'],
  ['cancelling with nothing waiting, a disconnect', cancellingAlone, 'cancel', () => ({ type: 'disconnect' }), 'already cancelling'],
];

describe('events a session ignores on purpose', () => {
  it.each(rows)('%s: one event.ignored with its reason, nothing else, and the session stays put', async (_name, setup, onDisconnect, event, reason) => {
    const w = sessionWorld({ onDisconnect }, { ignoreFirstAbort: true });
    const ids = await setup.run(w);
    // A fresh session has no actor until the event activates it.
    expect(w.ref.snapshot()?.value).toBe(setup === idle ? undefined : setup.state);
    const before = { emitted: w.emitted.length, view: w.rt.view('session/1')?.context ?? FRESH };
    const e = event(ids);
    w.ref.tell(e);
    await w.clock.tick(10);
    expect(w.emitted.slice(before.emitted)).toEqual([{ type: 'event.ignored', event: e.type, reason }]);
    expect(w.state()).toBe(setup.state);
    // Taken, not postponed: nothing of it waits in the mailbox.
    expect(w.rt.stats().kinds.map((k) => k.postponed)).toEqual([0]);
    expect(w.rt.view('session/1')!.context).toEqual(before.view);
    await w.rt.shutdown({ drain: false });
  });
});
