import { describe, expect, it } from 'vitest';
import { sessionKind } from '../../machines/index.js';
import { createRuntime, simulated, SimulatedClock } from '../../src/index.js';

function world(onBusy: 'interrupt' | 'reject' = 'interrupt') {
  const clock = new SimulatedClock();
  const rt = createRuntime({ clock, kinds: { session: sessionKind({ provider: simulated({ clock, tokensPerSecond: 10, text: 'a b c d e' }), onBusy }) } });
  return { clock, rt, ref: rt.ref('session/1') };
}

describe("a prompt's own onBusy overrides the session's policy for that prompt", () => {
  it("rejects one prompt with INTERLOCK_BUSY under a session that interrupts, and the running answer completes", async () => {
    const { clock, ref } = world('interrupt');
    const first = ref.ask({ type: 'prompt', text: 'one' });
    await clock.tick(150);
    const second = ref.ask({ type: 'prompt', text: 'two', onBusy: 'reject' }).catch((e: unknown) => e);
    await clock.runAll();
    expect(await second).toMatchObject({ code: 'INTERLOCK_BUSY' });
    expect(await first).toMatchObject({ text: 'a b c d e', finishReason: 'stop' });
  });

  it('interrupts under a session that rejects, when the prompt asks for it', async () => {
    const { clock, ref } = world('reject');
    const first = ref.ask({ type: 'prompt', text: 'one' }).catch((e: unknown) => e);
    await clock.tick(150);
    const second = ref.ask({ type: 'prompt', text: 'two', onBusy: 'interrupt' });
    await clock.runAll();
    expect(await first).toMatchObject({ code: 'INTERLOCK_SUPERSEDED' });
    expect(await second).toMatchObject({ text: 'a b c d e' });
  });

  it('refuses a prompt with an unknown onBusy or no text before it is queued', () => {
    const { rt, ref } = world();
    expect(() => ref.tell({ type: 'prompt', text: 'x', onBusy: 'whenever' } as never)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT', message: expect.stringContaining('onBusy') }));
    expect(() => ref.tell({ type: 'prompt' } as never)).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_EVENT', message: expect.stringContaining('text') }));
    expect(rt.size).toBe(0);
  });
});
