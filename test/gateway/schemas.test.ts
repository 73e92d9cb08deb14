/**
 * Every constraint of the gateway's route schemas (src/gateway/schemas.ts), one request
 * each, fast (`app.inject`): what a schema allows is accepted (every enum value, every
 * allowed shape), and each thing it refuses is a 400 naming the field. Bodies and queries
 * are validated as sent: no coercion, and no field a schema does not allow is dropped
 * silently (a tell's `timeout` for `timeoutMs` is refused, not ignored).
 *
 * The slow fuzz (bad-input.test.ts) sends the same routes random input at volume.
 */
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KindConfig } from '../../src/index.js';
import { vaultKind } from '../transport/helpers.js';
import { closeAll, MODEL, startGateway, type TestGateway } from './helpers.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ kinds: { vault: vaultKind() as KindConfig }, logLevel: 'warn' });
  return closeAll;
});

type Outcome = { status: number; code?: string; param?: string | null; message?: string };

async function send(request: InjectOptions): Promise<Outcome> {
  const res = await gw.app.inject(request);
  if (res.statusCode < 400) return { status: res.statusCode };
  const { error } = res.json() as { error: { code: string; param: string | null; message: string } };
  return { status: res.statusCode, code: error.code, param: error.param, message: error.message };
}

const user = { role: 'user', content: 'hi' };
const chat = (body: Record<string, unknown>, headers: Record<string, string> = {}): InjectOptions => ({
  method: 'POST',
  url: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', ...headers },
  payload: { model: MODEL, messages: [user], ...body },
});
const tell = (body: unknown, address = 'vault/a'): InjectOptions => ({ method: 'POST', url: `/v1/actors/${address}/tell`, payload: body as object });
const refused = (param: string | null, code = 'INTERLOCK_INVALID_REQUEST') => ({ status: 400, code, param });

