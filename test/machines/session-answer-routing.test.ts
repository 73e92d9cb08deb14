/**
 * Each answer a session gives goes to the caller it is for, named by request id, not to
 * whichever ask was delivered last: a refused prompt answered in between, or a prompt
 * told (no caller), must not take or steal another request's answer.
 */
import { describe, expect, it } from 'vitest';
import { simulated, type SimulatedClock } from '../../src/index.js';
import type { Provider } from '../../src/providers/types.js';
import { outcome, track } from '../helpers/outcome.js';
import { sessionWorld, TEXT } from './sessionWorld.js';

const boom = new Error('model down');

/** The first stream yields a token every 10 ms and throws `boom` after the fifth; later ones answer TEXT. */
function failsFirst(clock: SimulatedClock): Provider {
  const normal = simulated({ clock, tokensPerSecond: 10, text: TEXT });
  let calls = 0;
  return {
    name: 'fails-first',
    stream: (request, signal) => {
      if (++calls > 1) return normal.stream(request, signal);
      return (async function* () {
        for (let i = 0; i < 5; i++) {
          await new Promise<void>((r) => clock.setTimeout(r, 10));
          yield { type: 'delta' as const, text: `t${i} ` };
        }
        throw boom;
      })();
    },
  };
}

describe('session answers reach their own caller', () => {
  it("a provider's error rejects the running prompt's ask even after a refused prompt was answered in between", async () => {
    const w = sessionWorld({}, { provider: failsFirst });
    const a = track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(25);
    const b = track(w.ref.ask({ type: 'prompt', text: 'B', onBusy: 'reject' }));
    await w.clock.tick(1);
    expect(await outcome(b)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_BUSY', details: { state: 'streaming' } } });
    await w.clock.tick(100);
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_TURN_FAILED', cause: boom } });
    await w.rt.shutdown();
  });

  it('a told prompt refused as busy answers nobody: the running ask still gets its answer', async () => {
    const w = sessionWorld({ onBusy: 'reject' });
    const a = track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    w.ref.tell({ type: 'prompt', text: 'B' });
    await w.clock.tick(1);
    expect(await outcome(a)).toEqual({ status: 'pending' });
    await w.clock.runAll();
    expect(await outcome(a)).toEqual({ status: 'fulfilled', value: { text: TEXT, finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 8 } } });
    await w.rt.shutdown();
  });

  it('a cancel of the waiting prompt rejects that prompt even after a refused prompt was answered in between', async () => {
    const w = sessionWorld({}, { ignoreFirstAbort: true });
    track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(250);
    const b = track(w.ref.ask({ type: 'prompt', text: 'B' }));
    await w.clock.tick(10);
    expect(w.state()).toBe('cancelling');
    const bId = w.ctx().pending!.requestId;
    const c = track(w.ref.ask({ type: 'prompt', text: 'C', onBusy: 'reject' }));
    await w.clock.tick(1);
    expect(await outcome(c)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_BUSY', details: { state: 'cancelling' } } });
    w.ref.tell({ type: 'cancel', requestId: bId });
    await w.clock.tick(1);
    const o = await outcome(b);
    expect(o).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_CANCELLED', details: { phase: 'queued' } } });
    await w.clock.runAll();
    await w.rt.shutdown();
  });
});
