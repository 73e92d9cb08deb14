/**
 * `createGateway(runtime, options)`: the HTTP face of a runtime as a Fastify plugin, so a
 * team mounts it in its own app (`app.register(createGateway(runtime, options))`);
 * {@link createGatewayServer} wraps it in a standalone Fastify instance for `interlock serve`.
 *
 * Routes: OpenAI-compatible `POST /v1/chat/completions` and `GET /v1/models` (when the
 * runtime has the session kind), any actor over `/v1/actors/…` (with its SSE record stream
 * `…/events`), `GET /health`, `GET /metrics`, and the `interlock.v1` WebSocket at `/ws`
 * (src/transport/). Everything but a bare `GET /health` needs the bearer token when one is
 * set. Every error is OpenAI-shaped (see httpErrors.ts); the full error goes to the log.
 */
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { DisconnectPolicy } from '../../machines/session.js';
import { errors, isInterlockError } from '../errors.js';
import type { Runtime } from '../runtime/Runtime.js';
import { attachWebSocket, type WebSocketTransport } from '../transport/attachWebSocket.js';
import type { Authorize, WebSocketOptions } from '../transport/options.js';
import { actorRoutes } from './actors.js';
import { authorizeRoutes } from './authorizeRoutes.js';
import { bearerCheck, type Authenticate } from './auth.js';
import { eventRoutes } from './events.js';
import { handleChat, logFailure } from './chat.js';
import { inspectRoutes } from './inspect.js';
import { createHealth } from './health.js';
import { inspectorRoutes } from './inspectorPage.js';
import { GatewayError, toWire, type WireCode } from './httpErrors.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import { chatSchema, healthSchema } from './schemas.js';

export interface GatewayOptions {
  /** Bearer token every route but a bare `GET /health` requires. Default: none (open). */
  token?: string;
  /** Accepts other tokens than `token` (e.g. one per user), on every route and the WebSocket. Must compare in constant time. */
  authenticate?: Authenticate;
  /**
   * Per-address authorization for the SSE event stream and the WebSocket (subscribe, send,
   * ask): e.g. a token limited to `session/<its own ids>`. Default: every token may do everything.
   */
  authorize?: Authorize;
  /** The `interlock.v1` WebSocket endpoint (docs/protocol.md), at `/ws` under the plugin's prefix; false: none. */
  websocket?: Omit<WebSocketOptions, 'token' | 'authenticate' | 'authorize' | 'logger'> | false;
  /** Model ids `GET /v1/models` lists and chat requests may name. Default `['interlock']`. */
  models?: readonly string[];
  /** The kind chat completions go to. Default `'session'`. */
  sessionKind?: string;
  /** `: keep-alive` comment interval while a streamed prompt waits or runs. Default 15,000 ms; 0 turns it off. */
  keepAliveMs?: number;
  /** Largest request body, bytes; more answers 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Deadline of an actor ask that gives none, and the most one may ask for. Default 30,000 ms. */
  askTimeoutMs?: number;
  /** Bytes a slow SSE client may leave unread before it is disconnected. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** The `retry:` the event stream (`…/events`) gives browsers: ms before an EventSource reconnects and resumes. Default 1,000. */
  eventsRetryMs?: number;
  /** Serve `GET /metrics` (prom-client). Default true. */
  metrics?: boolean;
  /** Include Node's default process metrics. Default true. */
  defaultMetrics?: boolean;
  /** Serve the inspector page at `/inspector/` (its data routes still need the token). Default true. */
  inspector?: boolean;
  /**
   * What a chat client's hang-up does to its request: `cancel` (its stream is aborted down
   * to the upstream socket, or its waiting prompt dropped) or `detach` (it runs to its end
   * into the session's history, for nobody). Sent with every prompt, so it overrides the
   * session kind's own `onDisconnect`; a request may name its own with
   * `X-Interlock-On-Disconnect`. Default 'cancel'.
   */
  onDisconnect?: DisconnectPolicy;
}

export interface GatewayPlugin extends FastifyPluginAsync {
  /** Refuse new work from now on (503 INTERLOCK_SHUTTING_DOWN); `/health` reports draining. */
  drain(): void;
  readonly draining: boolean;
  /** The gateway's metrics (its prom-client registry), once registered. */
  readonly metrics: GatewayMetrics | undefined;
  /** The WebSocket endpoint, once registered (closed with 1001 when the Fastify app closes). */
  readonly websocket: WebSocketTransport | undefined;
}

