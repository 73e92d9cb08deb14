/**
 * A prompt that arrives while the running stream is being cancelled, with no other prompt
 * waiting, waits as the next stream (latest wins: interrupt and rollback alike) and runs
 * once the cancelled stream has closed.
 */
import { describe, expect, it } from 'vitest';
import { outcome, track } from '../helpers/outcome.js';
import { sessionWorld, TEXT } from './sessionWorld.js';

describe('a prompt while cancelling with nothing waiting', () => {
  it.each(['interrupt', 'rollback'] as const)('(%s) waits as the next stream and gets its answer once the cancelled stream closed', async (onBusy) => {
    const w = sessionWorld({}, { ignoreFirstAbort: true });
    const a = track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    w.ref.tell({ type: 'cancel' });
    await w.clock.tick(10);
    expect([w.state(), w.ctx().pending]).toEqual(['cancelling', undefined]);
    const b = track(w.ref.ask({ type: 'prompt', text: 'B', onBusy }));
    await w.clock.tick(1);
    expect([w.state(), w.ctx().pending?.prompt]).toEqual(['cancelling', 'B']);
    expect(w.ofType('prompt.dropped')).toEqual([]);
    await w.clock.runAll();
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { phase: 'running', reason: 'cancel' } } });
    expect(await outcome(b)).toMatchObject({ status: 'fulfilled', value: { text: TEXT } });
    expect(w.ofType('stream.started').map((e) => e.gen)).toEqual([1, 2]);
    await w.rt.shutdown();
  });
});
