/**
 * `interlock serve`: the gateway on a runtime, as a process. A thin wrapper: parse flags,
 * build the runtime (bundled kinds, simulated model or --upstream, plus --config kinds),
 * refuse an unsafe bind, listen, print what is served, and drain on a signal.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BusyPolicy, DisconnectPolicy } from '../../machines/session.js';
import { isLoopback } from '../gateway/auth.js';
import { DEFAULT_STATELY_URL, STATELY_WARNING } from '../inspect/stately.js';
import { createGatewayServer, type GatewayServer } from '../gateway/createGatewayServer.js';
import type { GatewayOptions } from '../gateway/createGateway.js';
import { serveRuntime, type ServeRuntimeOptions } from '../gateway/serveRuntime.js';
import type { Runtime } from '../runtime/Runtime.js';
import type { Kinds } from '../runtime/handles.js';

export const USAGE = `Usage: interlock serve [options]

  --port N            port to listen on (default 8080; 0 picks a free one)
  --host H            address to bind (default 127.0.0.1; non-loopback needs a token)
  --token T           bearer token clients must send (or INTERLOCK_TOKEN)
  --upstream URL      OpenAI-compatible API root for sessions, e.g. http://localhost:11434/v1
  --model M           model name at the upstream (and the id clients send)
  --api-key K         upstream API key (or INTERLOCK_UPSTREAM_API_KEY)
  --on-busy P         prompt while a stream runs: interrupt (default) | enqueue | reject
  --on-disconnect P   a chat client hangs up: cancel (default) | detach (its stream runs on, into the history)
  --config FILE       module exporting { kinds?, gateway?, runtime? } (your own machines)
  --stately           forward actors to the Stately inspector (needs @statelyai/inspect;
                      actor data leaves this machine)
  --stately-url URL   the Stately relay to send to (default ws://localhost:8081)
  --drain-ms N        how long in-flight work may finish on SIGINT/SIGTERM (default 10000)
  --log-level L       pino level (default info)
`;

export interface ServeConfig {
  port: number;
  host: string;
  token: string | undefined;
  upstream: string | undefined;
  model: string | undefined;
  apiKey: string | undefined;
  onBusy: BusyPolicy | undefined;
  onDisconnect: DisconnectPolicy | undefined;
  config: string | undefined;
  drainMs: number;
  logLevel: string;
  /** The Stately relay URL when --stately is on. */
  stately: string | undefined;
}

export class UsageError extends Error {}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      upstream: { type: 'string' },
      model: { type: 'string' },
      'api-key': { type: 'string' },
      'on-busy': { type: 'string' },
      'on-disconnect': { type: 'string' },
      config: { type: 'string' },
      'drain-ms': { type: 'string' },
      'log-level': { type: 'string' },
      stately: { type: 'boolean' },
      'stately-url': { type: 'string' },
    },
  });
  const port = Number(values.port ?? env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${String(values.port)}`);
  const drainMs = Number(values['drain-ms'] ?? 10_000);
  if (!Number.isFinite(drainMs) || drainMs <= 0) throw new UsageError(`--drain-ms must be a positive number, got ${String(values['drain-ms'])}`);
  const onBusy = values['on-busy'];
  if (onBusy !== undefined && !['interrupt', 'enqueue', 'reject'].includes(onBusy)) {
    throw new UsageError(`--on-busy must be interrupt, enqueue or reject, got '${onBusy}'`);
  }
  const onDisconnect = values['on-disconnect'];
  if (onDisconnect !== undefined && onDisconnect !== 'cancel' && onDisconnect !== 'detach') {
    throw new UsageError(`--on-disconnect must be cancel or detach, got '${onDisconnect}'`);
  }
  if (values.upstream !== undefined && values.model === undefined) throw new UsageError('--upstream needs --model (the model the upstream should run)');
  const token = values.token ?? (env.INTERLOCK_TOKEN || undefined);
  if (values['stately-url'] !== undefined && !values.stately) throw new UsageError('--stately-url needs --stately');
  if (values['stately-url'] !== undefined && !/^wss?:\/\//.test(values['stately-url'])) throw new UsageError(`--stately-url must be a ws:// or wss:// URL, got '${values['stately-url']}'`);
  return {
    port,
    host: values.host ?? '127.0.0.1',
    token,
    upstream: values.upstream,
    model: values.model,
    apiKey: values['api-key'] ?? (env.INTERLOCK_UPSTREAM_API_KEY || undefined),
    onBusy: onBusy as BusyPolicy | undefined,
    onDisconnect,
    config: values.config,
    drainMs,
    logLevel: values['log-level'] ?? 'info',
    stately: values.stately ? (values['stately-url'] ?? DEFAULT_STATELY_URL) : undefined,
  };
}

