/**
 * The gateway's fixed surface: the status table is complete and documented, nothing
 * internal crosses the wire, tokens compare in constant time, the loopback rule, and
 * the plugin mounted under a prefix in someone else's Fastify app.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, ErrorCodes, InterlockError, errors, type KindConfig } from '../../src/index.js';
import { simulated } from '../../src/providers/simulated.js';
import { bearerCheck, isLoopback } from '../../src/gateway/auth.js';
import { createGateway } from '../../src/gateway/createGateway.js';
import { GatewayCodes, STATUS, toWire } from '../../src/gateway/httpErrors.js';
import { gatewaySessionKind } from '../../src/gateway/sessionKind.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { closeAll, startGateway } from './helpers.js';

afterEach(closeAll);

describe('the status table', () => {
  it('maps every runtime and gateway code, and docs/http.md documents each with its status', () => {
    const doc = readFileSync(new URL('../../docs/http.md', import.meta.url), 'utf8');
    const all = [...Object.keys(ErrorCodes), ...Object.keys(GatewayCodes)].sort();
    expect(Object.keys(STATUS).sort()).toEqual(all);
    for (const [code, rule] of Object.entries(STATUS)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${rule.status} \\|`));
    }
  });

  it('never sends an internal message, a stack, or a non-Interlock error', () => {
    const upstream = new InterlockError('INTERLOCK_UPSTREAM_FAILED', 'Model server at http://10.0.0.7:11434/v1/chat/completions answered 500');
    expect(JSON.stringify(toWire(upstream).body)).not.toContain('10.0.0.7');
    expect(toWire(upstream).status).toBe(502);
    const crash = errors.turnFailed('agent/a', new Error('db password=hunter2'));
    expect(JSON.stringify(toWire(crash).body)).not.toContain('hunter2');
    const plain = toWire(new TypeError('x is undefined at /srv/app.js:12'));
    expect(plain.status).toBe(500);
    expect(plain.body.error).toEqual({ message: expect.not.stringContaining('/srv') as unknown as string, type: 'server_error', param: null, code: 'INTERLOCK_INTERNAL' });
    const full = toWire(errors.mailboxFull('session/u', 64));
    expect(full).toMatchObject({ status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'INTERLOCK_MAILBOX_FULL', param: null } } });
  });
});

describe('auth', () => {
  it('accepts exactly the bearer token, whatever the length of a guess', () => {
    const check = bearerCheck('s3cret');
    expect(() => check('Bearer s3cret')).not.toThrow();
    expect(() => check('bearer s3cret')).not.toThrow();
    for (const bad of [undefined, '', 'Bearer', 'Bearer s3cre', 'Bearer s3cret!', 'Basic s3cret', 's3cret', `Bearer ${'x'.repeat(10_000)}`]) {
      expect(() => check(bad), String(bad).slice(0, 20)).toThrow(expect.objectContaining({ code: 'INTERLOCK_UNAUTHORIZED' }));
    }
    expect(() => bearerCheck(undefined)(undefined)).not.toThrow();
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '::ffff:10.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });

  it('leaves a bare GET /health open and guards everything else, including unknown routes', async () => {
    const gw = await startGateway({ gateway: { token: 't' } });
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    for (const path of ['/health?addresses=true', '/metrics', '/v1/models', '/v1/actors', '/nowhere']) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_UNAUTHORIZED');
    }
    const ok = await fetch(`${gw.url}/health?address=session/x`, { headers: { authorization: 'Bearer t' } });
    expect(await ok.json()).toMatchObject({ status: 'ok', address: { address: 'session/x', status: 'inactive' } });
  });
});

describe('models', () => {
  it("lists the model 'interlock' when the options name none", async () => {
    const gw = await startGateway({ gateway: { models: undefined } });
    expect(((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(['interlock']);
  });
});

describe('mounted in an existing Fastify app', () => {
  it('serves under a prefix next to the app routes, with its own errors and auth only on its routes', async () => {
    const rt = createRuntime({ kinds: { session: gatewaySessionKind({ provider: simulated({ tokensPerSecond: 5_000, text: 'hi there' }) }) as KindConfig } });
    const app = Fastify({ logger: false });
    app.get('/', async () => ({ mine: true }));
    const gateway = createGateway(rt as unknown as Runtime, { token: 't', models: ['m'], defaultMetrics: false });
    await app.register(gateway, { prefix: '/ai' });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      expect(await (await fetch(`${url}/`)).json()).toEqual({ mine: true });
      expect((await fetch(`${url}/ai/health`)).status).toBe(200);
      expect((await fetch(`${url}/ai/v1/models`)).status).toBe(401);
      const res = await fetch(`${url}/ai/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('hi there');
      const metrics = await (await fetch(`${url}/ai/metrics`, { headers: { authorization: 'Bearer t' } })).text();
      expect(metrics).toMatch(/interlock_mailbox_depth\{kind="session"\} 0/);
      expect(metrics).toMatch(/interlock_chat_requests_total\{status="200"\} 1/);
      gateway.drain();
      const refused = await fetch(`${url}/ai/v1/models`, { headers: { authorization: 'Bearer t' } });
      expect(refused.status).toBe(503);
      expect((await fetch(`${url}/ai/health`)).status).toBe(503);
    } finally {
      await rt.shutdown({ drain: false });
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    }
  });
});

describe('routes', () => {
  it('pages GET /v1/actors by address, and GET /v1/actors/{kind}/{key} shows state and the public view', async () => {
    const gw = await startGateway({ logLevel: 'warn' });
    for (const k of ['c', 'a', 'e', 'b', 'd']) gw.rt.tell(`session/${k}` as never, { type: 'cancel' } as never);
    const page = async (q: string) => (await fetch(`${gw.url}/v1/actors?${q}`)).json() as Promise<{ data: { address: string }[]; has_more: boolean; next_after: string | null }>;
    const p1 = await page('kind=session&limit=2');
    expect(p1.data.map((d) => d.address)).toEqual(['session/a', 'session/b']);
    expect(p1).toMatchObject({ has_more: true, next_after: 'session/b' });
    const p2 = await page(`kind=session&limit=2&after=${encodeURIComponent(p1.next_after!)}`);
    expect(p2.data.map((d) => d.address)).toEqual(['session/c', 'session/d']);
    const p3 = await page(`kind=session&limit=2&after=${encodeURIComponent(p2.next_after!)}`);
    expect(p3).toMatchObject({ data: [{ address: 'session/e', kind: 'session', status: 'running', state: 'idle' }], has_more: false, next_after: null });
    const one = await (await fetch(`${gw.url}/v1/actors/session/a`)).json();
    expect(one).toEqual({ address: 'session/a', kind: 'session', status: 'running', state: 'idle', context: { gen: 0, active: undefined, pending: undefined, messages: 0, closing: false }, depth: 0, postponed: 0, inFlight: 0, restarts: 0 });
  });

  it('sends : keep-alive comments while a streamed prompt waits behind another', async () => {
    const gw = await startGateway({ provider: simulated({ tokensPerSecond: 20 }), session: { onBusy: 'enqueue' }, gateway: { keepAliveMs: 20 }, logLevel: 'warn' });
    const chat = (signal: AbortSignal) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        signal,
        headers: { 'content-type': 'application/json', 'x-session-id': 'ka' },
        body: JSON.stringify({ model: 'interlock-test', stream: true, messages: [{ role: 'user', content: 'a b c d e f g h' }] }),
      });
    const abort = new AbortController();
    const first = await chat(abort.signal);
    const firstReader = first.body!.getReader();
    await firstReader.read();
    const second = await chat(abort.signal); // headers arrive with the first keep-alive
    expect(second.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = second.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/^: keep-alive\n\n/);
    expect(gw.rt.view('session/ka')?.depth).toBe(1); // still waiting: no stream.started yet
    abort.abort();
    await Promise.allSettled([firstReader.cancel(), reader.cancel()]);
  });
});

