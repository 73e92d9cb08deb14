/**
 * The runtime `interlock serve` runs by default (src/gateway/serveRuntime.ts) and the
 * gateway's session kind (src/gateway/sessionKind.ts): which provider and model each flag
 * picks, what the demo agent answers, the policies of the bundled kinds, and that the
 * session options reach the session machine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type KindConfig } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import type { ChatRequest, Provider } from '../../src/providers/types.js';
import { simulated } from '../../src/providers/simulated.js';
import { serveProvider, serveRuntime, SIMULATED_MODEL } from '../../src/gateway/serveRuntime.js';
import { gatewaySessionKind, type GatewaySessionOptions } from '../../src/gateway/sessionKind.js';
import { startUpstream, upstreamTokens, type Upstream } from '../fixtures/upstream.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function upstream(): Promise<Upstream> {
  const u = await startUpstream({ tokens: 3, delayMs: 0 });
  cleanups.push(() => u.close());
  return u;
}

function served(options: Parameters<typeof serveRuntime>[0] = {}) {
  const built = serveRuntime(options);
  cleanups.push(() => built.runtime.shutdown({ drain: false }));
  return built;
}

describe('serveProvider', () => {
  it('runs the simulated model by default, named interlock-simulated unless --model names it', () => {
    expect(serveProvider({}).model).toBe(SIMULATED_MODEL);
    expect(serveProvider({ model: 'mine' }).model).toBe('mine');
  });

  it('hands --tokens-per-second to the simulated model, which refuses a bad one', () => {
    expect(() => serveProvider({ tokensPerSecond: -1 })).toThrow(expect.objectContaining({ code: 'INTERLOCK_INVALID_CONFIG', message: expect.stringContaining('got -1') }));
    expect(() => serveProvider({ tokensPerSecond: 200 })).not.toThrow();
  });

  it("names an upstream's model 'default' unless --model names it, and sends it upstream with the API key", async () => {
    const u = await upstream();
    expect(serveProvider({ upstream: u.url }).model).toBe('default');
    const { provider, model } = serveProvider({ upstream: u.url, model: 'llama', apiKey: 'sk-test' });
    expect(model).toBe('llama');
    let text = '';
    for await (const c of provider.stream({ messages: [{ role: 'user', content: 'hi' }] }, new AbortController().signal)) if (c.type === 'delta') text += c.text;
    expect(text).toBe(upstreamTokens(3).join(''));
    expect(u.received.map((r) => [r.headers.authorization, (r.body as { model?: string }).model])).toEqual([['Bearer sk-test', 'llama']]);
  });

  it('sends no Authorization header upstream without an API key', async () => {
    const u = await upstream();
    const { provider } = serveProvider({ upstream: u.url });
    for await (const _ of provider.stream({ messages: [{ role: 'user', content: 'hi' }] }, new AbortController().signal));
    expect(u.received.map((r) => [r.headers.authorization, (r.body as { model?: string }).model])).toEqual([[undefined, 'default']]);
  });
});

describe('serveRuntime', () => {
  it("answers the demo agent's request with the model's reply to its message", async () => {
    const { runtime } = served({ tokensPerSecond: 10_000 });
    await expect(runtime.ask('agent/a', { type: 'request', input: { message: '  two   words ' } } as never)).resolves.toEqual({
      text: `You said: "two words". This is Interlock's simulated model answering without a network.`,
    });
  });

  it('sends the model an input without a string message as its JSON', async () => {
    const u = await upstream();
    const { runtime } = served({ upstream: u.url });
    await expect(runtime.ask('agent/a', { type: 'request', input: { message: 7, n: [1] } } as never)).resolves.toEqual({ text: upstreamTokens(3).join('') });
    await expect(runtime.ask('agent/a', { type: 'request', input: null } as never)).resolves.toEqual({ text: upstreamTokens(3).join('') });
    expect(u.received.map((r) => (r.body as { messages: ChatRequest['messages'] }).messages)).toEqual([
      [{ role: 'user', content: '{"message":7,"n":[1]}' }],
      [{ role: 'user', content: 'null' }],
    ]);
  });

  it('runs the bundled session and agent kinds with a cap on live actors and a 64-envelope mailbox', async () => {
    const { runtime } = served();
    expect(runtime.kinds().map((k) => [k.name, k.maxActive])).toEqual([
      ['session', 10_000],
      ['agent', 10_000],
    ]);
    // 65 requests sent in one turn: the mailbox holds 64 of them and refuses the 65th.
    const u = await startUpstream({ tokens: 1, hold: true });
    cleanups.push(() => u.close());
    const held = served({ upstream: u.url }).runtime;
    const outcomes: string[] = [];
    for (let i = 0; i < 65; i++) {
      held.ask('agent/b', { type: 'request', input: { message: `m${i}` } } as never).then(
        () => outcomes.push('ok'),
        (e: { code?: string }) => outcomes.push(String(e.code)),
      );
    }
    for (let i = 0; i < 20 && !outcomes.length; i++) await new Promise((r) => setImmediate(r));
    expect(outcomes).toEqual(['INTERLOCK_MAILBOX_FULL']);
  });

  it('lets --config kinds replace a bundled kind of the same name', () => {
    const { runtime } = served({ kinds: { agent: gatewaySessionKind({ provider: simulated() }) as KindConfig } });
    expect(runtime.kinds().find((k) => k.name === 'agent')!.publicEvents).toEqual(['prompt', 'cancel', 'disconnect', 'close']);
  });
});

/** A runtime with the gateway's session kind over the simulated model, recording what the model is asked. */
function recordedSession(options: Omit<GatewaySessionOptions, 'provider'>) {
  const seen: ChatRequest[] = [];
  const inner = simulated({ tokensPerSecond: 10_000 });
  const provider: Provider = { name: 'recording', stream: (request, signal) => (seen.push(request), inner.stream(request, signal)) };
  const rt = createRuntime({ kinds: { session: gatewaySessionKind({ provider, ...options }) as KindConfig } }) as unknown as Runtime;
  cleanups.push(() => rt.shutdown({ drain: false }));
  return { rt, seen };
}

describe('gatewaySessionKind', () => {
  it('hands system, model and the busy and disconnect policies to the session machine', async () => {
    const { rt, seen } = recordedSession({ system: 'Be brief.', model: 'tiny', onBusy: 'reject', onDisconnect: 'detach' });
    await rt.ask('session/s', { type: 'prompt', text: 'hi' } as never);
    expect(seen.map((r) => [r.model, r.messages[0]])).toEqual([['tiny', { role: 'system', content: 'Be brief.' }]]);
    expect((rt.snapshot('session/s')!.context as { onBusy: string; onDisconnect: string })).toMatchObject({ onBusy: 'reject', onDisconnect: 'detach' });
  });

  it('defaults to interrupt and cancel, with no system message', async () => {
    const { rt, seen } = recordedSession({});
    await rt.ask('session/s', { type: 'prompt', text: 'hi' } as never);
    expect(seen.map((r) => [r.model, r.messages])).toEqual([[undefined, [{ role: 'user', content: 'hi' }]]]);
    expect((rt.snapshot('session/s')!.context as { onBusy: string; onDisconnect: string })).toMatchObject({ onBusy: 'interrupt', onDisconnect: 'cancel' });
  });
});
