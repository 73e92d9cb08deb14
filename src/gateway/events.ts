/**
 * `GET /v1/actors/{kind}/{key}/events`: one actor's record stream as `text/event-stream`,
 * for browsers' native `EventSource` (and `curl -N`). The same records, public view and
 * resume as a WebSocket address subscription (src/transport/recordStreams.ts): each record
 * is one event, `id: <epoch>:<seq>` and `data: <the record's JSON>`, so an `EventSource`
 * that reconnects sends `Last-Event-ID` and gets exactly what it missed, or the current
 * snapshot flagged `recovered: false` when that is no longer buffered.
 *
 * Auth: the gateway's token, from `Authorization: Bearer` or (an EventSource cannot set
 * headers) `?token=`; then the `authorize` hook for `subscribe` to the address (403
 * INTERLOCK_FORBIDDEN). Origin: as for the WebSocket, a browser page of another origin
 * than the server's is refused (403) unless the WebSocket's `origins` allowlist names it;
 * an allowlisted one gets `Access-Control-Allow-Origin`. Resume point: `Last-Event-ID`, else `?since=<epoch>:<seq>`.
 * `: keep-alive` comments every `keepAliveMs`; a client that leaves more than
 * `maxBufferedBytes` unread is disconnected (its EventSource reconnects and resumes).
 */
import type { FastifyInstance } from 'fastify';
import type { Subscription } from 'rxjs';
import type { ResumePoint } from '../bus/records.js';
import { errors } from '../errors.js';
import type { Runtime } from '../runtime/Runtime.js';
import type { Authorize } from '../transport/options.js';
import { originAllowed } from '../transport/origin.js';
import { addressStream } from '../transport/recordStreams.js';
import { bootEpoch } from '../transport/wireRecord.js';
import { bearerToken } from './auth.js';
import { GatewayError } from './httpErrors.js';
import { eventsSchema } from './schemas.js';

export interface EventRoutesConfig {
  runtime: Runtime;
  authorize: Authorize | undefined;
  keepAliveMs: number;
  maxBufferedBytes: number;
  /** The `retry:` field sent first: how long a browser waits before it reconnects. */
  retryMs: number;
  /** Origins allowed besides the server's own (the WebSocket's `origins`): they get CORS headers; any other Origin gets 403. */
  origins: ReadonlySet<string>;
}

interface EventsRequest {
  Params: { kind: string; key: string };
  Querystring: { token?: string; since?: string };
}

export function eventRoutes(app: FastifyInstance, config: EventRoutesConfig): void {
  const { runtime } = config;
  const kinds = new Set(runtime.kinds().map((k) => k.name));
  const base = bootEpoch(runtime);

  app.get<EventsRequest>('/v1/actors/:kind/:key/events', { schema: eventsSchema, config: { queryToken: true } }, async (request, reply) => {
    const { kind, key } = request.params;
    const address = `${kind}/${key}`;
    if (!kinds.has(kind)) throw errors.unknownKind(address, kind, [...kinds]);
    const origin = request.headers.origin;
    if (!originAllowed(origin, request.headers.host, config.origins)) {
      throw new GatewayError('INTERLOCK_FORBIDDEN', "This Origin may not read the event stream here. Add it to the server's WebSocket `origins` (they apply to this stream too).");
    }
    const lastId = request.headers['last-event-id'];
    const since = resumePoint(typeof lastId === 'string' && lastId !== '' ? lastId : request.query.since);
    if (config.authorize) {
      const token = bearerToken(request.headers.authorization) ?? request.query.token;
      if ((await config.authorize({ token, address, pattern: false, action: 'subscribe' })) !== true) throw errors.forbidden(address, 'subscribe');
    }

    reply.hijack();
    const raw = reply.raw;
    // A set of strings answers false for undefined (no Origin header): no type guard needed.
    const allowlisted = (config.origins as ReadonlySet<string | undefined>).has(origin);
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
      // A cross-origin EventSource (an allowlisted page) may read the stream; it sends no credentials, the token is in the URL.
      ...(allowlisted ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {}),
    });
    let sub: Subscription | undefined;
    let keepAlive: NodeJS.Timeout | undefined;
    const end = (): void => {
      clearInterval(keepAlive);
      sub?.unsubscribe();
      raw.end(); // a no-op on a response already destroyed (a client gone, a slow one dropped)
    };
    const write = (text: string): void => {
      // Stryker disable next-line ConditionalExpression: a defence: whatever destroys the response stops its writers first (end() on 'close', and before the drop below), so no write comes after; Node would drop one anyway, but it could log a false slow_client_dropped (a destroyed response still counts its unsent bytes)
      if (raw.destroyed) return;
      raw.write(text);
      // A client that stopped reading must not grow the server; its EventSource resumes later.
      if (raw.writableLength > config.maxBufferedBytes) {
        request.log.warn({ address, buffered: raw.writableLength }, 'slow_client_dropped');
        end();
        raw.destroy();
      }
    };
    raw.on('close', end);
    // `retry`: how long a browser waits before it reconnects (and resumes).
    write(`retry: ${config.retryMs}\n\n`);
    if (config.keepAliveMs > 0) {
      keepAlive = setInterval(() => write(': keep-alive\n\n'), config.keepAliveMs);
      keepAlive.unref();
    }
    sub = addressStream(runtime, address, since, base, Date.now).subscribe({
      next: (it) => write(`id: ${it.epoch}:${it.seq}\ndata: ${it.payload}\n\n`),
      // Stryker disable next-line BlockStatement: unreachable defence: the runtime's record streams never error (they complete at shutdown), and the address was checked above; kept so a future error ends the response instead of going unhandled
      error: (err: unknown) => {
        // Stryker disable next-line ObjectLiteral,StringLiteral: as above, unreachable
        request.log.error({ address, err }, 'event_stream_failed');
        end();
      },
      // The runtime completes its streams only when it shuts down.
      complete: end,
    });
    if (raw.destroyed) sub.unsubscribe();
  });
}

/** `<epoch>:<seq>` (both non-negative integers), or undefined for none; anything else is a 400. */
function resumePoint(text: string | undefined): ResumePoint | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{1,16}):(\d{1,16})$/.exec(text);
  const epoch = m ? Number(m[1]) : NaN;
  const seq = m ? Number(m[2]) : NaN;
  if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(seq)) {
    throw new GatewayError('INTERLOCK_INVALID_REQUEST', 'Invalid resume point: Last-Event-ID (or ?since=) must be <epoch>:<seq>, the id of the last event received.', 'last-event-id');
  }
  return { epoch, seq };
}