/** What a --config module may export (default export or named). */
export interface ConfigModule {
  kinds?: Kinds;
  gateway?: GatewayOptions;
  /** A runtime you built yourself; then `kinds` and the bundled kinds are not used. */
  runtime?: Runtime;
}

async function loadConfig(file: string): Promise<ConfigModule> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as ConfigModule & { default?: ConfigModule };
  return mod.default ?? mod;
}

export interface Served extends GatewayServer {
  readonly runtime: Runtime;
  readonly url: string;
  /** Refuses new work, drains in-flight work within the deadline, closes the server. */
  shutdown(): Promise<void>;
}

/** The inspector page's URL as `serve` prints it: with the token, so opening it is enough. */
export function inspectorUrl(url: string, token: string | undefined): string {
  return `${url}/inspector/${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;
}

export async function serve(config: ServeConfig, print: (line: string) => void): Promise<Served> {
  if (config.token === undefined && !isLoopback(config.host)) {
    throw new UsageError(
      `refusing to listen on ${config.host} without a token: anyone who can reach it could drive your actors. Set --token <T> or INTERLOCK_TOKEN, or bind 127.0.0.1.`,
    );
  }
  const user = config.config === undefined ? {} : await loadConfig(config.config);
  // An option left undefined is the same as one not given (serveRuntime and the gateway read them with `??`).
  const runtimeOptions: ServeRuntimeOptions = { upstream: config.upstream, model: config.model, apiKey: config.apiKey, onBusy: config.onBusy, kinds: user.kinds };
  const built = user.runtime ? { runtime: user.runtime, model: config.model ?? 'interlock' } : serveRuntime(runtimeOptions);
  const { runtime } = built;
  const { default: pino } = await import('pino');
  const logger = pino({ level: config.logLevel });
  const server = await createGatewayServer(runtime, {
    logger,
    models: [built.model],
    token: config.token,
    onDisconnect: config.onDisconnect,
    ...(config.stately === undefined ? {} : { stately: { url: config.stately, warn: () => print(`  WARNING  ${STATELY_WARNING}`) } }),
    ...user.gateway,
  });
  // As Fastify gives it: on --host ::1 that is http://[::1]:port ('localhost' may resolve to 127.0.0.1 only).
  const url = await server.app.listen({ port: config.port, host: config.host });
  const kinds = runtime.kinds().map((k) => k.name);
  print(`interlock serve: listening on ${url}`);
  if (kinds.includes('session')) {
    print(`  chat     POST ${url}/v1/chat/completions   model '${built.model}' (${config.upstream === undefined ? 'simulated, no network' : `upstream ${config.upstream}`})`);
  }
  print(`  actors   ${url}/v1/actors/{kind}/{key}/tell|ask   kinds: ${kinds.join(', ')}`);
  print(`  events   GET ${url}/v1/actors/{kind}/{key}/events (SSE)   WebSocket ${url.replace('http:', 'ws:')}/ws (interlock.v1)`);
  print(`  health   GET ${url}/health      metrics  GET ${url}/metrics`);
  print(`  inspect  GET ${url}/v1/kinds/{kind}/machine   ${url}/v1/actors/{kind}/{key}/mailbox   (docs/inspector.md)`);
  if (config.stately !== undefined) print(`  stately  sending to the Stately relay at ${config.stately}`);
  if (user.gateway?.inspector !== false) print(`  inspector ${inspectorUrl(url, config.token)}`);
  print(
    config.token === undefined
      ? `  auth     none: no token set, so bound to loopback only (set --token or INTERLOCK_TOKEN to require one)`
      : `  auth     Bearer token required`,
  );

  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      server.gateway.drain();
      server.app.log.info({ drainMs: config.drainMs }, 'shutdown_started');
      await runtime.shutdown({ drain: true, timeoutMs: config.drainMs });
      // Every response has ended with the runtime; what is left are idle keep-alive connections.
      const closed = server.app.close();
      server.app.server.closeAllConnections();
      await closed;
      server.app.log.info('shutdown_complete');
    })();
    return closing;
  };
  return { ...server, runtime, url, shutdown };
}
