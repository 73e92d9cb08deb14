/**
 * `POST /v1/chat/completions`, OpenAI-compatible, on the session actor's per-request
 * stream (`runtime.stream(address, prompt)`): `stream.started`, `chunk`s, `stream.fenced`,
 * `stream.end`, then completion, or an error. The route never reads the ask's resolved
 * value, so it does not care what the session replies with.
 *
 * One {@link ChatExchange} per request. Before the stream starts, an error is an ordinary
 * HTTP error (status + OpenAI JSON). Once it starts, a streaming request is an SSE
 * response (`data: {chat.completion.chunk}` … `data: [DONE]`), and a later error is an
 * SSE `data: {"error": …}` event. While the response is open it sends `: keep-alive`
 * comments, so a prompt that waits (queued behind another, or the previous stream is being
 * cancelled) keeps its connection.
 *
 * A client that goes away reaches its request's disconnect policy (`onDisconnect`: the
 * gateway's, or the request's `X-Interlock-On-Disconnect`; it travels on the prompt, so
 * the session and the gateway agree on it). Once the stream runs, the gateway sends the
 * session `disconnect { requestId }` (control lane) and stays subscribed: under `cancel`
 * the session aborts the provider's HTTP call and ends the stream, under `detach` the
 * stream runs to its end into the history and nothing more is written. A disconnect
 * naming a request that no longer runs is ignored by the session, so a late one never
 * cuts another client's newer stream. Before the stream starts, `cancel` unsubscribes
 * (the runtime removes the queued prompt, or cancels it by request id while it waits in
 * the session); `detach` stays subscribed and sends the disconnect once it starts.
 */
import { channel } from 'node:diagnostics_channel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Subscription } from 'rxjs';
import type { BusyPolicy, DisconnectPolicy, SessionEmitted } from '../../machines/session.js';
import { InterlockError } from '../errors.js';
import type { Runtime } from '../runtime/Runtime.js';
import { GatewayError, toWire, type WireError } from './httpErrors.js';
import type { GatewayMetrics } from './metrics.js';

/** Diagnostics: one message per chunk written to a client (`{ trace, session, text }`), for tests and tracing. */
export const chunkChannel = channel('interlock.gateway.chunk');

export interface ChatBody {
  model: string;
  messages: { role: string; content: string | { type: string; text?: string }[] | null }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
}

export interface ChatConfig {
  runtime: Runtime;
  sessionKind: string;
  keepAliveMs: number;
  maxBufferedBytes: number;
  metrics: GatewayMetrics | undefined;
  /** What a client's hang-up does to its request, unless the request names its own. */
  onDisconnect: DisconnectPolicy;
  /** Called when an anonymous (per-request) session is done with. */
  forgetAnonymous: (address: string) => void;
}

/** The prompt text: the last user message. The session keeps the conversation itself. */
export function promptOf(body: ChatBody): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    // A text part's text is a string when present (the schema's contentPart).
    if (Array.isArray(m.content)) return m.content.map((p) => (p.type === 'text' ? (p.text ?? '') : '')).join('');
    return '';
  }
  return '';
}

const words = (s: string): number => (s.match(/\S+/g) ?? []).length;

export function handleChat(config: ChatConfig, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = request.body as ChatBody;
  const headerKey = request.headers['x-session-id'];
  const anonymous = typeof headerKey !== 'string';
  const key = anonymous ? `anon-${request.id}` : headerKey;
  const address = `${config.sessionKind}/${key}`;
  // The schema allows only the busy policies; absent, the session's own applies (it reads `onBusy: undefined` as absent).
  const onBusy = request.headers['x-interlock-on-busy'] as BusyPolicy | undefined;
  // The schema allows only the two policies.
  const onDisconnect = (request.headers['x-interlock-on-disconnect'] as DisconnectPolicy | undefined) ?? config.onDisconnect;
  const text = promptOf(body);
  const event = { type: 'prompt', text, onBusy, onDisconnect };
  config.runtime.checkPublic(address, event);
  return new ChatExchange(config, request, reply, address, event, body, anonymous).run();
}

