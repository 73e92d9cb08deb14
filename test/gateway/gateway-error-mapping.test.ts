/**
 * How the gateway plugin maps Fastify's own errors to coded wire errors (createGateway's
 * error handler), one mapping per test and fast (`app.inject`, no socket): ajv errors of
 * the body, params, querystring and headers with their `param`, 413, 415, the other 4xx
 * with and without a Fastify code, 5xx, and an Interlock error passed through as it is.
 * Errors the gateway's own schemas cannot produce come from a host app that mounts the
 * plugin with its own validator compiler or hook (the plugin inherits both). Also the
 * plugin's `draining` and `metrics` getters.
 *
 * The slow fuzz (bad-input.test.ts) covers the same ground at volume; Stryker leaves it out.
 */
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, InterlockError, type KindConfig } from '../../src/index.js';
import { simulated } from '../../src/providers/simulated.js';
import { createGateway, type GatewayOptions } from '../../src/gateway/createGateway.js';
import { gatewaySessionKind } from '../../src/gateway/sessionKind.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { closeAll, MODEL, startGateway } from './helpers.js';

const hosts: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((close) => close()));
  await closeAll();
});

interface Answer {
  status: number;
  contentType: string | undefined;
  error: { message: string; type: string; param: string | null; code: string };
}

type Inject = InjectOptions;

async function answer(app: FastifyInstance, request: Inject): Promise<Answer> {
  const res = await app.inject(request);
  return { status: res.statusCode, contentType: res.headers['content-type'] as string | undefined, error: (res.json() as { error: Answer['error'] }).error };
}

const chat = (body: string, headers: Record<string, string> = {}): Inject => ({
  method: 'POST',
  url: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', ...headers },
  payload: body,
});
const validChat = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });

const invalid = (status: number, code: string, message: string, param: string | null = null): Answer => ({
  status,
  contentType: 'application/json; charset=utf-8',
  error: { message, type: 'invalid_request_error', param, code },
});

/** What a host app's validator compiler answers for one part of a request (others pass). */
type Verdict = { part: 'body' | 'headers'; result: () => unknown };

/**
 * The plugin mounted in a host app with the host's own validator compiler (one part
 * answers `verdict`) and, if given, a host preHandler hook that throws `hookThrows`.
 */
async function hosted(options: { verdict?: Verdict; hookThrows?: () => Error }): Promise<FastifyInstance> {
  const rt = createRuntime({ kinds: { session: gatewaySessionKind({ provider: simulated({ tokensPerSecond: 5_000 }) }) as KindConfig } }) as unknown as Runtime;
  const app = Fastify({ logger: false });
  const { verdict } = options;
  // A compiled validator answers true (valid) or `{ error }`; the verdict's shapes are what a host's compiler may answer.
  app.setValidatorCompiler(({ httpPart }) => (verdict !== undefined && verdict.part === httpPart ? () => verdict.result() as never : () => true));
  const { hookThrows } = options;
  if (hookThrows) {
    app.addHook('preHandler', async () => {
      throw hookThrows();
    });
  }
  await app.register(createGateway(rt, { models: [MODEL], websocket: false, metrics: false, inspector: false }));
  hosts.push(async () => {
    await rt.shutdown({ drain: false });
    await app.close();
  });
  return app;
}

