/**
 * A standalone Fastify server with the gateway mounted: what `interlock serve` runs.
 * Server-level settings the plugin cannot set for itself live here: request ids, pino
 * (with `?token=` redacted from logged URLs), OpenAI-shaped answers to malformed URLs, and
 * no Fastify-shaped 503 while closing (the gateway answers those itself).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime/Runtime.js';
import { statelyBridge, type StatelyBridgeOptions } from '../inspect/stately.js';
import { createGateway, type GatewayOptions, type GatewayPlugin } from './createGateway.js';
import { toWire, GatewayError } from './httpErrors.js';

export interface GatewayServerOptions extends GatewayOptions {
  /** A pino logger (fastify's own); default: pino at `info` to stdout. Pass `false` for none. */
  logger?: Logger | false;
  /**
   * Forward every actor to the Stately inspector (needs the optional peer `@statelyai/inspect`,
   * else INTERLOCK_MISSING_PEER); stopped when the server closes. Actor data leaves the machine:
   * a warning is logged. `true` connects to the default relay URL. See docs/inspector.md.
   */
  stately?: true | StatelyBridgeOptions;
}

export interface GatewayServer {
  readonly app: FastifyInstance;
  readonly gateway: GatewayPlugin;
}

/** A token sent as `?token=` (EventSource, browser WebSockets) must not reach the log with the URL. */
export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/** Fastify's request serializer, with the URL's token redacted. */
const req = (r: FastifyRequest) => ({
  method: r.method,
  url: redactToken(r.url),
  version: r.headers?.['accept-version'] as string | undefined,
  host: r.host,
  remoteAddress: r.ip,
  // Stryker disable next-line OptionalChaining: every request Fastify logs carries its socket (the HTTP/1.1 server's and inject's alike); the guard is Fastify's own default serializer's
  remotePort: r.socket?.remotePort,
});

export async function createGatewayServer(runtime: Runtime, options: GatewayServerOptions = {}): Promise<GatewayServer> {
  const { logger, stately, ...gatewayOptions } = options;
  const app = Fastify({
    ...(logger === undefined
      ? { logger: { level: 'info', serializers: { req } } }
      : logger === false
        ? { logger: false }
        : { loggerInstance: logger.child({}, { serializers: { req } }) }),
    genReqId: () => randomUUID(),
    return503OnClosing: false,
    routerOptions: { maxParamLength: 200 },
    // Bodies are validated as sent: `"stream": "true"` or `[true]` is a 400, not a coerced true; and a field a schema
    // does not allow (`additionalProperties: false`: a tell's `timeout` for `timeoutMs`) is a 400, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    bodyLimit: gatewayOptions.bodyLimit ?? 1_048_576,
    frameworkErrors: (err, _request, res) => {
      const reply = res as unknown as { code(n: number): { type(t: string): { send(b: unknown): void } } };
      const wire = toWire(new GatewayError('INTERLOCK_INVALID_REQUEST', `Invalid request: ${err.code === 'FST_ERR_BAD_URL' ? 'malformed URL' : 'malformed request'}.`));
      reply.code(wire.status).type('application/json; charset=utf-8').send(wire.body);
    },
  }) as unknown as FastifyInstance;
  const gateway = createGateway(runtime, gatewayOptions);
  await app.register(gateway);
  if (stately) {
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: spreading `true` adds no property, so for `stately: true` the defaults ({}) and `stately` itself spread the same; TypeScript refuses the spread of `true` alone
    const bridge = await statelyBridge(runtime, { warn: (message) => app.log.warn(message), ...(stately === true ? {} : stately) });
    app.addHook('onClose', async () => bridge.stop());
  }
  return { app, gateway };
}
