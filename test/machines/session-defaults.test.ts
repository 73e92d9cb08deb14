/**
 * What a fresh session holds (its snapshot's context, which `ref.snapshot()` and a snapshot
 * store show): the documented defaults, and the options given instead of them.
 */
import { describe, expect, it } from 'vitest';
import { sessionWorld } from './sessionWorld.js';

describe('a fresh session', () => {
  it('holds the documented defaults: no stream, no history, interrupt, cancel, 2,000 ms cleanup', async () => {
    const w = sessionWorld();
    // An ignored cancel activates the session and changes nothing.
    w.ref.tell({ type: 'cancel' });
    await w.clock.tick(0);
    expect(w.ctx()).toEqual({
      history: [],
      gen: 0,
      active: undefined,
      pending: undefined,
      endReason: 'done',
      closeAfter: false,
      onBusy: 'interrupt',
      onDisconnect: 'cancel',
      cleanupDeadlineMs: 2_000,
    });
    await w.rt.shutdown();
  });

  it('holds the options given instead', async () => {
    const w = sessionWorld({ onBusy: 'enqueue', onDisconnect: 'detach', cleanupDeadlineMs: 50 });
    w.ref.tell({ type: 'cancel' });
    await w.clock.tick(0);
    expect(w.ctx()).toMatchObject({ onBusy: 'enqueue', onDisconnect: 'detach', cleanupDeadlineMs: 50 });
    await w.rt.shutdown();
  });
});
