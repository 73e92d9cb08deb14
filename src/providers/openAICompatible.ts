/**
 * A provider for any server speaking the OpenAI streaming chat format: OpenAI, Ollama
 * (`http://localhost:11434/v1`), vLLM, llama.cpp's server. It POSTs
 * `${baseURL}/chat/completions` with `stream: true` over the global `fetch` and parses
 * the SSE body with `eventsource-parser`.
 *
 * Cancellation reaches the socket (seed 002): each request owns one AbortController
 * that is handed to `fetch`. The caller's signal is forwarded to it, and the generator's
 * `finally` aborts it too, so an abort, an error, or a consumer that stops iterating
 * early all make undici destroy the connection instead of letting the model keep
 * generating into a socket nobody reads.
 */
import { createParser } from 'eventsource-parser';
import { InterlockError } from '../errors.js';
import type { ChatRequest, Provider, ProviderChunk } from './types.js';

export interface OpenAICompatibleOptions {
  /** The API root, ending in `/v1` for most servers, e.g. `http://localhost:11434/v1`. */
  baseURL: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given. */
  apiKey?: string;
  /** The model used when a request names none. */
  model: string;
  /** Replaces the global `fetch` (for proxies, instrumentation, tests). */
  fetch?: typeof fetch;
  /** Extra request headers; they override the defaults. */
  headers?: Record<string, string>;
  /** Provider name, for logs and events. Default `openai-compatible`. */
  name?: string;
}

/** Longest error body kept in `details.body`. */
const EXCERPT_CHARS = 500;
/** Bytes read from an error response before giving up on the rest. */
const ERROR_BODY_BYTES = 8_192;
/** One SSE event larger than this is not a chat chunk; the stream is refused. */
const MAX_EVENT_CHARS = 1_048_576;

interface Target {
  readonly name: string;
  readonly endpoint: string;
  readonly model: string;
  readonly fetch: typeof fetch;
  readonly headers: Record<string, string>;
}

interface StreamState {
  events: number;
  finishReason: string | undefined;
  usage: { promptTokens: number; completionTokens: number } | undefined;
}

const BASE_URL_EXAMPLE = "Pass the API root, e.g. 'http://localhost:11434/v1'.";

export function openAICompatible(options: OpenAICompatibleOptions): Provider {
  const baseURL: unknown = options?.baseURL;
  if (typeof baseURL !== 'string') {
    throw new InterlockError(
      'INTERLOCK_INVALID_CONFIG',
      `openAICompatible: baseURL must be a string, got ${baseURL instanceof URL ? 'a URL object (pass its .href)' : baseURL === null ? 'null' : typeof baseURL}. ${BASE_URL_EXAMPLE}`,
    );
  }
  if (!/^https?:\/\//.test(baseURL)) {
    throw new InterlockError(
      'INTERLOCK_INVALID_CONFIG',
      `openAICompatible: baseURL ${JSON.stringify(baseURL)} is not an http(s) URL. ${BASE_URL_EXAMPLE}`,
    );
  }
  if (typeof options.model !== 'string' || options.model === '') {
    throw new InterlockError(
      'INTERLOCK_INVALID_CONFIG',
      `openAICompatible: model must be a non-empty string. Pass the model the server should run, e.g. 'llama3.2'.`,
    );
  }
  const target: Target = {
    name: options.name ?? 'openai-compatible',
    endpoint: `${options.baseURL.replace(/\/+$/, '')}/chat/completions`,
    model: options.model,
    fetch: options.fetch ?? globalThis.fetch,
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
      ...options.headers,
    },
  };
  return {
    name: target.name,
    stream: (request, signal) => streamChat(target, request, signal),
  };
}

async function* streamChat(target: Target, request: ChatRequest, signal: AbortSignal): AsyncGenerator<ProviderChunk> {
  if (signal.aborted) throw cancelled(target, 'connecting', signal.reason);
  // Owned by this request alone: the caller's abort and our own exits both land here.
  const controller = new AbortController();
  const forward = (): void => controller.abort(signal.reason);
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal fires 'abort' at most once, and the finally below removes the listener
  signal.addEventListener('abort', forward, { once: true });
  try {
    const response = await connect(target, request, controller.signal, signal);
    if (!response.ok) throw await statusError(target, response, signal);
    if (response.body === null) {
      throw new InterlockError(
        'INTERLOCK_UPSTREAM_PROTOCOL',
        `Model server at ${target.endpoint} answered ${response.status} with no body. Point baseURL at an OpenAI-compatible API that supports stream: true.`,
        { details: { status: response.status } },
      );
    }
    yield* readChunks(target, response.body, response.headers.get('content-type'), signal);
  } finally {
    signal.removeEventListener('abort', forward);
    // Closes the connection if the body is still open: after [DONE] with bytes left,
    // on any error, or when the consumer stopped early. No effect on a finished body.
    controller.abort();
  }
}

