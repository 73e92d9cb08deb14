/**
 * The embedded default provider: a deterministic model that needs no network. It is
 * what `interlock serve` answers with and what tests use when they are not about HTTP.
 *
 * The reply is `text` if given, else a sentence derived from the last user message. It
 * is cut into word tokens and emitted one per `1000 / tokensPerSecond` ms on the injected
 * clock, so a `SimulatedClock` drives it without real waiting. At most one timer is
 * scheduled at a time, and only while the consumer is waiting for the next token; an
 * abort clears it, so nothing is left behind.
 */
import { systemClock, type Clock } from '../clock.js';
import { InterlockError } from '../errors.js';
import type { ChatRequest, Provider, ProviderChunk } from './types.js';

export interface SimulatedOptions {
  /** Emission rate. Default 50 (one token every 20 ms). */
  tokensPerSecond?: number;
  /** A fixed reply for every request. Default: derived from the last user message. */
  text?: string;
  /** Where the inter-token delays are scheduled. Default the system clock. */
  clock?: Clock;
  /** Provider name, for logs and events. Default `simulated`. */
  name?: string;
}

export function simulated(options: SimulatedOptions = {}): Provider {
  const tokensPerSecond = options.tokensPerSecond ?? 50;
  if (typeof tokensPerSecond !== 'number' || !Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0) {
    throw new InterlockError(
      'INTERLOCK_INVALID_CONFIG',
      `simulated: tokensPerSecond must be a finite number above 0, got ${String(tokensPerSecond)}. Pass e.g. { tokensPerSecond: 50 }.`,
    );
  }
  const name = options.name ?? 'simulated';
  const clock = options.clock ?? systemClock;
  const intervalMs = 1000 / tokensPerSecond;
  return {
    name,
    stream: (request, signal) => emit(name, clock, intervalMs, options.text, request, signal),
  };
}

async function* emit(
  name: string,
  clock: Clock,
  intervalMs: number,
  text: string | undefined,
  request: ChatRequest,
  signal: AbortSignal,
): AsyncGenerator<ProviderChunk> {
  const all = tokenize(text ?? replyTo(request));
  const limit = request.maxTokens === undefined ? all.length : Math.max(0, Math.floor(request.maxTokens));
  const tokens = all.slice(0, limit);
  // One abort listener for the whole stream, not one per token (adding and removing a
  // listener per token was ~15% of a streaming session's CPU). It clears the pending
  // token timer and rejects the wait at once.
  let pending: { handle: unknown; reject: (err: unknown) => void } | undefined;
  const onAbort = (): void => {
    const p = pending;
    if (!p) return;
    pending = undefined;
    clock.clearTimeout(p.handle);
    p.reject(cancelled(name, signal.reason));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (const token of tokens) {
      if (signal.aborted) throw cancelled(name, signal.reason);
      await new Promise<void>((resolve, reject) => {
        const handle = clock.setTimeout(() => {
          pending = undefined;
          resolve();
        }, intervalMs);
        pending = { handle, reject };
      });
      yield { type: 'delta', text: token };
    }
    if (signal.aborted) throw cancelled(name, signal.reason);
    yield {
      type: 'done',
      finishReason: tokens.length < all.length ? 'length' : 'stop',
      usage: {
        promptTokens: request.messages.reduce((sum, m) => sum + tokenize(m.content).length, 0),
        completionTokens: tokens.length,
      },
    };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** The deterministic reply to a request with no fixed `text`. */
function replyTo(request: ChatRequest): string {
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
  const said = lastUser?.content.replace(/\s+/g, ' ').trim() ?? '';
  if (said === '') return "Hello from Interlock's simulated model. Send a user message and it will answer it.";
  return `You said: "${said}". This is Interlock's simulated model answering without a network.`;
}

/** Word tokens, each carrying the whitespace before it, so they concatenate back to the text. */
function tokenize(text: string): string[] {
  return text.trim().match(/\s*\S+/g) ?? [];
}

function cancelled(name: string, cause: unknown): InterlockError {
  return new InterlockError(
    'INTERLOCK_CANCELLED',
    `Stream from provider '${name}' was cancelled by its caller's signal; its pending token timer was cleared.`,
    { cause, details: { provider: name } },
  );
}