export function createGateway(runtime: Runtime, options: GatewayOptions = {}): GatewayPlugin {
  const sessionKind = options.sessionKind ?? 'session';
  const models = [...(options.models ?? ['interlock'])];
  const bodyLimit = options.bodyLimit ?? 1_048_576;
  const checkAuth = bearerCheck(options.token, options.authenticate);
  const onDisconnect = options.onDisconnect ?? 'cancel';
  if (onDisconnect !== 'cancel' && onDisconnect !== 'detach') {
    throw errors.invalidConfig(`\`onDisconnect\` must be 'cancel' or 'detach', got ${String(onDisconnect)}`, 'createGateway options');
  }
  let draining = false;
  let metrics: GatewayMetrics | undefined;
  let websocket: WebSocketTransport | undefined;

  /** Passivates a per-request session and drops its snapshot (the runtime deletes it from its store); false when it is not quiet yet. */
  const dropAnonymous = (address: string): boolean => runtime.passivate(address, { discard: true });

  const forgetAnonymous = (address: string): void => {
    // After the response: the session is idle (or still loading, or closing a cancelled stream).
    setImmediate(() => {
      if (dropAnonymous(address)) return;
      // Not quiet yet: tell it to close (what it holds is dropped), and try again after each of
      // its records until it is quiet or gone; otherwise it would live on until its idle
      // timeout and then leave its snapshot in the store for good.
      let pending = false;
      const sub = runtime.events(address).subscribe((r) => {
        // Stryker disable next-line ConditionalExpression,StringLiteral: a defence: the session stopped or passivated another way (a runtime.passivate of the host's, a shutdown) leaves no record to retry on; no test path gets there first (the retry below passivates at the first quiet turn, and a shutdown completes the stream)
        if (r.type === 'lifecycle.stopped' || r.type === 'lifecycle.passivated') return void sub.unsubscribe();
        if (pending) return;
        pending = true;
        setImmediate(() => {
          pending = false;
          if (dropAnonymous(address)) sub.unsubscribe();
        });
      });
      try {
        runtime.tell(address, { type: 'close' } as never);
      } catch (err) {
        // A full mailbox: the session's own records keep the retry going until it passivates. Anything else (the
        // runtime stopping, the session failed and refusing envelopes): no record will come, so stop watching.
        if (!isInterlockError(err, 'INTERLOCK_MAILBOX_FULL')) sub.unsubscribe();
      }
    });
  };

  const plugin = async function interlockGateway(app: FastifyInstance): Promise<void> {
    const health = createHealth(runtime);
    if (options.metrics !== false) metrics = createMetrics(runtime, { defaultMetrics: options.defaultMetrics ?? true });
    app.addHook('onClose', async () => {
      health.close();
      metrics?.close();
    });

    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
      // Route config, not the URL: the plugin may be mounted under a prefix.
      const config = request.routeOptions.config as { health?: boolean; queryToken?: boolean; page?: boolean } | undefined;
      const isHealth = config?.health === true;
      // Routes a browser's EventSource reads may take the token as ?token= (it cannot set headers).
      const queryToken = config?.queryToken === true ? (request.query as { token?: unknown }).token : undefined;
      // The inspector's static files hold no data; a browser opening the page cannot send a header.
      if (!(isHealth && !request.url.includes('?')) && config?.page !== true) checkAuth(request.headers.authorization, typeof queryToken === 'string' ? queryToken : undefined);
      if (draining && !isHealth) {
        throw new GatewayError('INTERLOCK_SHUTTING_DOWN', 'The server is shutting down and refuses new work.');
      }
    });
    if (options.authorize) authorizeRoutes(app, options.authorize, sessionKind);
    app.setErrorHandler((err: FastifyError, request, reply) => sendError(err, request, reply));
    app.setNotFoundHandler(async (request) => {
      checkAuth(request.headers.authorization);
      throw new GatewayError('INTERLOCK_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}. See docs/http.md for the routes.`);
    });

    const hasSessions = runtime.kinds().some((k) => k.name === sessionKind);
    if (hasSessions) {
      app.get('/v1/models', async () => ({
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'interlock' })),
      }));
      const chat = {
        runtime,
        sessionKind,
        keepAliveMs: options.keepAliveMs ?? 15_000,
        maxBufferedBytes: options.maxBufferedBytes ?? 1_048_576,
        metrics,
        onDisconnect,
        forgetAnonymous,
      };
      app.post('/v1/chat/completions', { schema: chatSchema, bodyLimit }, async (request, reply) => {
        const model = (request.body as { model: string }).model;
        if (!models.includes(model)) {
          throw new GatewayError('INTERLOCK_UNKNOWN_MODEL', `Model '${model.slice(0, 256)}' is not served here. Models: ${models.join(', ')}.`, 'model');
        }
        return handleChat(chat, request, reply);
      });
    }

    await app.register(
      async (actors) => {
        actorRoutes(actors, { runtime, askTimeoutMs: options.askTimeoutMs ?? 30_000 });
        inspectRoutes(actors, runtime);
        eventRoutes(actors, {
          runtime,
          authorize: options.authorize,
          keepAliveMs: options.keepAliveMs ?? 15_000,
          maxBufferedBytes: options.maxBufferedBytes ?? 1_048_576,
          retryMs: options.eventsRetryMs ?? 1_000,
          origins: new Set(options.websocket === false ? [] : (options.websocket?.origins ?? [])),
        });
      },
      { bodyLimit } as never,
    );

    if (options.websocket !== false) {
      const ws = options.websocket ?? {};
      const transport = attachWebSocket(app.server, runtime, {
        askTimeoutMs: options.askTimeoutMs ?? 30_000,
        ...ws,
        path: `${app.prefix}${ws.path ?? '/ws'}`,
        ...(options.token === undefined ? {} : { token: options.token }),
        ...(options.authenticate === undefined ? {} : { authenticate: options.authenticate }),
        ...(options.authorize === undefined ? {} : { authorize: options.authorize }),
        logger: app.log,
      });
      websocket = transport;
      // Before the HTTP server closes: upgraded sockets are not its connections any more.
      app.addHook('preClose', async () => transport.close());
    }

    app.get<{ Querystring: { address?: string; addresses?: string } }>('/health', { schema: healthSchema, config: { health: true } }, async (request, reply) => {
      const q = request.query;
      const { status, body } = health.report({ ...(q.address === undefined ? {} : { address: q.address }), addresses: q.addresses === 'true' }, draining);
      return reply.code(status).send(body);
    });

    if (options.inspector !== false) inspectorRoutes(app);

    if (metrics) {
      const registry = metrics.registry;
      app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
    }
  } as unknown as GatewayPlugin;

  Object.defineProperties(plugin, {
    drain: { value: () => void (draining = true) },
    draining: { get: () => draining },
    metrics: { get: () => metrics },
    websocket: { get: () => websocket },
  });
  return plugin;
}

