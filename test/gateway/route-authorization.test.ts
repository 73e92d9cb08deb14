/**
 * The `authorize` hook on the HTTP routes (src/gateway/authorizeRoutes.ts): the exact
 * question each route asks (address, pattern, action, token), the routes that ask nothing,
 * the same questions when the gateway is mounted under a prefix, and a refusal answered
 * 403 INTERLOCK_FORBIDDEN before the route runs.
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { KindConfig } from '../../src/index.js';
import { createRuntime } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { createGateway } from '../../src/gateway/createGateway.js';
import { gatewaySessionKind } from '../../src/gateway/sessionKind.js';
import { simulated } from '../../src/providers/simulated.js';
import type { AuthorizeRequest } from '../../src/transport/options.js';
import { counterMachine } from '../unit/fixtures.js';
import { closeAll, MODEL, startGateway } from './helpers.js';

afterEach(closeAll);

const TOKEN = 'route-token';
const counter = { machine: counterMachine, publicEvents: ['inc', 'get'] } as KindConfig;

interface Call {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Sends each request in turn and returns, per request, its status and the questions `authorize` was asked for it. */
async function questions(base: string, asked: AuthorizeRequest[], calls: Call[]): Promise<[string, number, AuthorizeRequest[]][]> {
  const out: [string, number, AuthorizeRequest[]][] = [];
  for (const c of calls) {
    const before = asked.length;
    const res = await fetch(`${base}${c.path}`, {
      method: c.method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(c.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...c.headers,
      },
      ...(c.body === undefined ? {} : { body: JSON.stringify(c.body) }),
    });
    await res.arrayBuffer();
    out.push([`${c.method} ${c.path}`, res.status, asked.slice(before)]);
  }
  return out;
}