describe('ajv errors of the gateway\'s own schemas', () => {
  it('a body error names its dotted path as param and carries ajv\'s message', async () => {
    const gw = await startGateway({ logLevel: 'silent' });
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'robot', content: 'hi' }] });
    expect(await answer(gw.app, chat(body))).toEqual(
      invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: body/messages/0/role must be equal to one of the allowed values.', 'messages.0.role'),
    );
  });

  it('a body error at the root (not an object) has no param', async () => {
    const gw = await startGateway({ logLevel: 'silent' });
    expect(await answer(gw.app, chat('1'))).toEqual(invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: body must be object.'));
  });

  it('a bad X-Session-Id is an invalid address on the header; another bad header is an invalid request on its own name', async () => {
    const gw = await startGateway({ logLevel: 'silent' });
    expect(await answer(gw.app, chat(validChat, { 'x-session-id': 'no spaces' }))).toEqual(
      invalid(400, 'INTERLOCK_INVALID_ADDRESS', 'Invalid request: headers/x-session-id must match pattern "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$".', 'x-session-id'),
    );
    expect(await answer(gw.app, chat(validChat, { 'x-interlock-on-busy': 'later' }))).toEqual(
      invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: headers/x-interlock-on-busy must be equal to one of the allowed values.', 'x-interlock-on-busy'),
    );
  });

  it('a bad kind or key in the path is an invalid address on that param', async () => {
    const gw = await startGateway({ logLevel: 'silent' });
    const tell = (kind: string, key: string): Inject => ({ method: 'POST', url: `/v1/actors/${kind}/${key}/tell`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ event: { type: 'cancel' } }) });
    expect(await answer(gw.app, tell('session', 'bad!key'))).toEqual(
      invalid(400, 'INTERLOCK_INVALID_ADDRESS', 'Invalid request: params/key must match pattern "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$".', 'key'),
    );
    expect(await answer(gw.app, tell('Session', 'k1'))).toEqual(
      invalid(400, 'INTERLOCK_INVALID_ADDRESS', 'Invalid request: params/kind must match pattern "^[a-z][a-z0-9_-]{0,63}$".', 'kind'),
    );
  });

  it('a bad query value names its param', async () => {
    const gw = await startGateway({ logLevel: 'silent' });
    expect(await answer(gw.app, { method: 'GET', url: '/v1/actors?limit=0' })).toEqual(
      invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: querystring/limit must match pattern "^(1000|[1-9][0-9]{0,2})$".', 'limit'),
    );
  });
});

describe("Fastify's body errors", () => {
  it('a body over the bodyLimit is 413 INTERLOCK_BODY_TOO_LARGE', async () => {
    const gw = await startGateway({ logLevel: 'silent', gateway: { bodyLimit: 64 } });
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(100) }] });
    expect(await answer(gw.app, chat(body))).toEqual(invalid(413, 'INTERLOCK_BODY_TOO_LARGE', 'Request body is too large for this server (see its bodyLimit).'));
  });

  it('a body of a media type the gateway does not parse is 415 INTERLOCK_UNSUPPORTED_MEDIA_TYPE', async () => {
    const gw = await startGateway({ logLevel: 'silent' });
    const request: Inject = { method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/xml' }, payload: '<hi/>' };
    expect(await answer(gw.app, request)).toEqual(invalid(415, 'INTERLOCK_UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json.'));
  });

  it('a JSON body that does not parse, or is empty, is 400 "the body is not valid JSON"', async () => {
    const gw = await startGateway({ logLevel: 'silent' });
    const notJson = invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: the body is not valid JSON.');
    expect(await answer(gw.app, chat('{"model":'))).toEqual(notJson);
    expect(await answer(gw.app, chat(''))).toEqual(notJson);
  });
});

