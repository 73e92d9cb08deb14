/**
 * The Stately bridge against `@statelyai/inspect`'s own receiving side: a relay on
 * 127.0.0.1 (what the package's `createInspectorServer` does: every frame from one client
 * to the others) with the package's `createWebSocketReceiver` as the real client. The
 * events it receives describe the actors and states the runtime has, and no secret.
 */
import type { AddressInfo } from 'node:net';
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../machines/agent.js';
import { sessionKind } from '../../machines/session.js';
import { createRuntime, simulated, SimulatedClock } from '../../src/index.js';
import { createGatewayServer } from '../../src/gateway/createGatewayServer.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { DEFAULT_STATELY_URL, loadStately, STATELY_WARNING, statelyBridge } from '../../src/inspect/stately.js';
import { parseServeArgs, serve, UsageError } from '../../src/cli/serve.js';

const SECRET = 'sk-live-NEVER-SHOW-THIS';

/** The bits of `ws` the relay uses (the package ships no types here). */
interface WsServer {
  clients: Set<{ readyState: number; send(d: string): void; terminate(): void }>;
  address(): AddressInfo;
  on(e: 'connection', f: (ws: { on(e: 'message', f: (d: Buffer) => void): void; send(d: string): void }) => void): void;
  on(e: 'listening', f: () => void): void;
  close(f: () => void): void;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A relay like createInspectorServer's, on 127.0.0.1 port 0, and a receiver that is connected and listening. */
async function relayAndReceiver() {
  const { WebSocketServer } = (await import('ws' as string)) as { WebSocketServer: new (o: { host: string; port: number }) => WsServer };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.on('listening', r));
  let first = true;
  wss.on('connection', (ws) => {
    // The first client is the receiver: greet it, so the test knows it listens.
    if (first) ws.send(JSON.stringify({ type: 'relay.hello' }));
    first = false;
    ws.on('message', (data) => {
      for (const c of wss.clients) if (c !== (ws as unknown) && c.readyState === 1) c.send(data.toString());
    });
  });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  );
  const url = `ws://127.0.0.1:${wss.address().port}`;
  const received: StatelyInspectionEvent[] = [];
  const waiters: { done: () => boolean; resolve: () => void }[] = [];
  const receiver = createWebSocketReceiver({ server: url });
  let hello!: () => void;
  const greeted = new Promise<void>((r) => (hello = r));
  receiver.subscribe((e) => {
    if ((e as { type: string }).type === 'relay.hello') return hello();
    received.push(e);
    for (const w of waiters.splice(0)) (w.done() ? w.resolve : () => waiters.push(w))();
  });
  await greeted;
  /** Resolves once `done()` holds over what was received (bounded by the test timeout). */
  const until = (done: () => boolean) => (done() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ done, resolve })));
  return { url, received, until, clients: () => wss.clients.size };
}

function runtime() {
  const clock = new SimulatedClock();
  const rt = createRuntime({
    clock,
    kinds: {
      session: sessionKind({ provider: simulated({ clock, tokensPerSecond: 10, text: `a b c d ${SECRET}` }), system: `system ${SECRET}` }),
      agent: agentKind({ subscriptions: [{ id: 'main', apiKey: SECRET }], handle: async () => `answer`, restart: async () => undefined }),
    },
  });
  cleanups.push(() => rt.shutdown({ drain: false }));
  return { clock, rt };
}

const of = (received: StatelyInspectionEvent[], sessionId: string, type: string) => received.filter((e) => e.sessionId === sessionId && e.type === type);

