/**
 * Instruments for the seed 002 scenario (test/scenarios/seed-002.test.ts): a fetch that
 * logs every HTTP exchange the provider opens and releases, a bus recorder for session
 * records, a caller that records how its stream ended, and two provider wrappers.
 */
import type { Observable, Subscription } from 'rxjs';
import type { SessionEmitted, SessionEvent } from '../../machines/session.js';
import type { ActorHandle, BusRecord } from '../../src/index.js';
import type { ChatRequest, Provider, ProviderChunk } from '../../src/providers/types.js';

// ---- the client side of every HTTP exchange ------------------------------------------

/** Per-prompt upstream overrides, sent as the fixture's `x-upstream-*` headers. */
export interface UpstreamPlan {
  behaviour?: string;
  tokens?: number;
  delayMs?: number;
  /** Hold the reply after its first token; the test writes the rest with `upstream.step(prompt(...))`. */
  hold?: boolean;
}

export interface Exchange {
  /** Order in which fetch was called (0-based). */
  readonly n: number;
  /** The last user message of the request: every prompt in these tests is unique. */
  readonly prompt: string;
  /** Session the prompt belongs to: the part of the prompt before ':' (`u1:A` → `u1`). */
  readonly session: string;
  /** The provider released the exchange: its request signal fired (abort, error or end). */
  released: boolean;
}

/** One line per fetch call and per release, in the order they happened. */
export type ExchangeEvent = { kind: 'open' | 'release'; n: number; prompt: string; session: string };

/**
 * A `fetch` for `openAICompatible({ fetch })` that (1) adds the plan of the prompt being
 * sent as `x-upstream-*` headers, so one upstream serves long and short, normal and
 * abort-ignoring replies in one scenario, and (2) logs when each exchange is opened
 * (fetch called) and released. openAICompatible aborts its per-request controller in
 * `finally`, always: so "released" means the provider is done with the exchange, and
 * if the body was still open at that instant undici destroyed the connection.
 */
export class TracingFetch {
  readonly exchanges: Exchange[] = [];
  readonly log: ExchangeEvent[] = [];
  private readonly plans = new Map<string, UpstreamPlan>();

  plan(prompt: string, plan: UpstreamPlan): void {
    this.plans.set(prompt, plan);
  }

  readonly fetch: typeof fetch = (input, init) => {
    const prompt = lastUserMessage(init?.body);
    const session = prompt.includes(':') ? prompt.slice(0, prompt.indexOf(':')) : '';
    const exchange: Exchange = { n: this.exchanges.length, prompt, session, released: false };
    this.exchanges.push(exchange);
    this.log.push({ kind: 'open', n: exchange.n, prompt, session });
    const release = () => {
      if (exchange.released) return;
      exchange.released = true;
      this.log.push({ kind: 'release', n: exchange.n, prompt, session });
    };
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) release();
    else signal?.addEventListener('abort', release, { once: true });
    const plan = this.plans.get(prompt) ?? {};
    const headers: Record<string, string> = { ...(init?.headers as Record<string, string> | undefined) };
    if (plan.behaviour !== undefined) headers['x-upstream-behaviour'] = plan.behaviour;
    if (plan.tokens !== undefined) headers['x-upstream-tokens'] = String(plan.tokens);
    if (plan.delayMs !== undefined) headers['x-upstream-delay-ms'] = String(plan.delayMs);
    if (plan.hold) headers['x-upstream-hold'] = '1';
    return fetch(input, { ...init, headers });
  };

  /** The most exchanges of one session (or of all, with no argument) open at the same time. */
  maxOpen(session?: string): number {
    let open = 0;
    let max = 0;
    for (const e of this.log) {
      if (session !== undefined && e.session !== session) continue;
      open += e.kind === 'open' ? 1 : -1;
      max = Math.max(max, open);
    }
    return max;
  }

  /** Exchanges not yet released. */
  open(): Exchange[] {
    return this.exchanges.filter((e) => !e.released);
  }

  /** The log as `open A`, `release A` lines, for exact sequence assertions. */
  lines(session?: string): string[] {
    return this.log.filter((e) => session === undefined || e.session === session).map((e) => `${e.kind} ${e.prompt}`);
  }
}