async function connect(target: Target, request: ChatRequest, fetchSignal: AbortSignal, signal: AbortSignal): Promise<Response> {
  const body = {
    model: request.model ?? target.model,
    messages: request.messages,
    stream: true,
    // JSON.stringify leaves out a field whose value is undefined: an unset option is not sent.
    temperature: request.temperature,
    max_tokens: request.maxTokens,
  };
  try {
    return await target.fetch(target.endpoint, {
      method: 'POST',
      headers: target.headers,
      body: JSON.stringify(body),
      signal: fetchSignal,
    });
  } catch (cause) {
    if (signal.aborted) throw cancelled(target, 'connecting', signal.reason);
    throw new InterlockError(
      'INTERLOCK_UPSTREAM_FAILED',
      `Could not reach model server at ${target.endpoint}: ${describe(cause)}. Check baseURL and that the server is running.`,
      { cause, details: { endpoint: target.endpoint } },
    );
  }
}

async function* readChunks(
  target: Target,
  body: ReadableStream<Uint8Array>,
  contentType: string | null,
  signal: AbortSignal,
): AsyncGenerator<ProviderChunk> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const queue: string[] = [];
  let overflow = false;
  const parser = createParser({
    onEvent: (event) => queue.push(event.data),
    // Comments (`: keep-alive`) never reach onEvent. Unknown fields and bad `retry`
    // values are ignored, as the SSE spec says; only an oversized event is fatal.
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = true;
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });
  const state: StreamState = { events: 0, finishReason: undefined, usage: undefined };

  for (;;) {
    if (signal.aborted) throw cancelled(target, 'streaming', signal.reason);
    const read = await readNext(target, reader, signal);
    // `overflow` is false here: the parser sets it only inside feed(), and the stream ends just below.
    parser.feed(read.done ? decoder.decode() : decoder.decode(read.value, { stream: true }));
    if (overflow) {
      throw new InterlockError(
        'INTERLOCK_UPSTREAM_PROTOCOL',
        `Model server at ${target.endpoint} sent an SSE event over ${MAX_EVENT_CHARS} characters. Point baseURL at an OpenAI-compatible streaming API.`,
        { details: { maxEventChars: MAX_EVENT_CHARS } },
      );
    }
    while (queue.length > 0) {
      // The consumer may have aborted while it held the previous chunk.
      if (signal.aborted) throw cancelled(target, 'streaming', signal.reason);
      const data = queue.shift()!;
      state.events++;
      if (data === '[DONE]') {
        yield doneChunk(state);
        return; // anything after [DONE] is ignored; finally closes the connection
      }
      const text = interpret(target, data, state);
      if (text !== undefined) yield { type: 'delta', text };
    }
    if (read.done) break;
  }

  if (state.finishReason !== undefined) {
    yield doneChunk(state);
    return;
  }
  if (state.events === 0) {
    throw new InterlockError(
      'INTERLOCK_UPSTREAM_PROTOCOL',
      `Model server at ${target.endpoint} answered without any SSE event (content-type ${contentType ?? 'none'}). Point baseURL at an OpenAI-compatible API that supports stream: true.`,
      { details: { contentType } },
    );
  }
  throw new InterlockError(
    'INTERLOCK_UPSTREAM_FAILED',
    `Model server at ${target.endpoint} closed the stream before 'data: [DONE]' or a finish_reason; the reply is incomplete. Retry, and check the server's logs if it repeats.`,
    { details: { events: state.events } },
  );
}

async function readNext(
  target: Target,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  signal: AbortSignal,
): Promise<Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>> {
  try {
    return await reader.read();
  } catch (cause) {
    if (signal.aborted) throw cancelled(target, 'streaming', signal.reason);
    throw new InterlockError(
      'INTERLOCK_UPSTREAM_FAILED',
      `Connection to model server at ${target.endpoint} broke mid-stream: ${describe(cause)}. Retry, and check the server's logs if it repeats.`,
      { cause },
    );
  }
}