const q = (address: string, action: AuthorizeRequest['action'], pattern = false): AuthorizeRequest => ({ token: TOKEN, address, pattern, action });
const chat = (session?: string): Call => ({
  method: 'POST',
  path: '/v1/chat/completions',
  headers: session === undefined ? {} : { 'x-session-id': session },
  body: { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
});

describe('authorize on the HTTP routes', { timeout: 30_000 }, () => {
  it('asks subscribe to read an actor, send to act on it, ask to ask it, and subscribe for the pattern a list covers', async () => {
    const asked: AuthorizeRequest[] = [];
    const gw = await startGateway({
      kinds: { counter },
      gateway: { token: TOKEN, authorize: (r) => (asked.push(r), true) },
      logLevel: 'warn',
    });
    expect(
      await questions(gw.url, asked, [
        { method: 'POST', path: '/v1/actors/counter/a/tell', body: { event: { type: 'inc' } } },
        { method: 'POST', path: '/v1/actors/counter/a/ask', body: { event: { type: 'get' } } },
        { method: 'GET', path: '/v1/actors/counter/a' },
        { method: 'GET', path: '/v1/actors/counter/a/mailbox' },
        { method: 'HEAD', path: '/v1/actors/counter/a' },
        { method: 'POST', path: '/v1/actors/counter/a/cancel' },
        { method: 'POST', path: '/v1/actors/counter/a/revive' },
        { method: 'GET', path: '/v1/actors' },
        { method: 'GET', path: '/v1/actors?kind=counter' },
        { method: 'HEAD', path: '/v1/actors?kind=counter' },
        chat('s1'),
      ]),
    ).toEqual([
      ['POST /v1/actors/counter/a/tell', 202, [q('counter/a', 'send')]],
      ['POST /v1/actors/counter/a/ask', 200, [q('counter/a', 'ask')]],
      ['GET /v1/actors/counter/a', 200, [q('counter/a', 'subscribe')]],
      ['GET /v1/actors/counter/a/mailbox', 200, [q('counter/a', 'subscribe')]],
      ['HEAD /v1/actors/counter/a', 200, [q('counter/a', 'subscribe')]],
      ['POST /v1/actors/counter/a/cancel', 409, [q('counter/a', 'send')]],
      ['POST /v1/actors/counter/a/revive', 409, [q('counter/a', 'send')]],
      ['GET /v1/actors', 200, [q('*', 'subscribe', true)]],
      ['GET /v1/actors?kind=counter', 200, [q('counter/*', 'subscribe', true)]],
      ['HEAD /v1/actors?kind=counter', 200, [q('counter/*', 'subscribe', true)]],
      ['POST /v1/chat/completions', 200, [q('session/s1', 'ask')]],
    ]);
  });

  it('asks nothing of routes that hold no actor data, of a chat without X-Session-Id (its own fresh session), or of an unknown route', async () => {
    const asked: AuthorizeRequest[] = [];
    const gw = await startGateway({
      kinds: { counter },
      gateway: { token: TOKEN, authorize: (r) => (asked.push(r), false) },
      logLevel: 'warn',
    });
    expect(
      await questions(gw.url, asked, [
        { method: 'GET', path: '/v1/kinds' },
        { method: 'GET', path: '/v1/kinds/counter/machine' },
        { method: 'GET', path: '/v1/models', headers: { 'x-session-id': 's1' } },
        { method: 'GET', path: '/health', headers: { 'x-session-id': 's1' } },
        { method: 'GET', path: '/nowhere/v1/actors' },
        chat(),
      ]),
    ).toEqual([
      ['GET /v1/kinds', 200, []],
      ['GET /v1/kinds/counter/machine', 200, []],
      ['GET /v1/models', 200, []],
      ['GET /health', 200, []],
      ['GET /nowhere/v1/actors', 404, []],
      ['POST /v1/chat/completions', 200, []],
    ]);
  });

  it('asks the same under a prefix', async () => {
    const rt = createRuntime({
      kinds: { session: gatewaySessionKind({ provider: simulated({ tokensPerSecond: 2_000 }) }) as KindConfig, counter },
    }) as unknown as Runtime;
    const asked: AuthorizeRequest[] = [];
    const app = Fastify();
    await app.register(createGateway(rt, { token: TOKEN, models: [MODEL], websocket: false, metrics: false, authorize: (r) => (asked.push(r), true) }), { prefix: '/api' });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      expect(
        await questions(`http://127.0.0.1:${port}/api`, asked, [
          { method: 'GET', path: '/v1/actors' },
          { method: 'POST', path: '/v1/actors/counter/a/ask', body: { event: { type: 'get' } } },
          chat('s2'),
        ]),
      ).toEqual([
        ['GET /v1/actors', 200, [q('*', 'subscribe', true)]],
        ['POST /v1/actors/counter/a/ask', 200, [q('counter/a', 'ask')]],
        ['POST /v1/chat/completions', 200, [q('session/s2', 'ask')]],
      ]);
    } finally {
      await rt.shutdown({ drain: false });
      await app.close();
    }
  });

  it('answers a refusal 403 INTERLOCK_FORBIDDEN naming the address and action, before the route runs', async () => {
    const asked: AuthorizeRequest[] = [];
    const gw = await startGateway({
      kinds: { counter },
      gateway: { authorize: async (r) => (asked.push(r), false) },
      logLevel: 'warn',
    });
    const res = await fetch(`${gw.url}/v1/actors/counter/b/tell`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer  other-token ' },
      body: JSON.stringify({ event: { type: 'inc' } }),
    });
    const body = (await res.json()) as { error: { code: string; message: string; type: string } };
    expect([res.status, body.error.code, body.error.type]).toEqual([403, 'INTERLOCK_FORBIDDEN', 'permission_error']);
    expect(body.error.message).toContain("'counter/b'");
    expect(body.error.message).toContain('send');
    expect(asked).toEqual([{ token: 'other-token', address: 'counter/b', pattern: false, action: 'send' }]);
    expect(gw.rt.addresses('counter')).toEqual([]);
  });

  it('asks for a HEAD what it asks for the GET it mirrors, so a refused token learns nothing from its headers', async () => {
    // Bug (fixed with this test): HEAD /v1/actors skipped authorize and answered 200 with the
    // list's content-length; HEAD /v1/actors/{kind}/{key} asked `send` instead of `subscribe`.
    const asked: AuthorizeRequest[] = [];
    const gw = await startGateway({
      kinds: { counter },
      gateway: { token: TOKEN, authorize: (r) => (asked.push(r), false) },
      logLevel: 'warn',
    });
    gw.rt.tell('counter/a', { type: 'inc' } as never);
    expect(
      await questions(gw.url, asked, [
        { method: 'HEAD', path: '/v1/actors' },
        { method: 'HEAD', path: '/v1/actors/counter/a' },
        { method: 'HEAD', path: '/v1/actors/counter/a/mailbox' },
      ]),
    ).toEqual([
      ['HEAD /v1/actors', 403, [q('*', 'subscribe', true)]],
      ['HEAD /v1/actors/counter/a', 403, [q('counter/a', 'subscribe')]],
      ['HEAD /v1/actors/counter/a/mailbox', 403, [q('counter/a', 'subscribe')]],
    ]);
  });
});
