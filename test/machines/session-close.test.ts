/**
 * `close` ends an idle session at once (a close while a stream runs: session-cut.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { track } from '../helpers/outcome.js';
import { sessionWorld } from './sessionWorld.js';

describe('session close', () => {
  it('closes an idle session at once: the address then holds a fresh one, without generation or history', async () => {
    const w = sessionWorld();
    track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.runAll();
    expect([w.state(), w.ctx().gen, w.ctx().history.length]).toEqual(['idle', 1, 2]);
    w.ref.tell({ type: 'close' });
    await w.clock.tick(0);
    expect(w.records.filter((r) => r.type === 'lifecycle.restarted').map((r) => r.data)).toEqual([{ attempt: 0, delayMs: 0, reason: 'done' }]);
    expect([w.state(), w.ctx().gen, w.ctx().history]).toEqual(['idle', 0, []]);
    expect(w.rt.stats().kinds.map((k) => k.postponed)).toEqual([0]);
    await w.rt.shutdown();
  });

});