describe("errors of a host app's validator compiler", () => {
  const body = (result: () => unknown): Verdict => ({ part: 'body', result });

  it('an error with a relative path, or none, or no error entry at all, still maps: dotted path, else no param', async () => {
    const relative = await hosted({ verdict: body(() => ({ error: [{ instancePath: 'messages/0', message: 'is odd' }] })) });
    expect(await answer(relative, chat(validChat))).toEqual(invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: bodymessages/0 is odd.', 'messages.0'));
    const noPath = await hosted({ verdict: body(() => ({ error: [{ message: 'is odd' }] })) });
    expect(await answer(noPath, chat(validChat))).toEqual(invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: body is odd.'));
    const empty = await hosted({ verdict: body(() => ({ error: [] })) });
    expect(await answer(empty, chat(validChat))).toEqual(invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: .'));
  });

  it('only a header error about x-session-id is an invalid address on it; a body error naming it is an invalid request', async () => {
    const required = () => ({ error: [{ instancePath: '', message: "must have required property 'x-session-id'" }] });
    const header = await hosted({ verdict: { part: 'headers', result: required } });
    expect(await answer(header, chat(validChat))).toEqual(
      invalid(400, 'INTERLOCK_INVALID_ADDRESS', "Invalid request: headers must have required property 'x-session-id'.", 'x-session-id'),
    );
    const inBody = await hosted({ verdict: body(required) });
    expect(await answer(inBody, chat(validChat))).toEqual(invalid(400, 'INTERLOCK_INVALID_REQUEST', "Invalid request: body must have required property 'x-session-id'."));
  });

  it('a validator that answers an Error is 400 "the request is malformed"; one that throws is 500 INTERLOCK_INTERNAL', async () => {
    const refuses = await hosted({ verdict: body(() => ({ error: new Error('zod says no') })) });
    expect(await answer(refuses, chat(validChat))).toEqual(invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: the request is malformed.'));
    const throws = await hosted({
      verdict: body(() => {
        throw new Error('validator bug');
      }),
    });
    expect(await answer(throws, chat(validChat))).toEqual({
      status: 500,
      contentType: 'application/json; charset=utf-8',
      error: { message: 'Internal error; the server log has the details under this request id.', type: 'server_error', param: null, code: 'INTERLOCK_INTERNAL' },
    });
  });
});

describe("errors a host app's hook throws on the gateway's routes", () => {
  const internal: Answer = {
    status: 500,
    contentType: 'application/json; charset=utf-8',
    error: { message: 'Internal error; the server log has the details under this request id.', type: 'server_error', param: null, code: 'INTERLOCK_INTERNAL' },
  };

  it('a 4xx error without a Fastify code is 400 "malformed"; one without a status, or with a status below 400, is 500 INTERLOCK_INTERNAL', async () => {
    const notFound = await hosted({ hookThrows: () => Object.assign(new Error('no such tenant'), { statusCode: 404 }) });
    expect(await answer(notFound, chat(validChat))).toEqual(invalid(400, 'INTERLOCK_INVALID_REQUEST', 'Invalid request: malformed.'));
    const plain = await hosted({ hookThrows: () => new Error('database down') });
    expect(await answer(plain, chat(validChat))).toEqual(internal);
    const redirect = await hosted({ hookThrows: () => Object.assign(new Error('moved'), { statusCode: 302 }) });
    expect(await answer(redirect, chat(validChat))).toEqual(internal);
  });

  it('the answer is typed JSON even when the hook gave the reply a serializer of its own', async () => {
    const rt = createRuntime({ kinds: { session: gatewaySessionKind({ provider: simulated() }) as KindConfig } }) as unknown as Runtime;
    const app = Fastify({ logger: false });
    app.addHook('preHandler', async (_request, reply) => {
      reply.serializer((payload: unknown) => JSON.stringify(payload));
      throw new Error('after choosing a serializer');
    });
    await app.register(createGateway(rt, { models: [MODEL], websocket: false, metrics: false, inspector: false }));
    hosts.push(async () => {
      await rt.shutdown({ drain: false });
      await app.close();
    });
    expect(await answer(app, { method: 'GET', url: '/v1/models' })).toEqual(internal);
  });

  it('an Interlock error keeps its own code and status even when it carries an HTTP statusCode', async () => {
    const app = await hosted({ hookThrows: () => Object.assign(new InterlockError('INTERLOCK_FORBIDDEN', "Not allowed to ask 'session/x'."), { statusCode: 400 }) });
    expect(await answer(app, chat(validChat))).toEqual({
      status: 403,
      contentType: 'application/json; charset=utf-8',
      error: { message: "Not allowed to ask 'session/x'.", type: 'permission_error', param: null, code: 'INTERLOCK_FORBIDDEN' },
    });
  });
});

describe("the plugin's getters", () => {
  /** A Fastify app (not yet registered) and the gateway plugin on a runtime of its own, both closed after the test. */
  function bareHost(options: GatewayOptions) {
    const rt = createRuntime({ kinds: { session: gatewaySessionKind({ provider: simulated() }) as KindConfig } }) as unknown as Runtime;
    const gateway = createGateway(rt, { websocket: false, ...options });
    const app = Fastify({ logger: false });
    hosts.push(async () => {
      await rt.shutdown({ drain: false });
      await app.close();
    });
    return { gateway, app };
  }

  it('draining is false until drain(); metrics is undefined until registered, then the registry GET /metrics serves', async () => {
    const { gateway, app } = bareHost({ defaultMetrics: false });
    expect([gateway.draining, gateway.metrics]).toEqual([false, undefined]);
    await app.register(gateway);
    await app.ready();
    expect(gateway.draining).toBe(false);
    const served = await app.inject({ method: 'GET', url: '/metrics' });
    expect(served.headers['content-type']).toBe(gateway.metrics!.registry.contentType);
    expect(await gateway.metrics!.registry.metrics()).toMatch(/^interlock_mailbox_depth\{kind="session"\} 0$/m);
    gateway.drain();
    expect(gateway.draining).toBe(true);
  });

  it('metrics stays undefined with metrics: false', async () => {
    const { gateway, app } = bareHost({ metrics: false });
    await app.register(gateway);
    await app.ready();
    expect(gateway.metrics).toBeUndefined();
  });
});
