/**
 * Bad input, at volume: at least 10,000 random and mutated bodies, headers and paths
 * (fast-check, seeded) against a real gateway on a real socket. The server never
 * crashes or hangs, every one gets a 4xx with an OpenAI-shaped body and an INTERLOCK_
 * code, nothing is activated by them, and a well-behaved client streaming beside them
 * gets every answer whole.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { reply, type KindConfig } from '../../src/index.js';
import { simulated } from '../../src/providers/simulated.js';
import { closeAll, MODEL, startGateway } from './helpers.js';

afterEach(closeAll);

const RUNS = Math.max(10_000, Number(process.env.GATEWAY_FUZZ_RUNS ?? 10_000));
const SEED = Number(process.env.FC_SEED ?? 20_260_926);
const CONCURRENCY = 32;
const TOKEN = 'fuzz-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const REPLY = 'steady answer for the good client';

interface Case {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const text = (maxLength = 40) => fc.string({ unit: printable, maxLength });
const json = (headers: Record<string, string> = {}) => ({ 'content-type': 'application/json', ...AUTH, ...headers });
const validChat = () => ({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });

/** A value of the wrong type for any field of the chat body (no coercion: the server does not coerce). */
const wrong = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(text(5), fc.integer(), { maxKeys: 3 }), text());

/** Whether `value` breaks chat field `field` (some random values are valid for some fields). */
function isWrongFor(field: string, value: unknown): boolean {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  switch (field) {
    case 'model':
      return value !== MODEL;
    case 'stream':
      return typeof value !== 'boolean' && value !== null;
    case 'n':
      return value !== 1 && value !== null;
    case 'stream_options':
      return !isObject && value !== null;
    default:
      return true;
  }
}

