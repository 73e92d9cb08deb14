/**
 * The embedded default provider: a deterministic model that needs no network. It is
 * what `interlock serve` answers with and what tests use when they are not about HTTP.
 *
 * The reply is `text` if given, else a sentence derived from the last user message. It
 * is read one word token at a time (tokens.ts; nothing is split up front) and each token
 * is emitted `1000 / tokensPerSecond` ms after the consumer asked for it, on the injected
 * clock, so a `SimulatedClock` drives it without real waiting. The waits go through the
 * clock's {@link TickWheel}: every stream due at the same instant shares one timer, and a
 * stream is on it only while its consumer waits for the next token. An abort takes it off
 * at once, so nothing is left behind.
 */
import { systemClock, type Clock } from '../clock.js';
import { InterlockError } from '../errors.js';
import { tickWheel, type Sleeper, type Slot, type TickWheel } from './TickWheel.js';
import { countTokens, firstTokenStart, tokenEnd } from './tokens.js';
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
  if (!Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0) {
    throw new InterlockError(
      'INTERLOCK_INVALID_CONFIG',
      `simulated: tokensPerSecond must be a finite number above 0, got ${String(tokensPerSecond)}. Pass e.g. { tokensPerSecond: 50 }.`,
    );
  }
  const name = options.name ?? 'simulated';
  const wheel = tickWheel(options.clock ?? systemClock);
  const intervalMs = 1000 / tokensPerSecond;
  const text = options.text;
  return {
    name,
    stream: (request, signal) => new SimulatedStream(name, wheel, intervalMs, text ?? replyTo(request), request, signal),
  };
}

const FRESH = 0;
const OPEN = 1;
/** The signal fired between reads: the next read rejects. */
const ABORTED = 2;
const ENDED = 3;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * One reply, as an async iterator written out by hand rather than an async generator: one
 * promise per token and no generator frame (a generator cost two promises, a timer, a
 * closure and a pending-wait object per token). It behaves as the generator did: a read
 * waits one interval and gets the next token, then `done`; every read once the signal has
 * fired rejects with INTERLOCK_CANCELLED (a read waiting at that moment, at once) until the
 * stream has ended; `return()` ends it early. Reads made before the previous one settled
 * are served in order.
 */
class SimulatedStream implements AsyncIterableIterator<ProviderChunk>, Sleeper {
  slot: Slot | undefined = undefined;
  slotIndex = 0;
  private stage = FRESH;
  /** Where the next token starts in `text`, and where it ends (-1: no token left). */
  private pos: number;
  private end: number;
  private emitted = 0;
  private readonly limit: number;
  /** The read waiting for a token: its promise and how to settle it. */
  private waiting: Promise<IteratorResult<ProviderChunk>> | undefined = undefined;
  private resolve: ((r: IteratorResult<ProviderChunk>) => void) | undefined = undefined;
  private reject: ((e: unknown) => void) | undefined = undefined;

  constructor(
    private readonly name: string,
    private readonly wheel: TickWheel,
    private readonly intervalMs: number,
    private readonly text: string,
    private readonly request: ChatRequest,
    private readonly signal: AbortSignal,
  ) {
    this.pos = firstTokenStart(text);
    this.end = tokenEnd(text, this.pos);
    // As `tokens.slice(0, maxTokens)` did: a fraction is cut down, NaN or below 0 is none.
    this.limit = request.maxTokens === undefined ? Infinity : Math.max(0, Math.floor(request.maxTokens)) || 0;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ProviderChunk>> {
    const waiting = this.waiting;
    if (waiting) {
      // A read made before the previous one settled waits its turn behind it.
      const again = () => this.next();
      return waiting.then(again, again);
    }
    return this.read();
  }

  /** Ends the stream early: off the wheel, listener removed; a read still waiting ends as done. */
  return(): Promise<IteratorResult<ProviderChunk>> {
    const resolve = this.resolve;
    this.finish();
    resolve?.(DONE);
    return Promise.resolve(DONE);
  }

  throw(err: unknown): Promise<IteratorResult<ProviderChunk>> {
    void this.return();
    return Promise.reject(err);
  }

  /** The wheel: this token's interval is over. */
  wake(): void {
    const resolve = this.resolve!;
    this.waiting = this.resolve = this.reject = undefined;
    const token = this.text.slice(this.pos, this.end);
    this.pos = this.end;
    this.end = tokenEnd(this.text, this.pos);
    this.emitted++;
    resolve({ done: false, value: { type: 'delta', text: token } });
  }

  /** The signal fired (an EventListener object: no closure per stream). A waiting read is rejected now; otherwise the next read is. */
  handleEvent(): void {
    const reject = this.reject;
    if (reject === undefined) {
      this.stage = ABORTED;
      return;
    }
    this.finish();
    reject(cancelled(this.name, this.signal.reason));
  }

  private read(): Promise<IteratorResult<ProviderChunk>> {
    const stage = this.stage;
    if (stage === ENDED) return Promise.resolve(DONE);
    // The listener tells an open stream of an abort; `signal.aborted` (a costly getter in Node) is read once, on the first read.
    if (stage === ABORTED || (stage === FRESH && this.signal.aborted)) {
      this.finish();
      return Promise.reject(cancelled(this.name, this.signal.reason));
    }
    // Stryker disable next-line ConditionalExpression: '→ true' is equivalent: the stage is FRESH or OPEN here, and adding the same listener object again is a no-op (EventTarget keeps one per type, listener and capture); '→ false' (no listener) is killed by the abort-while-waiting tests
    if (this.stage === FRESH) {
      this.stage = OPEN;
      // One abort listener for the whole stream, not one per token (adding and removing one
      // per token was ~15% of a streaming session's CPU).
      this.signal.addEventListener('abort', this, { once: true });
    }
    if (this.end === -1 || this.emitted >= this.limit) {
      const finishReason = this.end === -1 ? 'stop' : 'length';
      this.finish();
      return Promise.resolve({ done: false, value: doneChunk(this.request, finishReason, this.emitted) });
    }
    const p = new Promise<IteratorResult<ProviderChunk>>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.waiting = p;
    this.wheel.sleep(this, this.intervalMs);
    return p;
  }

  private finish(): void {
    // Off the signal whatever the stage: removing a listener that is not there (never added,
    // gone with the `once` abort, or removed by an earlier finish()) is a no-op.
    this.signal.removeEventListener('abort', this);
    this.stage = ENDED;
    this.wheel.cancel(this);
    this.waiting = this.resolve = this.reject = undefined;
  }
}

function doneChunk(request: ChatRequest, finishReason: string, completionTokens: number): ProviderChunk {
  let promptTokens = 0;
  for (const m of request.messages) promptTokens += countTokens(m.content);
  return { type: 'done', finishReason, usage: { promptTokens, completionTokens } };
}

/** The deterministic reply to a request with no fixed `text`. */
function replyTo(request: ChatRequest): string {
  let said = '';
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === 'user') {
      said = m.content.replace(/\s+/g, ' ').trim();
      break;
    }
  }
  if (said === '') return "Hello from Interlock's simulated model. Send a user message and it will answer it.";
  return `You said: "${said}". This is Interlock's simulated model answering without a network.`;
}

function cancelled(name: string, cause: unknown): InterlockError {
  return new InterlockError(
    'INTERLOCK_CANCELLED',
    `Stream from provider '${name}' was cancelled by its caller's signal; its pending token timer was cleared.`,
    { cause, details: { provider: name } },
  );
}