/** Applies one `data:` payload to the state; returns the delta text, if any. */
function interpret(target: Target, data: string, state: StreamState): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (cause) {
    throw new InterlockError(
      'INTERLOCK_UPSTREAM_PROTOCOL',
      `Model server at ${target.endpoint} sent a data line that is not JSON: ${JSON.stringify(excerpt(data))}. Point baseURL at an OpenAI-compatible streaming API.`,
      { cause, details: { data: excerpt(data) } },
    );
  }
  if (!isRecord(parsed) || (parsed.choices !== undefined && !Array.isArray(parsed.choices))) {
    throw new InterlockError(
      'INTERLOCK_UPSTREAM_PROTOCOL',
      `Model server at ${target.endpoint} sent a data line that is not a chat.completion.chunk: ${JSON.stringify(excerpt(data))}. Point baseURL at an OpenAI-compatible streaming API.`,
      { details: { data: excerpt(data) } },
    );
  }
  if (isRecord(parsed.error)) {
    const { message, code } = upstreamError(parsed);
    throw new InterlockError(
      'INTERLOCK_UPSTREAM_FAILED',
      `Model server at ${target.endpoint} reported an error mid-stream${message === undefined ? '' : `: ${message}`}. Retry, and check the server's logs if it repeats.`,
      { details: { upstreamMessage: message, upstreamCode: code } },
    );
  }
  if (isRecord(parsed.usage)) {
    state.usage = {
      promptTokens: numberOr0(parsed.usage.prompt_tokens),
      completionTokens: numberOr0(parsed.usage.completion_tokens),
    };
  }
  const choice: unknown = Array.isArray(parsed.choices) ? parsed.choices[0] : undefined;
  if (!isRecord(choice)) return undefined;
  if (typeof choice.finish_reason === 'string') state.finishReason = choice.finish_reason;
  const content = isRecord(choice.delta) ? choice.delta.content : undefined;
  return typeof content === 'string' && content !== '' ? content : undefined;
}

function doneChunk(state: StreamState): ProviderChunk {
  // A server that sends [DONE] without any finish_reason gets 'unknown', not a guess.
  const finishReason = state.finishReason ?? 'unknown';
  return state.usage === undefined ? { type: 'done', finishReason } : { type: 'done', finishReason, usage: state.usage };
}

async function statusError(target: Target, response: Response, signal: AbortSignal): Promise<InterlockError> {
  const body = await readExcerpt(target, response, signal);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not JSON (an HTML proxy page, plain text, or cut at the excerpt limit): the raw excerpt is reported instead.
  }
  const { message, code } = upstreamError(parsed);
  const retryAfter = response.headers.get('retry-after');
  return new InterlockError(
    'INTERLOCK_UPSTREAM_FAILED',
    `Model server at ${target.endpoint} answered ${response.status}${message === undefined ? '' : `: ${message}`}. ${hintFor(response.status)}`,
    {
      details: {
        status: response.status,
        body: excerpt(body),
        ...(message === undefined ? {} : { upstreamMessage: message }),
        ...(code === undefined ? {} : { upstreamCode: code }),
        ...(retryAfter === null ? {} : { retryAfter }),
      },
    },
  );
}

/** Reads at most ERROR_BODY_BYTES of an error body; the caller's finally closes the rest. */
async function readExcerpt(target: Target, response: Response, signal: AbortSignal): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  while (bytes < ERROR_BODY_BYTES) {
    let read: Awaited<ReturnType<typeof reader.read>>;
    try {
      read = await reader.read();
    } catch {
      if (signal.aborted) throw cancelled(target, 'connecting', signal.reason);
      // The connection broke while reading an error body: the status alone still
      // explains the failure, so report it with whatever text arrived.
      break;
    }
    if (read.done) break;
    bytes += read.value.byteLength;
    text += decoder.decode(read.value, { stream: true });
  }
  return text + decoder.decode();
}

function upstreamError(parsed: unknown): { message: string | undefined; code: string | undefined } {
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  const message = typeof error?.message === 'string' ? error.message : undefined;
  const code = typeof error?.code === 'string' || typeof error?.code === 'number' ? String(error.code) : undefined;
  return { message, code };
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return 'Check apiKey and the account behind it.';
  if (status === 404) return "Check baseURL (most servers want it to end in '/v1') and the model name.";
  if (status === 429) return 'The server is rate limiting: retry after a pause or lower the concurrency.';
  if (status >= 500) return "The model server failed: retry, and check the server's logs if it repeats.";
  return 'Check the request options against what the server accepts.';
}

function cancelled(target: Target, phase: 'connecting' | 'streaming', cause: unknown): InterlockError {
  return new InterlockError(
    'INTERLOCK_CANCELLED',
    `Stream from model server at ${target.endpoint} was cancelled by its caller's signal while ${phase}; the HTTP request was aborted and its connection closed.`,
    { cause, details: { provider: target.name, phase } },
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberOr0(value: unknown): number {
  // Number.isFinite() is false for every non-number (it does not convert).
  return Number.isFinite(value) ? (value as number) : 0;
}

function excerpt(text: string): string {
  return text.length <= EXCERPT_CHARS ? text : `${text.slice(0, EXCERPT_CHARS)}…`;
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // undici reports 'fetch failed' and puts the useful part (ECONNREFUSED …) in cause.
  const inner = (cause as { cause?: unknown }).cause;
  return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
}