/** Maps Fastify's own errors (validation, body limits, parsing) to gateway codes. */
function fromFastify(err: FastifyError): unknown {
  if (err instanceof GatewayError || (err as { name?: string }).name === 'InterlockError') return err;
  if (err.validation) {
    const context = err.validationContext;
    const first = err.validation[0];
    const at = first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') ?? '';
    // A field the schema does not allow is named by ajv's params, not by the path (that of the object holding it: only
    // top-level objects, a body or a query, forbid extra fields here).
    const path = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty ?? at;
    const onKey = context === 'params' || (context === 'headers' && /x-session-id/.test(`${path} ${err.message}`));
    const code: WireCode = onKey ? 'INTERLOCK_INVALID_ADDRESS' : 'INTERLOCK_INVALID_REQUEST';
    // A header error about the session id names the header even when its path is empty (a required header).
    const param = context === 'headers' && onKey ? 'x-session-id' : path || null;
    return new GatewayError(code, `Invalid request: ${err.message}.`, param);
  }
  const status = err.statusCode ?? 500;
  if (status === 413) return new GatewayError('INTERLOCK_BODY_TOO_LARGE', 'Request body is too large for this server (see its bodyLimit).');
  if (status === 415) return new GatewayError('INTERLOCK_UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json.');
  if (status >= 400 && status < 500) return new GatewayError('INTERLOCK_INVALID_REQUEST', `Invalid request: ${err.code === undefined ? 'malformed' : describeFastify(err)}.`);
  return err;
}

function describeFastify(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the body is not valid JSON';
    default:
      return 'the request is malformed';
  }
}

export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const wire = toWire(fromFastify(err as FastifyError));
  logFailure(request, err, wire);
  return reply.code(wire.status).headers(wire.headers).type('application/json; charset=utf-8').send(wire.body);
}