describe('Stately bridge', () => {
  it('sends actors, events and snapshots of a superseded stream to the Stately receiver, with public views only', async () => {
    const relay = await relayAndReceiver();
    const { clock, rt } = runtime();
    // Live before the bridge starts: registered with what it publishes now.
    await rt.ask('agent/a1', { type: 'request', input: { password: SECRET } });
    const warnings: string[] = [];
    const bridge = await statelyBridge(rt, { url: relay.url, warn: (m) => warnings.push(m) });
    cleanups.push(() => bridge.stop());
    expect(warnings).toEqual([STATELY_WARNING]);

    const ref = rt.ref('session/u1');
    ref.stream({ type: 'prompt', text: `first ${SECRET}` }).subscribe({ error: () => {} });
    await clock.tick(250);
    const b = new Promise<void>((resolve) => ref.stream({ type: 'prompt', text: 'second' }).subscribe({ complete: resolve, error: () => {} }));
    await clock.runAll();
    await b;
    await relay.until(() => of(relay.received, 'session/u1', '@xstate.snapshot').some((e) => ((e as { snapshot: { value?: unknown } }).snapshot).value === 'idle'));

    const [actor] = of(relay.received, 'session/u1', '@xstate.actor');
    expect(actor).toMatchObject({ name: 'session', snapshot: { status: 'active', value: 'idle' } });
    const definition = JSON.parse((actor as { definition: string }).definition) as { id: string; initial: string; states: Record<string, { on?: Record<string, { target?: string[] }[]>; type?: string }> };
    expect(definition).toMatchObject({ id: 'session', initial: 'idle' });
    // The package serializes with sorted keys.
    expect(Object.keys(definition.states).sort()).toEqual(['cancelling', 'closed', 'idle', 'settled', 'streaming']);
    expect(definition.states.streaming!.on!.prompt![0]!.target).toEqual(['#session.cancelling']);
    expect(definition.states.closed!.type).toBe('final');

    expect(of(relay.received, 'session/u1', '@xstate.event').map((e) => (e as { event: { type: string } }).event.type)).toEqual([
      'prompt',
      'prompt',
      '@stream.closed',
      '@stream.closed',
    ]);
    const snapshots = of(relay.received, 'session/u1', '@xstate.snapshot').map((e) => (e as { snapshot: { value: unknown; context: Record<string, unknown> } }).snapshot);
    expect(snapshots.map((s) => s.value)).toEqual(['streaming', 'cancelling', 'streaming', 'idle']);
    // The session's public view, never its history (prompts and answers).
    expect(snapshots[0]!.context).toEqual({ gen: 1, active: { gen: 1, requestId: expect.any(String) }, messages: 1, closing: false });
    expect(snapshots.at(-1)!.context).toMatchObject({ gen: 2, messages: 4, closing: false });

    // The agent that was live before the bridge: registered with its state and context.
    expect(of(relay.received, 'agent/a1', '@xstate.actor')).toEqual([
      expect.objectContaining({ name: 'agent', snapshot: expect.objectContaining({ status: 'active', value: 'idle', context: expect.objectContaining({ subscriptions: ['main'], epoch: 0 }) }) }),
    ]);
    expect(JSON.stringify(relay.received)).not.toContain(SECRET);
  });

  it('is an option of createGatewayServer, logs the warning, and stops with the server', async () => {
    const relay = await relayAndReceiver();
    const { clock, rt } = runtime();
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
    const server = await createGatewayServer(rt as unknown as Runtime, { logger, defaultMetrics: false, stately: { url: relay.url } });
    // Without a `warn` of its own, the warning goes to the server's log, at warn level.
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[40, STATELY_WARNING]]);
    rt.tell('session/s', { type: 'prompt', text: 'hi' });
    await clock.runAll();
    await relay.until(() => of(relay.received, 'session/s', '@xstate.snapshot').length >= 2);
    expect(relay.clients()).toBe(2);
    await server.app.close();
    // The bridge stops inspecting and its socket closes with the server; nothing is sent after.
    expect((rt as unknown as { activations: Map<string, { tap?: unknown }> }).activations.get('session/s')!.tap).toBeUndefined();
    for (let i = 0; i < 1_000 && relay.clients() > 1; i++) await new Promise<void>((r) => setImmediate(r));
    expect(relay.clients()).toBe(1);
    const count = relay.received.length;
    rt.tell('session/s', { type: 'prompt', text: 'again' });
    await clock.runAll();
    expect(relay.received.length).toBe(count);
  });

  it('interlock serve --stately prints the warning and forwards its actors', async () => {
    expect(parseServeArgs(['--stately'], {}).stately).toBe(DEFAULT_STATELY_URL);
    expect(parseServeArgs([], {}).stately).toBeUndefined();
    expect(() => parseServeArgs(['--stately-url', 'ws://x'], {})).toThrow(UsageError);
    expect(() => parseServeArgs(['--stately', '--stately-url', 'http://x'], {})).toThrow(/ws:\/\/ or wss:\/\//);
    const relay = await relayAndReceiver();
    const lines: string[] = [];
    const served = await serve(parseServeArgs(['--port', '0', '--log-level', 'silent', '--stately', '--stately-url', relay.url], {}), (l) => lines.push(l));
    cleanups.push(() => served.shutdown());
    expect(lines).toContain(`  WARNING  ${STATELY_WARNING}`);
    expect(lines).toContain(`  stately  sending to the Stately relay at ${relay.url}`);
    const res = await fetch(`${served.url}/v1/actors/session/cli/tell`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: { type: 'cancel' } }) });
    expect(res.status).toBe(202);
    await relay.until(() => of(relay.received, 'session/cli', '@xstate.actor').length === 1);
    expect(of(relay.received, 'session/cli', '@xstate.actor')[0]).toMatchObject({ name: 'session', snapshot: { value: 'idle' } });
  });

  it('answers INTERLOCK_MISSING_PEER, naming the install command, when the package is not installed', async () => {
    await expect(loadStately('@statelyai/not-installed-here')).rejects.toMatchObject({
      code: 'INTERLOCK_MISSING_PEER',
      message: expect.stringContaining('npm install @statelyai/not-installed-here@0.7'),
    });
    await expect(loadStately()).resolves.toHaveProperty('createWebSocketInspector');
  });
});