describe('the chat route (POST /v1/chat/completions)', () => {
  it('accepts every allowed header value, role, content shape, and null for the optional fields', async () => {
    const accepted: [string, InjectOptions][] = [
      ['plain', chat({})],
      ...['interrupt', 'enqueue', 'reject', 'rollback'].map((v): [string, InjectOptions] => [`on-busy ${v}`, chat({}, { 'x-interlock-on-busy': v, 'x-session-id': `busy-${v}` })]),
      ...['cancel', 'detach'].map((v): [string, InjectOptions] => [`on-disconnect ${v}`, chat({}, { 'x-interlock-on-disconnect': v })]),
      ['session id', chat({}, { 'x-session-id': 'A1._:-z' })],
      ...['system', 'developer', 'user', 'assistant', 'tool', 'function'].map((role): [string, InjectOptions] => [`role ${role}`, chat({ messages: [{ role, content: 'x' }, user] })]),
      ['content parts', chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] })],
      ['null content', chat({ messages: [{ role: 'assistant', content: null }, user] })],
      ['no content', chat({ messages: [{ role: 'assistant' }, user] })],
      ['stream false', chat({ stream: false })],
      ['stream null', chat({ stream: null })],
      ['stream_options', chat({ stream_options: { include_usage: true } })],
      ['stream_options null', chat({ stream_options: null })],
      ['n 1', chat({ n: 1 })],
      ['n null', chat({ n: null })],
      ['unknown field (OpenAI clients send many)', chat({ temperature: 0.2, user: 'u' })],
    ];
    for (const [name, request] of accepted) expect([name, await send(request)]).toEqual([name, { status: 200 }]);
  });

  it('refuses each thing its schema does not allow with 400, naming the field', async () => {
    const cases: [string, InjectOptions, ReturnType<typeof refused>][] = [
      ['bad session id', chat({}, { 'x-session-id': '-x' }), refused('x-session-id', 'INTERLOCK_INVALID_ADDRESS')],
      ['session id not a string (empty)', chat({}, { 'x-session-id': '' }), refused('x-session-id', 'INTERLOCK_INVALID_ADDRESS')],
      ['on-busy', chat({}, { 'x-interlock-on-busy': 'sometimes' }), refused('x-interlock-on-busy')],
      ['on-disconnect', chat({}, { 'x-interlock-on-disconnect': 'later' }), refused('x-interlock-on-disconnect')],
      ['no model', chat({ model: undefined }), refused(null)],
      ['no messages', chat({ messages: undefined }), refused(null)],
      ['empty model', chat({ model: '' }), refused('model')],
      ['model not a string', chat({ model: 5 }), refused('model')],
      ['model too long', chat({ model: 'm'.repeat(257) }), refused('model')],
      ['messages not an array', chat({ messages: 'hi' }), refused('messages')],
      ['no message', chat({ messages: [] }), refused('messages')],
      ['a message not an object', chat({ messages: ['hi', user] }), refused('messages.0')],
      ['a message without role', chat({ messages: [{ content: 'x' }, user] }), refused('messages.0')],
      ['an unknown role', chat({ messages: [{ role: 'robot', content: 'x' }, user] }), refused('messages.0.role')],
      ['content a number', chat({ messages: [{ role: 'user', content: 5 }] }), refused('messages.0.content')],
      ['a content part without type', chat({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }), refused('messages.0.content')],
      ['a content part not an object', chat({ messages: [{ role: 'user', content: ['hi'] }] }), refused('messages.0.content')],
      ['a content part type too long', chat({ messages: [{ role: 'user', content: [{ type: 't'.repeat(65) }] }] }), refused('messages.0.content')],
      ['a content part text not a string', chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }), refused('messages.0.content')],
      ['no user message', chat({ messages: [{ role: 'system', content: 'x' }] }), refused('messages')],
      ['a user message without content', chat({ messages: [{ role: 'user' }] }), refused('messages')],
      ['stream a string', chat({ stream: 'true' }), refused('stream')],
      ['stream_options a string', chat({ stream_options: 'yes' }), refused('stream_options')],
      ['include_usage a string', chat({ stream_options: { include_usage: 'yes' } }), refused('stream_options.include_usage')],
      ['n 2', chat({ n: 2 }), refused('n')],
      ['n a string', chat({ n: '1' }), refused('n')],
    ];
    for (const [name, request, expected] of cases) expect([name, await send(request)]).toEqual([name, expect.objectContaining(expected)]);
  });
});

