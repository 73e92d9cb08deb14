/**
 * One drain delivers at most DRAIN_BUDGET envelopes, then yields to the event loop
 * (setImmediate) before it goes on, so a flood of messages to one actor cannot starve I/O.
 * Each test registers a check-phase callback before the flood is drained: it must run
 * between the first batch and the rest.
 */
import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createRuntime, reply } from '../../src/index.js';
import { DRAIN_BUDGET } from '../../src/mailbox/Delivery.js';
import { settled } from '../helpers/outcome.js';

/** A counter whose every `inc` changes the snapshot; `get` answers in the same transition. */
const counter = setup({ types: {} as { context: { n: number }; events: { type: 'inc' } | { type: 'get' } } }).createMachine({
  context: { n: 0 },
  on: {
    inc: { actions: assign({ n: ({ context }) => context.n + 1 }) },
    get: { actions: reply(({ context }) => context.n) },
  },
});

const FLOOD = DRAIN_BUDGET + 100;
const kinds = { c: { machine: counter, mailbox: { capacity: 10_000 } } };

/** Resolves in the event loop's check phase, after the callbacks already queued there. */
const nextCheckPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('drain budget', () => {
  it('delivers a flood of tells in a first batch of DRAIN_BUDGET, yields to the event loop, then delivers the rest', async () => {
    const rt = createRuntime({ kinds });
    for (let i = 0; i < FLOOD; i++) rt.tell('c/1', { type: 'inc' });
    let atYield: number | undefined;
    setImmediate(() => (atYield = rt.snapshot('c/1')!.context.n));
    await nextCheckPhase();
    expect(atYield).toBe(DRAIN_BUDGET);
    await nextCheckPhase();
    expect(rt.snapshot('c/1')!.context.n).toBe(FLOOD);
    await rt.shutdown();
  });

  it('answers a flood of asks in a first batch of DRAIN_BUDGET too, though each answer ends a turn during the drain', async () => {
    const rt = createRuntime({ kinds });
    let answered = 0;
    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < FLOOD; i++) answers.push(rt.ask('c/1', { type: 'get' }).then(() => answered++));
    let atYield: number | undefined;
    setImmediate(() => (atYield = answered));
    await nextCheckPhase();
    expect(atYield).toBe(DRAIN_BUDGET);
    await settled(Promise.all(answers));
    expect(answered).toBe(FLOOD);
    await rt.shutdown();
  });
});
