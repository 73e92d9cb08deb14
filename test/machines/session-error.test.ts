/**
 * A provider's error ends the stream (reason `error`) and leaves the session idle with no
 * active stream, ready for the next prompt.
 */
import { describe, expect, it } from 'vitest';
import type { Provider } from '../../src/providers/types.js';
import { outcome, track } from '../helpers/outcome.js';
import { sessionWorld } from './sessionWorld.js';

const boom = new Error('model down');

describe('session after a stream error', () => {
  it('is idle with no active stream, says so in its view, and answers the next prompt', async () => {
    let calls = 0;
    const w = sessionWorld(
      {},
      {
        provider: (clock): Provider => ({
          name: 'fails-once',
          async *stream() {
            await new Promise<void>((r) => clock.setTimeout(r, 10));
            yield { type: 'delta', text: `x${++calls} ` };
            if (calls === 1) throw boom;
            yield { type: 'done', finishReason: 'stop' };
          },
        }),
      },
    );
    const a = track(w.ref.ask({ type: 'prompt', text: 'A' }));
    await w.clock.tick(10);
    expect(await outcome(a)).toMatchObject({ status: 'rejected', reason: { code: 'INTERLOCK_TURN_FAILED', cause: boom } });
    expect(w.ofType('stream.end')).toEqual([{ type: 'stream.end', gen: 1, requestId: expect.any(String), reason: 'error' }]);
    expect([w.state(), w.ctx().active]).toEqual(['idle', undefined]);
    expect(w.rt.view('session/1')!.context).toEqual({ gen: 1, active: undefined, pending: undefined, messages: 1, closing: false });
    const b = track(w.ref.ask({ type: 'prompt', text: 'B' }));
    await w.clock.tick(10);
    expect(await outcome(b)).toEqual({ status: 'fulfilled', value: { text: 'x2 ', finishReason: 'stop' } });
    expect(w.ctx().history).toEqual([
      { role: 'user', content: 'A' },
      { role: 'user', content: 'B' },
      { role: 'assistant', content: 'x2 ' },
    ]);
    await w.rt.shutdown();
  });
});