const chatBodies: fc.Arbitrary<Case> = fc.oneof(
  // Whatever JSON: never a chat request with a user message and a served model.
  fc.jsonValue({ maxDepth: 3 }).map((v) => ({ label: 'json value', method: 'POST', path: '/v1/chat/completions', headers: json(), body: JSON.stringify(v) })),
  // Not JSON at all.
  text(80).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }).map((s) => ({ label: 'not json', method: 'POST', path: '/v1/chat/completions', headers: json(), body: s })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ label: 'bytes', method: 'POST', path: '/v1/chat/completions', headers: json(), body: b })),
  // A valid request with one field broken.
  fc
    .tuple(fc.constantFrom('model', 'messages', 'stream', 'n', 'stream_options'), wrong)
    .filter(([field, value]) => isWrongFor(field, value))
    .map(([field, value]) => ({
      label: `wrong ${field}`,
      method: 'POST',
      path: '/v1/chat/completions',
      headers: json(),
      body: JSON.stringify({ ...validChat(), [field]: value }),
    })),
  fc.oneof(
    text(20).filter((m) => m !== MODEL).map((model) => ({ model, messages: validChat().messages })),
    fc.constant({ model: MODEL, messages: [] }),
    fc.constant({ model: MODEL, messages: [{ role: 'assistant', content: 'no user message' }] }),
    fc.tuple(text(10).filter((r) => !['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(r)), text()).map(([role, content]) => ({ model: MODEL, messages: [{ role, content }] })),
    wrong.filter((c) => typeof c !== 'string' && c !== null && !Array.isArray(c)).map((content) => ({ model: MODEL, messages: [{ role: 'user', content }] })),
  ).map((b) => ({ label: 'mutated messages/model', method: 'POST', path: '/v1/chat/completions', headers: json(), body: JSON.stringify(b) })),
  // Too large (the test server's bodyLimit is 16 KiB).
  fc.integer({ min: 17_000, max: 40_000 }).map((n) => ({ label: 'too large', method: 'POST', path: '/v1/chat/completions', headers: json(), body: JSON.stringify({ ...validChat(), pad: 'x'.repeat(n) }) })),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml').map((ct) => ({ label: 'media type', method: 'POST', path: '/v1/chat/completions', headers: { ...AUTH, 'content-type': ct }, body: 'model=x' })),
);

const badKey = fc.oneof(
  fc.tuple(text(10), fc.constantFrom(' ', '!', '"', '#', '$', '%', '&', "'", '(', ')', '*', '+', ',', ';', '<', '=', '>', '?', '[', ']', '^', '`', '{', '|', '}', '~', '\\'), text(10)).map(([a, c, b]) => `${a}${c}${b}`),
  fc.constantFrom('.', '-', '_', ':').chain((c) => text(10).map((s) => `${c}${s}`)),
  fc.integer({ min: 129, max: 400 }).map((n) => 'k'.repeat(n)),
);

const badHeaders: fc.Arbitrary<Case> = fc.oneof(
  badKey.map((id) => ({ label: 'x-session-id', method: 'POST', path: '/v1/chat/completions', headers: json({ 'x-session-id': id }), body: JSON.stringify(validChat()) })),
  fc.constantFrom<{ header: string; policies: string[] }>(
    { header: 'x-interlock-on-busy', policies: ['interrupt', 'enqueue', 'reject', 'rollback'] },
    { header: 'x-interlock-on-disconnect', policies: ['cancel', 'detach'] },
  ).chain(({ header, policies }) =>
    text(20).filter((p) => !policies.includes(p)).map((p) => ({ label: header, method: 'POST', path: '/v1/chat/completions', headers: json({ [header]: p }), body: JSON.stringify(validChat()) })),
  ),
  fc.oneof(text(60), text(40).map((t) => `Bearer ${t}`)).filter((a) => a.trim() !== `Bearer ${TOKEN}` && !/^bearer +fuzz-token *$/i.test(a)).map((a) => ({
    label: 'authorization',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: a },
    body: JSON.stringify(validChat()),
  })),
);

const reservedOrPrivate = fc.oneof(
  text(20).map((t) => `@${t}`),
  text(20).map((t) => `xstate.${t}`),
  fc.constantFrom('@stream.closed', 'xstate.init', 'xstate.stop', '', 'get', 'internal.reset'),
  text(20).filter((t) => !['prompt', 'cancel', 'disconnect', 'close', 'add'].includes(t)),
);

const badPaths: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.array(text(12), { minLength: 1, maxLength: 4 })).map(([method, parts]) => ({
    label: 'random path',
    method,
    path: `/${parts.map((p) => p.replace(/[?#]/g, '')).join('/')}`.replace(/^\/+(?=health$|metrics$)/, '/x-'),
    headers: { ...AUTH },
    ...(method === 'GET' ? {} : { body: '{}' }),
  })),
  fc.tuple(fc.constantFrom('tell', 'ask'), fc.oneof(badKey.map((k) => ['session', encodeURIComponent(k)] as const), text(12).filter((k) => !['session', 'counter'].includes(k) && /^[a-z][a-z0-9_-]*$/.test(k)).map((k) => [k, 'key1'] as const))).map(([verb, [kind, key]]) => ({
    label: 'bad address',
    method: 'POST',
    path: `/v1/actors/${kind}/${key}/${verb}`,
    headers: json(),
    body: JSON.stringify({ event: { type: 'prompt', text: 'x' } }),
  })),
  fc.tuple(fc.constantFrom('tell', 'ask'), fc.constantFrom('session', 'counter'), reservedOrPrivate).map(([verb, kind, type]) => ({
    label: 'event not public',
    method: 'POST',
    path: `/v1/actors/${kind}/k-${verb}/${verb}`,
    headers: json(),
    body: JSON.stringify({ event: { type } }),
  })),
  fc.tuple(fc.constantFrom('tell', 'ask'), fc.oneof(wrong, fc.constant({}), fc.dictionary(text(6), fc.integer()))).map(([verb, body]) => ({
    label: 'bad send body',
    method: 'POST',
    path: `/v1/actors/counter/k1/${verb}`,
    headers: json(),
    body: JSON.stringify(typeof body === 'object' && body !== null && !Array.isArray(body) && 'event' in body ? { ...body, event: 1 } : body),
  })),
  fc.record({ kind: fc.oneof(text(12), fc.constant('nope')), limit: fc.oneof(text(6), fc.constantFrom('0', '-1', '1001', '1.5', 'abc')) }).map(({ kind, limit }) => ({
    label: 'bad list query',
    method: 'GET',
    path: `/v1/actors?kind=${encodeURIComponent(kind.length === 0 ? 'X' : kind.toUpperCase())}&limit=${encodeURIComponent(limit === '' ? '0' : limit)}`,
    headers: { ...AUTH },
  })),
);