/** Picks the fixture's request for `prompt` (its last user message), for `upstream.step` and `upstream.held`. */
export function prompt(text: string): (r: { body: unknown }) => boolean {
  return (r) => lastUserMessage(r.body) === text;
}

function lastUserMessage(body: unknown): string {
  if (typeof body !== 'string' && (typeof body !== 'object' || body === null)) return '';
  const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { messages?: { role: string; content: string }[] };
  const users = (parsed.messages ?? []).filter((m) => m.role === 'user');
  return users.at(-1)?.content ?? '';
}

// ---- the bus ---------------------------------------------------------------------------

/** What the bus carries in an `emitted` record. */
export interface EmittedData {
  event: SessionEmitted;
  requestId: string | undefined;
}

/** Keeps every record of the runtime; scenario helpers slice them by address and type. */
export class Recorder {
  readonly records: BusRecord[] = [];
  private readonly sub: Subscription;

  constructor(rt: { readonly events$: Observable<BusRecord> }) {
    this.sub = rt.events$.subscribe((r) => this.records.push(r));
  }

  of(address: string, type?: BusRecord['type']): BusRecord[] {
    return this.records.filter((r) => r.address === address && (type === undefined || r.type === type));
  }

  /** The session's emitted events, in bus order. */
  emitted(address: string): SessionEmitted[] {
    return this.of(address, 'emitted').map((r) => (r.data as EmittedData).event);
  }

  /** `gen` of every chunk and stream.end the session emitted, in bus order. */
  streamGens(address: string): number[] {
    return this.emitted(address)
      .filter((e) => e.type === 'chunk' || e.type === 'stream.end')
      .map((e) => (e as { gen: number }).gen);
  }

  /** Index in `records` of the first record matching `pred`, or -1. */
  indexOf(pred: (r: BusRecord) => boolean): number {
    return this.records.findIndex(pred);
  }

  /** The id of the envelope the last enqueue on `address` created (enqueue is synchronous). */
  lastEnqueued(address: string): string {
    const r = this.of(address, 'mailbox.enqueued').at(-1);
    if (!r) throw new Error(`no envelope enqueued on ${address}`);
    return (r.data as { id: string }).id;
  }

  /** The session state each envelope was delivered in: the last snapshot before its `mailbox.delivered`. */
  stateAtDelivery(address: string, envelopeId: string): string | undefined {
    let state: string | undefined;
    for (const r of this.records) {
      if (r.address !== address) continue;
      if (r.type === 'snapshot') state = String((r.data as { value: unknown }).value);
      if (r.type === 'mailbox.delivered' && (r.data as { id: string }).id === envelopeId) return state;
    }
    return undefined;
  }

  /**
   * Tasks started and settled on `address`: `task.started` / `task.settled` data by task id,
   * and the order they happened in as `+id` / `-id`.
   */
  tasks(address: string): { started: string[]; settled: Map<string, TaskSettled>; order: string[] } {
    const started: string[] = [];
    const settled = new Map<string, TaskSettled>();
    const order: string[] = [];
    for (const r of this.of(address)) {
      if (r.type === 'task.started') {
        const id = (r.data as { task: string }).task;
        started.push(id);
        order.push(`+${id}`);
      } else if (r.type === 'task.settled') {
        const d = r.data as TaskSettled;
        settled.set(d.task, d);
        order.push(`-${d.task}`);
      }
    }
    return { started, settled, order };
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}

export interface TaskSettled {
  task: string;
  requestId: string | undefined;
  ok: boolean;
  fenced?: true;
  dropped?: number;
}

// ---- callers -----------------------------------------------------------------------------

export type Outcome = { kind: 'complete' } | { kind: 'error'; error: { code?: string; message?: string } };

/** One `ref.stream` caller: every event it received, every way its stream terminated. */
export class Caller {
  readonly events: SessionEmitted[] = [];
  readonly endings: Outcome[] = [];
  /** Envelope id of the prompt: the request id the session stamps on its events. */
  readonly requestId: string;
  /** Resolves when the stream completes or errors (the first time). */
  readonly ended: Promise<Outcome>;
  /** Resolves on the caller's `stream.started`. */
  readonly began: Promise<void>;
  /** Resolves on the caller's first chunk. */
  readonly chunked: Promise<void>;
  /** What `probe` returned, evaluated synchronously when the first chunk was delivered. */
  atFirstChunk: unknown;
  private readonly sub: Subscription;