class ChatExchange {
  /** The session started this request's stream. */
  private started = false;
  /** Set in run(), in the turn that adds the 'close' listener: no callback that reads it runs before. */
  private sub!: Subscription;
  private keepAlive: NodeJS.Timeout | undefined;
  private headersSent = false;
  private chunks = 0;
  private text = '';
  private usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined;
  private endReason: string | undefined;
  /** The session's id for this request (from `stream.started`). */
  private requestId: string | undefined;
  /** The client went away; the request may still run (detach), for nobody. */
  private gone = false;
  private readonly id: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly stream: boolean;
  private readonly session: string;
  private readonly trace: string;
  /** Everything of a content chunk before the JSON-encoded text. */
  private readonly prefix: string;
  private settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };

  constructor(
    private readonly config: ChatConfig,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly address: string,
    private readonly event: { type: string; text: string; onDisconnect: DisconnectPolicy },
    private readonly body: ChatBody,
    private readonly anonymous: boolean,
  ) {
    this.id = `chatcmpl-${request.id}`;
    this.stream = body.stream === true;
    this.session = address.slice(address.indexOf('/') + 1);
    this.trace = String(request.id);
    this.prefix = `data: {"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${this.created},"model":${JSON.stringify(body.model)},"choices":[{"index":0,"delta":{"content":`;
  }

  run(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.reply.raw.on('close', this.onClose);
      if (this.stream && this.config.keepAliveMs > 0) {
        this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), this.config.keepAliveMs);
        this.keepAlive.unref();
      }
      this.config.metrics?.chatStarted();
      this.sub = this.config.runtime.stream<SessionEmitted>(this.address, this.event as never).subscribe({
        next: (e) => this.onEvent(e),
        complete: () => this.onComplete(),
        error: (err: unknown) => this.onError(err),
      });
    });
  }

  private log(msg: string, extra: Record<string, unknown> = {}): void {
    this.request.log.info({ trace: this.trace, session: this.session, ...extra }, msg);
  }

  private onEvent(e: SessionEmitted): void {
    switch (e.type) {
      case 'stream.started':
        this.requestId = e.requestId;
        this.log('stream_start', { gen: e.gen });
        // Its client left while it waited (detach): the session decides now.
        if (this.gone) return this.disconnect();
        this.started = true;
        if (this.stream) this.write(this.frame({ role: 'assistant', content: '' }, null));
        return;
      case 'chunk':
        this.chunks++;
        if (this.gone) return;
        this.text += e.text;
        if (this.stream) {
          this.write(`${this.prefix}${JSON.stringify(e.text)}},"finish_reason":null}]}\n\n`);
          // Stryker disable next-line ConditionalExpression: publishing to a channel nobody subscribes to does nothing; the check only spares building the message
          if (chunkChannel.hasSubscribers) chunkChannel.publish({ trace: this.trace, session: this.session, text: e.text });
        }
        return;
      case 'stream.fenced':
        this.log('stream_fenced', { gen: e.gen });
        return;
      case 'stream.detached':
        this.log('stream_detached', { gen: e.gen });
        return;
      case 'stream.end': {
        this.endReason = e.reason;
        // The session's stream.end carries no usage (the provider's reaches an ask's answer only): counted here.
        const promptTokens = words(this.event.text);
        this.usage = { prompt_tokens: promptTokens, completion_tokens: this.chunks, total_tokens: promptTokens + this.chunks };
        if (e.reason !== 'done' && e.reason !== 'error') {
          if (e.reason !== 'fenced') this.log('stream_cancelled', { reason: cancelReason(e.reason) });
          if (e.reason === 'interrupted') {
            this.log('prev_stream_finished_cleanly');
          }
        }
        this.log('stream_end', { reason: e.reason === 'disconnected' ? 'client_disconnect' : e.reason, chunks: this.chunks });
        return;
      }
      case 'prompt.dropped':
        this.log('prompt_dropped', { reason: e.reason });
        return;
    }
  }

  private onComplete(): void {
    if (this.gone) return this.release();
    // Stryker disable next-line StringLiteral: the session's stream completes only on its terminal stream.end, which set endReason
    const reason = this.endReason ?? 'done';
    // Ended by a newer prompt (interrupt, rollback), a cancel, a fence, the session's close or a failed model call: this request did not get its answer.
    if (reason !== 'done') return this.onError(endedEarly(this.session, this.address, reason));
    if (!this.stream) {
      this.finish();
      this.release();
      this.config.metrics?.chatEnded(200);
      this.settle.resolve({
        id: this.id,
        object: 'chat.completion',
        created: this.created,
        model: this.body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: this.text }, finish_reason: 'stop', logprobs: null }],
        usage: this.usage,
      });
      return;
    }
    this.write(this.frame({}, 'stop'));
    if (this.body.stream_options?.include_usage) {
      this.write(`data: ${JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.body.model, choices: [], usage: this.usage })}\n\n`);
    }
    this.write('data: [DONE]\n\n');
    this.endSse(200);
  }

  private onError(err: unknown): void {
    if (this.gone) return this.release();
    const wire = toWire(err);
    // Before the SSE headers, the route's error handler answers (and logs) it.
    if (!this.headersSent) {
      this.finish();
      this.release();
      this.config.metrics?.chatEnded(wire.status);
      this.settle.reject(err);
      return;
    }
    logFailure(this.request, err, wire, { trace: this.trace, session: this.session });
    this.write(`data: ${JSON.stringify(wire.body)}\n\n`);
    this.write('data: [DONE]\n\n');
    this.endSse(wire.status);
  }

  /** The client went away (the response ending takes this listener off first, in finish()). */
  private readonly onClose = (): void => {
    const started = this.started;
    this.finish();
    this.gone = true;
    this.log('client_disconnect', { policy: this.event.onDisconnect, started });
    this.config.metrics?.chatEnded(499);
    // Nothing can be written any more; tell Fastify not to try (a second hijack, after openSse's, changes nothing).
    this.reply.hijack();
    this.settle.resolve(undefined);
    if (started) return this.disconnect();
    if (this.event.onDisconnect === 'detach') return; // it runs when its turn comes; stream.started sends the disconnect
    this.sub.unsubscribe();
    this.log('stream_end', { reason: 'client_disconnect', chunks: 0 });
    this.release();
  };

  /** Tells the session this request's client left; its policy decides (the session ignores it if the request already ended). */
  private disconnect(): void {
    try {
      this.config.runtime.tell(this.address, { type: 'disconnect', requestId: this.requestId } as never);
    } catch (err) {
      // The mailbox is full (a disconnect counts against it) or the runtime is stopping:
      // unsubscribing sends the runtime's own cancel for this request, which bypasses the cap.
      this.request.log.warn({ trace: this.trace, session: this.session, err }, 'disconnect_not_queued');
      this.sub.unsubscribe();
      this.release();
    }
  }

  /** The response is over: no more keep-alives, and its 'close' is no hang-up. */
  private finish(): void {
    clearInterval(this.keepAlive);
    this.reply.raw.off('close', this.onClose);
  }

  /**
   * The request is over in the session too (its stream ended, or it was dropped). Called
   * once: every caller ends the subscription (its complete or error, or an unsubscribe)
   * and, but for onComplete and onError once the client left, takes the 'close' listener off.
   */
  private release(): void {
    if (this.anonymous) this.config.forgetAnonymous(this.address);
  }

  private endSse(status: number): void {
    this.finish();
    this.release();
    this.config.metrics?.chatEnded(status);
    this.reply.raw.end();
    // No 'request completed' line here: Fastify logs it when the hijacked response finishes.
    this.settle.resolve(undefined);
  }

  private openSse(): void {
    this.headersSent = true;
    this.reply.hijack();
    const raw = this.reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': this.trace,
    });
  }

  /** Never called once the client left: chunks stop at `gone`, and the keep-alive stops in finish(). */
  private write(data: string): void {
    if (!this.headersSent) this.openSse();
    const raw = this.reply.raw;
    if (raw.destroyed) return;
    raw.write(data);
    // A client that stopped reading must not make the server buffer without bound.
    if (raw.writableLength > this.config.maxBufferedBytes) {
      this.request.log.warn({ trace: this.trace, session: this.session, buffered: raw.writableLength }, 'slow_client_dropped');
      raw.destroy();
    }
  }

  private frame(delta: Record<string, string>, finish: string | null): string {
    return `data: ${JSON.stringify({
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.body.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  }
}

/**
 * The error of a request whose stream ended without its answer. A failed model call ends
 * the session's stream (`stream.end`, reason `error`) before the session fails the request,
 * so the stream completes and the provider's own error reaches an `ask` only.
 */
function endedEarly(session: string, address: string, reason: string): InterlockError {
  switch (reason) {
    case 'interrupted':
      return new InterlockError('INTERLOCK_SUPERSEDED', `The stream of session '${session}' was interrupted by a newer prompt (policy 'interrupt').`, { address });
    case 'rolledback':
      return new InterlockError('INTERLOCK_SUPERSEDED', `The stream of session '${session}' was interrupted by a newer prompt (policy 'rollback': its turn left the history).`, { address });
    case 'error':
      return new InterlockError('INTERLOCK_UPSTREAM_FAILED', `The model call of session '${session}' failed after its stream started.`, { address });
    default:
      return new InterlockError('INTERLOCK_CANCELLED', `The stream of session '${session}' ended early (${reason}).`, { address });
  }
}

function cancelReason(reason: string): string {
  switch (reason) {
    case 'interrupted':
      return 'new_stream';
    case 'disconnected':
      return 'client_disconnect';
    case 'closed':
      return 'session_closed';
    default:
      return reason;
  }
}

/** The full error to the log (never to the client): 5xx as errors, 4xx as info. */
export function logFailure(request: FastifyRequest, err: unknown, wire: WireError, extra: Record<string, unknown> = {}): void {
  const fields = { ...extra, code: wire.body.error.code, status: wire.status, err };
  if (wire.status >= 500) request.log.error(fields, 'request_failed');
  else request.log.info(fields, 'request_refused');
}

export { GatewayError };