describe('the actor routes', () => {
  it('accept a tell and an ask with every priority, a deadline, and an event with fields of its own', async () => {
    for (const priority of ['high', 'normal', 'low']) expect([priority, await send(tell({ event: { type: 'inc' }, priority }))]).toEqual([priority, { status: 202 }]);
    expect(await send(tell({ event: { type: 'inc', by: 2 }, timeoutMs: 3_600_000 }))).toEqual({ status: 202 });
    expect(await send({ method: 'POST', url: '/v1/actors/vault/a/ask', payload: { event: { type: 'get' }, timeoutMs: 60_000, priority: 'high' } })).toEqual({ status: 200 });
  });

  it('refuse a malformed address, a body without an event or with a field they do not know, and a bad type, deadline or priority', async () => {
    const cases: [string, InjectOptions, ReturnType<typeof refused>][] = [
      ['kind', tell({ event: { type: 'inc' } }, 'Vault/a'), refused('kind', 'INTERLOCK_INVALID_ADDRESS')],
      ['key', tell({ event: { type: 'inc' } }, 'vault/-a'), refused('key', 'INTERLOCK_INVALID_ADDRESS')],
      ['no event', tell({}), refused(null)],
      ['an unknown field', tell({ event: { type: 'inc' }, timeout: 5 }), refused('timeout')],
      ['event not an object', tell({ event: 'inc' }), refused('event')],
      ['event without type', tell({ event: {} }), refused('event')],
      ['empty type', tell({ event: { type: '' } }), refused('event.type')],
      ['type not a string', tell({ event: { type: 5 } }), refused('event.type')],
      ['type too long', tell({ event: { type: 't'.repeat(129) } }), refused('event.type')],
      ['deadline 0', tell({ event: { type: 'inc' }, timeoutMs: 0 }), refused('timeoutMs')],
      ['deadline over an hour', tell({ event: { type: 'inc' }, timeoutMs: 3_600_001 }), refused('timeoutMs')],
      ['deadline a fraction', tell({ event: { type: 'inc' }, timeoutMs: 1.5 }), refused('timeoutMs')],
      ['deadline a string', tell({ event: { type: 'inc' }, timeoutMs: '5' }), refused('timeoutMs')],
      ['priority', tell({ event: { type: 'inc' }, priority: 'urgent' }), refused('priority')],
      ['ask: no event', { method: 'POST', url: '/v1/actors/vault/a/ask', payload: {} }, refused(null)],
      ['ask: an unknown field', { method: 'POST', url: '/v1/actors/vault/a/ask', payload: { event: { type: 'get' }, x: 1 } }, refused('x')],
      ['view: key', { method: 'GET', url: '/v1/actors/vault/-a' }, refused('key', 'INTERLOCK_INVALID_ADDRESS')],
    ];
    for (const [name, request, expected] of cases) expect([name, await send(request)]).toEqual([name, expect.objectContaining(expected)]);
  });

  it('list: accepts its four query fields, and refuses a bad kind, limit, an over-long after or q, and any other field', async () => {
    expect(await send({ method: 'GET', url: '/v1/actors?kind=vault&limit=1000&after=vault/a&q=a' })).toEqual({ status: 200 });
    for (const limit of ['1', '9', '10', '999']) expect([limit, await send({ method: 'GET', url: `/v1/actors?limit=${limit}` })]).toEqual([limit, { status: 200 }]);
    const cases: [string, string, ReturnType<typeof refused>][] = [
      ['kind', '/v1/actors?kind=Vault', refused('kind')],
      ['limit 0', '/v1/actors?limit=0', refused('limit')],
      ['limit 1001', '/v1/actors?limit=1001', refused('limit')],
      ['limit 01', '/v1/actors?limit=01', refused('limit')],
      ['after', `/v1/actors?after=${'a'.repeat(401)}`, refused('after')],
      ['q', `/v1/actors?q=${'a'.repeat(201)}`, refused('q')],
      ['an unknown field', '/v1/actors?limt=5', refused('limt')],
    ];
    for (const [name, url, expected] of cases) expect([name, await send({ method: 'GET', url })]).toEqual([name, expect.objectContaining(expected)]);
  });

  it('events: refuses an over-long token, since or Last-Event-ID, and a malformed address', async () => {
    const cases: [string, InjectOptions, ReturnType<typeof refused>][] = [
      ['token', { method: 'GET', url: `/v1/actors/vault/a/events?token=${'t'.repeat(4097)}` }, refused('token')],
      ['since', { method: 'GET', url: `/v1/actors/vault/a/events?since=${'1'.repeat(41)}` }, refused('since')],
      ['last-event-id', { method: 'GET', url: '/v1/actors/vault/a/events', headers: { 'last-event-id': '1'.repeat(41) } }, refused('last-event-id')],
      ['key', { method: 'GET', url: '/v1/actors/vault/-a/events' }, refused('key', 'INTERLOCK_INVALID_ADDRESS')],
    ];
    for (const [name, request, expected] of cases) expect([name, await send(request)]).toEqual([name, expect.objectContaining(expected)]);
  });
});

describe('GET /health', () => {
  it('accepts address and addresses=true|false, and refuses another addresses value, an over-long address and any other field', async () => {
    for (const url of ['/health', '/health?addresses=true', '/health?addresses=false', '/health?address=vault/a']) expect([url, await send({ method: 'GET', url })]).toEqual([url, { status: 200 }]);
    const cases: [string, string, ReturnType<typeof refused>][] = [
      ['addresses', '/health?addresses=yes', refused('addresses')],
      ['address', `/health?address=${'a'.repeat(401)}`, refused('address')],
      ['an unknown field', '/health?verbose=1', refused('verbose')],
    ];
    for (const [name, url, expected] of cases) expect([name, await send({ method: 'GET', url })]).toEqual([name, expect.objectContaining(expected)]);
  });
});
