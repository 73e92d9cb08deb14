/**
 * `attachWebSocket(server, runtime, options)`: the `interlock.v1` endpoint on an HTTP
 * server's `upgrade` event (ws with `noServer`). Everything a client can be refused for
 * without a WebSocket is refused before the upgrade, with an HTTP status and an
 * OpenAI-shaped JSON body: another path (404, when nothing else listens for upgrades), a
 * closing server (503), an Origin that is neither the server's own nor allowlisted (403),
 * a missing or wrong token (401; `Authorization: Bearer` or, for browsers, `?token=`),
 * no `interlock.v1` subprotocol offered (400). Then {@link Connection} runs the protocol.
 *
 * ws settings: `maxPayload` 64 KiB (1009 beyond), explicit `maxFragments` and
 * `maxBufferedChunks` (1008 beyond; GHSA-96hv-2xvq-fx4p), `perMessageDeflate` off (memory,
 * and CRIME-style leaks), UTF-8 validation on, `closeTimeout` bounded.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { bearerToken, tokenVerifier } from '../gateway/auth.js';
import { GatewayError, toWire, type WireCode } from '../gateway/httpErrors.js';
import type { Runtime } from '../runtime/Runtime.js';
import { Connection } from './Connection.js';
import type { ServerContext } from './Operations.js';
import { resolveOptions, type WebSocketOptions } from './options.js';
import { originAllowed } from './origin.js';
import { CloseCode, SUBPROTOCOL } from './protocol.js';
import { bootEpoch } from './wireRecord.js';

export interface WebSocketTransport {
  /** The URL path it serves (`/ws` by default). */
  readonly path: string;
  /** Open connections. */
  readonly size: number;
  /**
   * Refuses new upgrades (503) and closes every connection with `code`: 1001 (going away,
   * the default) or 1012 (restarting); both tell clients to reconnect and resume.
   * Resolves when every socket has closed (at most `closeTimeoutMs` later). Idempotent.
   */
  close(code?: 1001 | 1012, reason?: string): Promise<void>;
}

// Stryker disable next-line StringLiteral: toWire answers INTERLOCK_SHUTTING_DOWN with the catalogue's own public message, not this one
const SHUTDOWN_MESSAGE = 'The server is shutting down.';

export function attachWebSocket(server: Server, runtime: Runtime, options: WebSocketOptions = {}): WebSocketTransport {
  const limits = resolveOptions(options);
  const ctx: ServerContext = {
    runtime,
    limits,
    base: bootEpoch(runtime),
    kinds: new Set(runtime.kinds().map((k) => k.name)),
    verify: tokenVerifier(options.token, options.authenticate),
    authorize: options.authorize,
  };
  // closeTimeout: ws >= 8.19 has it, @types/ws 8.18 does not type it yet (and a module
  // augmentation would put 'ws' into the published declarations).
  const wsOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    // Stryker disable next-line BooleanLiteral: ws's own Set of clients; nothing reads it (`sockets` below is ours)
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: limits.maxPayload,
    maxFragments: limits.maxFragments,
    maxBufferedChunks: limits.maxBufferedChunks,
    skipUTF8Validation: false,
    closeTimeout: limits.closeTimeoutMs,
    // Called only for an upgrade onUpgrade let through, which offered interlock.v1 (ws parses the
    // header more strictly than the check there, and refuses 400 what it cannot parse).
    handleProtocols: () => SUBPROTOCOL,
  };
  const wss = new WebSocketServer(wsOptions);
  const connections = new Set<Connection>();
  const sockets = new Set<WebSocket>();
  let closing: Promise<void> | undefined;

  const refuse = (socket: Duplex, status: number, code: WireCode, message: string): void => {
    limits.logger.info({ status, code }, 'ws_refused');
    const body = JSON.stringify(toWire(new GatewayError(code, message)).body);
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A socket error before the upgrade completes (a reset) must not become an uncaught error.
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      // A request on a server always has its target (`url` is optional only on a client's).
      url = new URL(req.url!, 'http://upgrade.invalid');
    } catch {
      // An unparsable request target is not ours (nor anybody's).
      return refuse(socket, 400, 'INTERLOCK_INVALID_REQUEST', 'Malformed request URL.');
    }
    if (url.pathname !== limits.path) {
      // Another upgrade listener may serve that path; if there is none, answer rather than hang.
      if (server.listenerCount('upgrade') <= 1) refuse(socket, 404, 'INTERLOCK_NOT_FOUND', `No WebSocket endpoint at this path; it is ${limits.path}.`);
      return;
    }
    if (closing) return refuse(socket, 503, 'INTERLOCK_SHUTTING_DOWN', SHUTDOWN_MESSAGE);
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host, limits.origins)) {
      return refuse(socket, 403, 'INTERLOCK_FORBIDDEN', 'This Origin may not open a WebSocket here. Add it to the server\'s WebSocket `origins`.');
    }
    const token = bearerToken(req.headers.authorization) ?? url.searchParams.get('token') ?? undefined;
    if (!ctx.verify(token)) {
      return refuse(socket, 401, 'INTERLOCK_UNAUTHORIZED', 'Missing or invalid token. Send `Authorization: Bearer <token>`, or `?token=<token>` from a browser.');
    }
    // Stryker disable next-line StringLiteral: without the header any placeholder offers no interlock.v1 either
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(SUBPROTOCOL)) {
      return refuse(socket, 400, 'INTERLOCK_INVALID_REQUEST', `Offer the WebSocket subprotocol '${SUBPROTOCOL}' (Sec-WebSocket-Protocol).`);
    }
    // ws calls back in this same turn (no verifyClient), so `closing` is still unset here.
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.once('close', () => sockets.delete(ws));
      connections.add(new Connection(ws, ctx, token, (c) => connections.delete(c)));
      limits.logger.info({ connections: connections.size }, 'ws_connected');
    });
  };
  server.on('upgrade', onUpgrade);

  return {
    path: limits.path,
    get size() {
      return connections.size;
    },
    close(code = CloseCode.GoingAway, reason = code === CloseCode.ServiceRestart ? 'The server is restarting' : 'The server is shutting down') {
      closing ??= (async () => {
        const closed = [...sockets].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
        for (const c of [...connections]) c.close(code, reason);
        await Promise.all(closed);
        // The upgrade listener stays: later upgrades are answered 503, not left to hang.
        wss.close();
      })();
      return closing;
    },
  };
}