  /**
   * Subscribes to `ref.stream({ type: 'prompt', text: prompt })`. `enqueued` returns the id
   * of the envelope the subscription just enqueued (enqueue is synchronous).
   */
  constructor(
    ref: ActorHandle<SessionEvent>,
    readonly prompt: string,
    enqueued: () => string,
    probe?: () => unknown,
  ) {
    let end!: (o: Outcome) => void;
    let chunk!: () => void;
    let start!: () => void;
    this.ended = new Promise((resolve) => (end = resolve));
    this.chunked = new Promise((resolve) => (chunk = resolve));
    this.began = new Promise((resolve) => (start = resolve));
    let chunks = 0;
    this.sub = ref.stream<SessionEmitted>({ type: 'prompt', text: prompt }).subscribe({
      next: (e) => {
        this.events.push(e);
        if (e.type === 'stream.started') start();
        if (e.type === 'chunk' && chunks++ === 0) {
          if (probe) this.atFirstChunk = probe();
          chunk();
        }
      },
      complete: () => {
        this.endings.push({ kind: 'complete' });
        end({ kind: 'complete' });
      },
      error: (error: { code?: string; message?: string }) => {
        this.endings.push({ kind: 'error', error });
        end({ kind: 'error', error });
      },
    });
    this.requestId = enqueued();
  }

  /** The reply text the caller received. */
  replyText(): string {
    return this.chunks().join('');
  }

  chunks(): string[] {
    return this.events.filter((e) => e.type === 'chunk').map((e) => (e as { text: string }).text);
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  last(): SessionEmitted | undefined {
    return this.events.at(-1);
  }

  /**
   * How this caller's request ended, in the session's terms: the `reason` of its
   * stream.end when its stream completed, or the error code when it errored.
   */
  outcome(): string {
    if (this.endings.length !== 1) return `ended ${this.endings.length} times`;
    const ending = this.endings[0]!;
    if (ending.kind === 'error') return ending.error.code ?? String(ending.error.message);
    const last = this.last();
    return last?.type === 'stream.end' ? last.reason : `completed after ${String(last?.type)}`;
  }

  /** Leaves the stream as a client that went away would: the runtime sends the kind's cancel event. */
  unsubscribe(): void {
    this.sub.unsubscribe();
  }
}

// ---- providers -------------------------------------------------------------------------

/**
 * A provider that ignores its abort signal, like seed 002's blocking Ollama call in a
 * thread: it hands the inner provider a signal that never fires and keeps reading and
 * yielding until the upstream ends the reply. Counts what it yielded after the abort.
 */
export function ignoringAbort(inner: Provider): Provider & { yieldedAfterAbort: number } {
  const wrapper = {
    name: `${inner.name}+ignoring-abort`,
    yieldedAfterAbort: 0,
    async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ProviderChunk> {
      for await (const chunk of inner.stream(request, new AbortController().signal)) {
        if (signal.aborted) wrapper.yieldedAfterAbort++;
        yield chunk;
      }
    },
  };
  return wrapper;
}

/**
 * Sends only the newest message. Used where 1,000 prompts pile up in one history: the
 * session would otherwise send the whole (growing) history each time, and the fixture
 * keeps every request body it received, which would swamp the heap measurement.
 */
export function lastMessageOnly(inner: Provider): Provider {
  return {
    name: inner.name,
    stream: (request, signal) => inner.stream({ ...request, messages: request.messages.slice(-1) }, signal),
  };
}

// ---- misc --------------------------------------------------------------------------------

/**
 * Writes the next `n` pieces of the held reply to `prompt`, each once the caller read the
 * one before (the caller's chunk count grows by one): the seed's "B arrives while A is
 * streaming" without a fixed real-time delay.
 */
export async function streamSome(upstream: { step(which?: (r: { body: unknown }) => boolean): number }, caller: Caller, n: number, wait: (c: () => boolean, what: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i++) {
    const seen = caller.chunks().length;
    if (upstream.step(prompt(caller.prompt)) === 0) return;
    await wait(() => caller.chunks().length > seen || caller.endings.length > 0, `${caller.prompt} read its chunk ${seen + 1}`);
  }
}