const counter = setup({ types: {} as { context: { n: number }; events: { type: 'add' } | { type: 'get' } } }).createMachine({
  id: 'counter',
  context: { n: 0 },
  on: { add: { actions: [assign({ n: ({ context }) => context.n + 1 }), reply(({ context }) => context.n)] }, get: { actions: reply(({ context }) => context.n) } },
});

function expectOpenAIError(c: Case, status: number, body: unknown): void {
  const where = `${c.label}: ${c.method} ${c.path.slice(0, 80)} -> ${status} ${JSON.stringify(body).slice(0, 200)}`;
  expect(status >= 400 && status < 500, where).toBe(true);
  const error = (body as { error?: Record<string, unknown> }).error;
  expect(Object.keys(error ?? {}).sort(), where).toEqual(['code', 'message', 'param', 'type']);
  expect(String(error!.code), where).toMatch(/^INTERLOCK_[A-Z_]+$/);
  expect(typeof error!.message, where).toBe('string');
  expect(String(error!.message), where).not.toMatch(/\n\s+at /);
}

describe('bad input', { timeout: 240_000 }, () => {
  it(`answers ${RUNS} random and mutated bodies, headers and paths with coded 4xx errors, and a well-behaved client beside them is unaffected`, async () => {
    const gw = await startGateway({
      provider: simulated({ tokensPerSecond: 1_000, text: REPLY }),
      kinds: { counter: { machine: counter, publicEvents: ['add'] } as KindConfig },
      gateway: { token: TOKEN, bodyLimit: 16_384 },
      // 4xx are logged at info with the full error; 10,000 of them would be most of the work here.
      logLevel: 'warn',
    });
    const cases = fc.sample(fc.oneof({ arbitrary: chatBodies, weight: 4 }, { arbitrary: badHeaders, weight: 2 }, { arbitrary: badPaths, weight: 3 }), { numRuns: RUNS, seed: SEED });

    // The well-behaved client: streamed chats on one session, one after another, until the fuzz is done.
    let fuzzing = true;
    const good: string[] = [];
    const goodClient = (async () => {
      for (let i = 0; fuzzing && i < 10_000; i++) {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: json({ 'x-session-id': 'good' }),
          body: JSON.stringify({ ...validChat(), stream: true }),
        });
        const body = await res.text();
        const content = [...body.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join('');
        good.push(res.status === 200 && body.endsWith('data: [DONE]\n\n') ? content : `status ${res.status}: ${body.slice(0, 200)}`);
      }
    })();

    let next = 0;
    const statuses = new Map<number, number>();
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const res = await fetch(`${gw.url}${c.path}`, {
          method: c.method,
          headers: c.headers,
          ...(c.body === undefined ? {} : { body: c.body }),
          signal: AbortSignal.timeout(10_000),
        });
        const raw = await res.text();
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          parsed = { raw };
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expectOpenAIError(c, res.status, parsed);
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      fuzzing = false;
      await goodClient;
    }

    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(RUNS);
    expect(good.length).toBeGreaterThan(0);
    expect(good.filter((g) => g !== REPLY)).toEqual([]);
    // Nothing the fuzz sent activated an actor: only the good client's session is live.
    expect(gw.rt.addresses()).toEqual(['session/good']);
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
    console.log(`bad input: ${RUNS} requests (seed ${SEED}), statuses ${JSON.stringify(Object.fromEntries(statuses))}; good client: ${good.length} chats`);
  });
});
