/**
 * The chat session (seed 002): at most one model stream per session at any instant.
 *
 *   idle ──prompt──▶ streaming ──@stream.closed──▶ idle
 *                       │ prompt (interrupt) / cancel / disconnect of its request (cancel) / close
 *                       ▼
 *                   cancelling ──@stream.closed, or cleanup deadline (fence)──▶ streaming (next prompt) | idle | closed
 *
 * Lifecycle is the control plane: a stream starts, is cancelled, closes or is fenced by a
 * transition. Token chunks are the data plane: the stream's task emits them straight to
 * the request's subscribers and the bus, stamped with the stream's generation; once a
 * generation is fenced, whatever it still produces is dropped by the runtime.
 */
import { and, assign, emit, setup } from 'xstate';
import {
  abortTask,
  addressOf,
  errors,
  fail,
  fenceTask,
  reply,
  requestId,
  runTask,
  type ChatMessage,
  type KindConfig,
  type Provider,
} from '../src/index.js';
import { AnswerText } from './AnswerText.js';

/**
 * What a prompt does while a stream runs (LangGraph's double-texting strategies):
 * `interrupt` cancels the running stream and keeps its partial answer in the history;
 * `rollback` cancels it and removes the interrupted turn (prompt and partial answer), so
 * the new prompt starts from the history as it was; `enqueue` waits; `reject` refuses.
 */
export type BusyPolicy = 'interrupt' | 'rollback' | 'enqueue' | 'reject';
export type DisconnectPolicy = 'cancel' | 'detach';

export interface SessionOptions {
  provider: Provider;
  /** What a prompt does while a stream runs. Default 'interrupt' (latest wins). */
  onBusy?: BusyPolicy;
  /**
   * What a `disconnect` of a running stream's client does: `cancel` aborts the stream (and
   * drops a prompt waiting behind it); `detach` lets it run to its end, into the history.
   * Default 'cancel'. A prompt may carry its own.
   */
  onDisconnect?: DisconnectPolicy;
  /** How long a cancelled stream may take to close before it is fenced. Default 2,000 ms. */
  cleanupDeadlineMs?: number;
  /** System prompt prepended to every request. */
  system?: string;
  model?: string;
  /**
   * How much history a session keeps (and sends to the model): the oldest messages go first
   * once either bound is passed; the newest message always stays. Default
   * `{ maxMessages: 100, maxChars: 100_000 }`.
   */
  history?: HistoryPolicy;
}

export interface HistoryPolicy {
  /** Messages kept at most (user and assistant count one each). */
  maxMessages?: number;
  /** Characters of message content kept at most. */
  maxChars?: number;
}

/** Drops the oldest messages until both bounds hold, keeping at least the newest one. */
export function trimHistory(history: ChatMessage[], maxMessages: number, maxChars: number): ChatMessage[] {
  let chars = 0;
  for (const m of history) chars += m.content.length;
  let drop = 0;
  while (history.length - drop > 1 && (history.length - drop > maxMessages || chars > maxChars)) chars -= history[drop++]!.content.length;
  return drop === 0 ? history : history.slice(drop);
}

export type StreamOutcome = 'done' | 'error' | 'aborted';
export type EndReason = 'done' | 'error' | 'cancelled' | 'interrupted' | 'rolledback' | 'disconnected' | 'closed' | 'fenced';

/** Token counts, when the provider reports them. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** What `ask({ type: 'prompt' })` resolves with: the answer. */
export interface SessionAnswer {
  text: string;
  finishReason: string;
  usage?: Usage;
}

/** What callers send a session. */
export type SessionEvent =
  /**
   * `onBusy` overrides the session's policy for this prompt only (LangGraph's per-run
   * multitask strategy); `onDisconnect` does the same for what its client's disconnect does.
   */
  | { type: 'prompt'; text: string; onBusy?: BusyPolicy; onDisconnect?: DisconnectPolicy }
  | { type: 'cancel'; requestId?: string }
  /**
   * The client of request `requestId` went away: the request's disconnect policy applies
   * if it still runs or waits, else it is ignored (a late disconnect never touches a newer
   * request). Without an id it applies to whatever runs or waits (one client per session).
   */
  | { type: 'disconnect'; requestId?: string }
  | { type: 'close' };

/** The stream task's outcome: only the session's own task produces it. */
export type SessionInternalEvent = { type: '@stream.closed' } & StreamResult;

type AnySessionEvent = SessionEvent | SessionInternalEvent;

/** What the session emits; chunks and ends carry the stream generation and request id. */
export type SessionEmitted =
  | { type: 'stream.started'; gen: number; requestId: string | undefined }
  | { type: 'chunk'; gen: number; text: string }
  | { type: 'stream.fenced'; gen: number; requestId: string | undefined }
  /** The stream's client left and its policy is `detach`: it runs on, to the history, for nobody. */
  | { type: 'stream.detached'; gen: number; requestId: string | undefined }
  | { type: 'stream.end'; gen: number; requestId: string | undefined; reason: EndReason }
  | { type: 'stream.stale'; gen: number; current: number }
  | { type: 'prompt.dropped'; requestId: string | undefined; reason: 'superseded' | 'cancelled' }
  | { type: 'event.ignored'; event: string; reason: string };

interface Active {
  gen: number;
  requestId: string | undefined;
  prompt: string;
  /** The prompt's own disconnect policy, if it named one. */
  onDisconnect?: DisconnectPolicy;
  /** Fenced at the cleanup deadline: its end is reported with reason 'fenced'. */
  fenced?: boolean;
}

interface Pending {
  requestId: string | undefined;
  prompt: string;
  onDisconnect?: DisconnectPolicy;
}

export interface SessionContext {
  history: ChatMessage[];
  /** Generation of the newest stream; bumped when a stream starts. */
  gen: number;
  active: Active | undefined;
  pending: Pending | undefined;
  endReason: EndReason;
  closeAfter: boolean;
  onBusy: BusyPolicy;
  onDisconnect: DisconnectPolicy;
  cleanupDeadlineMs: number;
}

/** The stream's result, folded into one event so the machine hears exactly one per stream. */
export interface StreamResult {
  gen: number;
  outcome: StreamOutcome;
  text: string;
  error?: unknown;
  finishReason?: string;
  usage?: Usage;
}

const taskId = (gen: number) => `stream-${gen}`;

export function sessionMachine(options: SessionOptions) {
  const bad = (why: string) => errors.invalidConfig(why, 'sessionMachine options');
  const { provider } = options;
  if (typeof provider?.stream !== 'function') throw bad('`provider` must have stream(request, signal): openAICompatible(), simulated() or your own');
  const cleanupDeadlineMs = options.cleanupDeadlineMs ?? 2_000;
  if (!(typeof cleanupDeadlineMs === 'number' && cleanupDeadlineMs > 0)) throw bad(`\`cleanupDeadlineMs\` must be a positive number, got ${String(cleanupDeadlineMs)}`);
  if (options.onBusy !== undefined && !BUSY_POLICIES.includes(options.onBusy)) throw bad(`\`onBusy\` must be one of ${BUSY_POLICIES.join(', ')}, got ${String(options.onBusy)}`);
  if (options.onDisconnect !== undefined && !DISCONNECT_POLICIES.includes(options.onDisconnect)) {
    throw bad(`\`onDisconnect\` must be one of ${DISCONNECT_POLICIES.join(', ')}, got ${String(options.onDisconnect)}`);
  }
  const maxMessages = options.history?.maxMessages ?? 100;
  const maxChars = options.history?.maxChars ?? 100_000;
  if (!(Number.isInteger(maxMessages) && maxMessages >= 1)) throw bad(`\`history.maxMessages\` must be an integer >= 1, got ${String(maxMessages)}`);
  if (!(Number.isInteger(maxChars) && maxChars >= 1)) throw bad(`\`history.maxChars\` must be an integer >= 1, got ${String(maxChars)}`);
  const append = (history: ChatMessage[], m: ChatMessage) => trimHistory([...history, m], maxMessages, maxChars);
  const activeTask = ({ context }: { context: SessionContext }) => (context.active ? taskId(context.active.gen) : undefined);
  /** The policy for the prompt being delivered (only prompt transitions ask): its own `onBusy`, else the session's. */
  const policy = ({ context, event }: { context: SessionContext; event: AnySessionEvent }): BusyPolicy =>
    (event as { onBusy?: BusyPolicy }).onBusy || context.onBusy;
  /**
   * A disconnect naming a request that neither runs nor waits here (late, or another client's).
   * Only disconnect transitions of streaming and cancelling ask, where a stream is active.
   */
  const disconnectsOther = ({ context, event }: { context: SessionContext; event: AnySessionEvent }) => {
    const named = (event as { requestId?: string }).requestId;
    return named !== undefined && named !== context.active!.requestId && named !== context.pending?.requestId;
  };
  /** A disconnect that reaches the waiting prompt: it names it, or names nobody. */
  const disconnectsPending = ({ context, event }: { context: SessionContext; event: AnySessionEvent }) => {
    // Only cancelling's disconnect transition asks.
    const named = (event as { requestId?: string }).requestId;
    return context.pending !== undefined && (named === undefined || named === context.pending.requestId);
  };
  const detaches = (request: Active | Pending, context: SessionContext) => (request.onDisconnect ?? context.onDisconnect) === 'detach';
  /** Only @stream.closed transitions of streaming and cancelling ask, where a stream is active. */
  const isCurrent = ({ context, event }: { context: SessionContext; event: AnySessionEvent }) =>
    // Under the runtime always true: a @stream.closed comes only from a live task (TaskSet's settle drops a fenced one's), and the
    // only live stream task is the active one. The check is the safety net session-stale.test.ts drives on a plain actor.
    (event as StreamResult).gen === context.active!.gen;

  return setup({
    types: {} as { context: SessionContext; events: AnySessionEvent; emitted: SessionEmitted },
    guards: {
      interrupt: (args) => policy(args) === 'interrupt',
      rollback: (args) => policy(args) === 'rollback',
      /** The current stream closed after a rollback: its partial answer must not enter the history. */
      currentRolledBack: ({ context, event }) => isCurrent({ context, event }) && context.endReason === 'rolledback',
      reject: (args) => policy(args) === 'reject',
      current: isCurrent,
      doneOk: ({ context, event }) => isCurrent({ context, event }) && (event as StreamResult).outcome === 'done',
      hasPending: ({ context }) => context.pending !== undefined,
      closeAfter: ({ context }) => context.closeAfter,
      disconnectsOther,
      /** The running stream's client left and its policy is detach. */
      activeDetaches: ({ context }) => detaches(context.active!, context),
      /** The waiting prompt's client left and its policy is cancel. */
      dropsPending: (args) => disconnectsPending(args) && !detaches(args.context.pending!, args.context),
      /** The waiting prompt's client left and its policy is detach: it will still run. */
      keepsPending: (args) => disconnectsPending(args) && detaches(args.context.pending!, args.context),
      /** A cancel naming the waiting prompt, or naming nobody (stop everything), drops it. */
      cancelsPending: ({ context, event }) => {
        // Only cancelling's cancel transition asks.
        const named = (event as { requestId?: string }).requestId;
        return context.pending !== undefined && (named === undefined || named === context.pending.requestId);
      },
      /** Latest wins (interrupt, rollback); prompts wait (postponed) behind a pending close and reach the fresh session after it. */
      interruptOpen: (args) => (policy(args) === 'interrupt' || policy(args) === 'rollback') && !args.context.closeAfter,
      rejectOpen: (args) => policy(args) === 'reject' && !args.context.closeAfter,
      /** Only streaming's cancel transition asks, where a stream is active. */
      cancelsActive: ({ context, event }) => {
        const named = (event as { requestId?: string }).requestId;
        return named === undefined || named === context.active!.requestId;
      },
    },
    delays: { cleanup: ({ context }) => context.cleanupDeadlineMs },
    actions: {
      /** The delivered prompt becomes the next stream to start. */
      queuePrompt: assign(({ event, self }) => {
        const { text, onDisconnect } = event as { text: string; onDisconnect?: DisconnectPolicy };
        return { pending: { requestId: requestId({ self }), prompt: text, ...(onDisconnect ? { onDisconnect } : {}) } };
      }),
      activatePending: assign(({ context }) => ({
        gen: context.gen + 1,
        active: { ...context.pending!, gen: context.gen + 1 },
        pending: undefined,
        history: append(context.history, { role: 'user', content: context.pending!.prompt }),
      })),
      announceStream: emit(({ context }) => ({ type: 'stream.started' as const, gen: context.gen, requestId: context.active!.requestId })),
      runStream: runTask<SessionContext, AnySessionEvent, StreamResult>(
        async ({ context, signal, emit: emitData }) => {
          const gen = context.gen;
          const messages: ChatMessage[] = options.system ? [{ role: 'system', content: options.system }, ...context.history] : context.history;
          // Held compactly while it grows, one flat string at the end (see AnswerText).
          const answer = new AnswerText();
          let finishReason: string | undefined;
          let usage: Usage | undefined;
          try {
            for await (const chunk of provider.stream({ messages, model: options.model }, signal)) {
              if (chunk.type === 'delta') {
                answer.push(chunk.text);
                emitData({ type: 'chunk', gen, text: chunk.text });
              } else {
                finishReason = chunk.finishReason;
                usage = chunk.usage;
              }
            }
            return { gen, outcome: ended(signal, 'done'), text: answer.toString(), finishReason, ...(usage ? { usage } : {}) };
          } catch (error) {
            // Stryker disable next-line StringLiteral: outcome is read only by doneOk (=== 'done'), and neither 'error' nor '' is 'done'
            return { gen, outcome: ended(signal, 'error'), text: answer.toString(), error };
          }
        },
        {
          id: ({ context }) => taskId(context.gen),
          for: ({ context }) => context.active!.requestId,
          done: (r) => ({ type: '@stream.closed', ...r }),
          // The task folds every failure into its result; this fires only if that code itself throws.
          // Stryker disable next-line ObjectLiteral,StringLiteral,UnaryOperator,ArrowFunction: unreachable: the task body is one try whose catch only builds a plain object, so its promise never rejects and it never throws synchronously (it is async)
          error: (error) => ({ type: '@stream.closed', gen: -1, outcome: 'error', text: '', error }),
        },
      ),
      abortActive: abortTask(activeTask),
      fenceActive: fenceTask(activeTask),
      announceFence: emit(({ context }) => ({ type: 'stream.fenced' as const, gen: context.active!.gen, requestId: context.active!.requestId })),
      announceDetach: emit(({ context }) => ({ type: 'stream.detached' as const, gen: context.active!.gen, requestId: context.active!.requestId })),
      markFenced: assign(({ context }) => ({ active: { ...context.active!, fenced: true } })),
      endActive: emit(({ context }) => ({
        type: 'stream.end' as const,
        gen: context.active!.gen,
        requestId: context.active!.requestId,
        reason: context.active!.fenced ? ('fenced' as const) : context.endReason,
      })),
      /** The answer: what an `ask` resolves with (a stream completes on `stream.end`). */
      answerActive: reply(
        ({ event }: { event: AnySessionEvent }): SessionAnswer => {
          const r = event as StreamResult;
          return { text: r.text, finishReason: r.finishReason ?? 'stop', ...(r.usage ? { usage: r.usage } : {}) };
        },
        { to: ({ context }: { context: SessionContext }) => context.active!.requestId },
      ),
      /** A stream cut off before its end: the caller learns why, by code. */
      answerCut: fail(({ context, self }: { context: SessionContext; self: { id: string } }) => cutError(addressOf(self), context.endReason), {
        to: ({ context }: { context: SessionContext }) => context.active!.requestId,
      }),
      /** Rollback: the interrupted turn's prompt leaves the history (its answer never enters it). */
      // Runs in streaming only, whose history always ends with the active prompt: activatePending appends it (trimHistory
      // keeps the newest message), and recordAnswer, the only other writer, runs only on the way out of streaming or cancelling.
      dropTurn: assign(({ context }) => ({ history: context.history.slice(0, -1) })),
      failActive: fail(({ event }: { event: AnySessionEvent }) => (event as StreamResult).error ?? new Error('stream failed'), {
        to: ({ context }: { context: SessionContext }) => context.active!.requestId,
      }),
      clearActive: assign({ active: undefined }),
      recordAnswer: assign(({ context, event }) => {
        const text = (event as StreamResult).text;
        return text ? { history: append(context.history, { role: 'assistant', content: text }) } : {};
      }),
      dropPending: emit(({ context }, params: { reason: 'superseded' | 'cancelled' }) => ({
        type: 'prompt.dropped' as const,
        requestId: context.pending!.requestId,
        reason: params.reason,
      })),
      supersedePending: fail(({ self }: { self: { id: string } }) => errors.superseded(addressOf(self)), {
        to: ({ context }: { context: SessionContext }) => context.pending!.requestId,
      }),
      /** The waiting prompt's caller learns what dropped it: a cancel, its disconnect, or the session's close (as a running prompt's caller does). */
      cancelPendingCaller: fail(
        ({ self }: { self: { id: string } }, params: { reason: 'cancel' | 'disconnected' | 'closed' }) =>
          params.reason === 'closed' ? errors.stopped(addressOf(self), 'the session was closed') : errors.cancelled(addressOf(self), 'queued', params.reason),
        { to: ({ context }: { context: SessionContext }) => context.pending!.requestId },
      ),
      clearPending: assign({ pending: undefined }),
      rejectBusy: fail(({ self }: { self: { id: string } }, params: { state: string }) => errors.busy(addressOf(self), params.state), {
        to: ({ self }) => requestId({ self }),
      }),
      reason: assign((_, params: { reason: EndReason }) => ({ endReason: params.reason })),
      closeAfter: assign({ closeAfter: true }),
      /** An event this state takes on purpose and does nothing with, recorded with why. */
      ignore: emit(({ event }, params: { reason: string }) => ({ type: 'event.ignored' as const, event: event.type, reason: params.reason })),
      /** A @stream.closed of another generation (a broken invariant, see isCurrent): recorded, not silently dropped. */
      stale: emit(({ context, event }) => ({ type: 'stream.stale' as const, gen: (event as StreamResult).gen, current: context.gen })),
    },
  }).createMachine({
    id: 'session',
    // What any kind running this machine must configure (checked by createRuntime); a
    // stream ends on its stream.end (asks still wait for the answer).
    meta: { interlock: { cancelEvent: 'cancel', terminal: ['stream.end'] } },
    context: {
      history: [],
      gen: 0,
      active: undefined,
      pending: undefined,
      endReason: 'done',
      closeAfter: false,
      onBusy: options.onBusy ?? 'interrupt',
      onDisconnect: options.onDisconnect ?? 'cancel',
      cleanupDeadlineMs,
    },
    initial: 'idle',
    states: {
      idle: {
        on: {
          prompt: { target: 'streaming', actions: ['queuePrompt', 'activatePending', 'announceStream', 'runStream'] },
          // Nothing to cancel: taken (not postponed) and recorded as ignored.
          cancel: { actions: { type: 'ignore', params: { reason: 'no stream' } } },
          disconnect: { actions: { type: 'ignore', params: { reason: 'no stream' } } },
          close: 'closed',
          // Under the runtime none arrives here (the active stream closed or was fenced before idle); see stale.
          '@stream.closed': { actions: 'stale' },
        },
      },
      streaming: {
        on: {
          prompt: [
            { guard: 'interrupt', target: 'cancelling', actions: ['queuePrompt', { type: 'reason', params: { reason: 'interrupted' } }, 'abortActive'] },
            { guard: 'rollback', target: 'cancelling', actions: ['queuePrompt', { type: 'reason', params: { reason: 'rolledback' } }, 'dropTurn', 'abortActive'] },
            { guard: 'reject', actions: { type: 'rejectBusy', params: { state: 'streaming' } } },
            // 'enqueue': no transition is enabled, so the runtime postpones the prompt until idle.
          ],
          cancel: [
            { guard: 'cancelsActive', target: 'cancelling', actions: [{ type: 'reason', params: { reason: 'cancelled' } }, 'abortActive'] },
            { actions: { type: 'ignore', params: { reason: 'not the active request' } } },
          ],
          disconnect: [
            { guard: 'disconnectsOther', actions: { type: 'ignore', params: { reason: 'not the active request' } } },
            { guard: 'activeDetaches', actions: 'announceDetach' },
            { target: 'cancelling', actions: [{ type: 'reason', params: { reason: 'disconnected' } }, 'abortActive'] },
          ],
          close: { target: 'cancelling', actions: [{ type: 'reason', params: { reason: 'closed' } }, 'closeAfter', 'abortActive'] },
          '@stream.closed': [
            { guard: 'doneOk', target: 'idle', actions: [{ type: 'reason', params: { reason: 'done' } }, 'recordAnswer', 'endActive', 'answerActive', 'clearActive'] },
            { guard: 'current', target: 'idle', actions: [{ type: 'reason', params: { reason: 'error' } }, 'endActive', 'failActive', 'clearActive'] },
            // Under the runtime none arrives here (see isCurrent).
            { actions: 'stale' },
          ],
        },
      },
      cancelling: {
        after: { cleanup: { target: 'settled', actions: ['fenceActive', 'announceFence', 'markFenced'] } },
        on: {
          prompt: [
            {
              guard: and(['interruptOpen', 'hasPending']),
              actions: [{ type: 'dropPending', params: { reason: 'superseded' } }, 'supersedePending', 'queuePrompt'],
            },
            { guard: 'interruptOpen', actions: 'queuePrompt' },
            { guard: 'rejectOpen', actions: { type: 'rejectBusy', params: { state: 'cancelling' } } },
          ],
          cancel: [
            {
              guard: 'cancelsPending',
              actions: [{ type: 'dropPending', params: { reason: 'cancelled' } }, { type: 'cancelPendingCaller', params: { reason: 'cancel' } }, 'clearPending'],
            },
            { actions: { type: 'ignore', params: { reason: 'already cancelling' } } },
          ],
          disconnect: [
            { guard: 'disconnectsOther', actions: { type: 'ignore', params: { reason: 'not the active or waiting request' } } },
            {
              guard: 'dropsPending',
              actions: [{ type: 'dropPending', params: { reason: 'cancelled' } }, { type: 'cancelPendingCaller', params: { reason: 'disconnected' } }, 'clearPending'],
            },
            { guard: 'keepsPending', actions: { type: 'ignore', params: { reason: 'detach policy' } } },
            { actions: { type: 'ignore', params: { reason: 'already cancelling' } } },
          ],
          close: [
            {
              guard: 'hasPending',
              actions: [{ type: 'dropPending', params: { reason: 'cancelled' } }, { type: 'cancelPendingCaller', params: { reason: 'closed' } }, 'clearPending', 'closeAfter'],
            },
            { actions: 'closeAfter' },
          ],
          '@stream.closed': [
            // Rolled back: the partial answer never enters the history.
            { guard: 'currentRolledBack', target: 'settled' },
            { guard: 'current', target: 'settled', actions: 'recordAnswer' },
            // Under the runtime none arrives here (see isCurrent).
            { actions: 'stale' },
          ],
        },
      },
      /** Transient: the old stream closed or was fenced. End it, then start the next prompt or rest. */
      settled: {
        entry: ['endActive', 'answerCut', 'clearActive'],
        always: [
          { guard: 'hasPending', target: 'streaming', actions: ['activatePending', 'announceStream', 'runStream'] },
          { guard: 'closeAfter', target: 'closed' },
          { target: 'idle' },
        ],
      },
      closed: { type: 'final' },
    },
  });
}

export type SessionMachine = ReturnType<typeof sessionMachine>;

/** The only event a session answers (every prompt is answered once); its control events are answered by nothing. */
const SESSION_ANSWERS: readonly string[] = ['prompt'];

const BUSY_POLICIES: readonly BusyPolicy[] = ['interrupt', 'rollback', 'enqueue', 'reject'];

const DISCONNECT_POLICIES: readonly DisconnectPolicy[] = ['cancel', 'detach'];

/** sessionKind's `validate`: a prompt has a string `text` and, if any, a known `onBusy` and `onDisconnect`; a disconnect's `requestId` is a string. */
export function validateSessionEvent(event: { type: string; [k: string]: unknown }): string | undefined {
  if (event.type === 'disconnect') return event.requestId === undefined || typeof event.requestId === 'string' ? undefined : "a disconnect's `requestId` must be a string";
  if (event.type !== 'prompt') return undefined;
  if (typeof event.text !== 'string') return 'a prompt needs a string `text`';
  if (event.onBusy !== undefined && !BUSY_POLICIES.includes(event.onBusy as BusyPolicy)) {
    return `a prompt's \`onBusy\` must be one of ${BUSY_POLICIES.join(', ')}`;
  }
  if (event.onDisconnect !== undefined && !DISCONNECT_POLICIES.includes(event.onDisconnect as DisconnectPolicy)) {
    return `a prompt's \`onDisconnect\` must be one of ${DISCONNECT_POLICIES.join(', ')}`;
  }
  return undefined;
}

/** How a stream's task ended: 'aborted' once its signal fired, whatever its provider did after. */
function ended(signal: AbortSignal, otherwise: 'done' | 'error'): StreamOutcome {
  // Stryker disable next-line StringLiteral: outcome is read only by doneOk (=== 'done'), and neither 'aborted' nor '' is 'done'; no record shows it (internal events are shown by type only)
  return signal.aborted ? 'aborted' : otherwise;
}

/** Why a stream was cut off, as the error its `ask` rejects with. */
function cutError(address: string, reason: EndReason) {
  switch (reason) {
    case 'interrupted':
      return errors.superseded(address, 'running');
    case 'rolledback':
      return errors.superseded(address, 'running', true);
    case 'cancelled':
      return errors.cancelled(address, 'running', 'cancel');
    case 'disconnected':
      return errors.cancelled(address, 'running', 'disconnected');
    default:
      // 'closed' (the only other way into cancelling).
      return errors.stopped(address, 'the session was closed');
  }
}

/** What a session publishes (snapshot records, replay, view, transports): no prompt or answer text. */
export interface SessionView {
  gen: number;
  /** The running stream's generation and request, if any. */
  active: { gen: number; requestId: string | undefined } | undefined;
  /** The prompt waiting for the running stream to close, if any. */
  pending: string | undefined;
  /** Messages in the history (their text stays in the actor). */
  messages: number;
  closing: boolean;
}

export function sessionView(context: SessionContext): SessionView {
  return {
    gen: context.gen,
    active: context.active && { gen: context.active.gen, requestId: context.active.requestId },
    pending: context.pending?.requestId,
    messages: context.history.length,
    closing: context.closeAfter,
  };
}

/**
 * The recommended kind for a session: `cancel` as the cancel event (a caller's abort or
 * unsubscribe reaches the running stream), `cancel` and `disconnect` in the control lane
 * (they overtake queued prompts), streams that end on `stream.end`, only `prompt` answered
 * (an ask or stream of `cancel`, `disconnect` or `close`, which nothing answers, is refused
 * with INTERLOCK_NOT_ANSWERED instead of waiting for its deadline), and a view without
 * prompt or answer text. `policies` may add to these, not take them away; `answers` is the
 * machine's, not a policy.
 */
export function sessionKind(options: SessionOptions, policies: Omit<KindConfig<SessionMachine>, 'machine' | 'answers'> = {}): KindConfig<SessionMachine> {
  const control = [...new Set(['cancel', 'disconnect', ...(policies.mailbox?.control ?? [])])];
  return {
    view: sessionView,
    validate: validateSessionEvent,
    ...policies,
    cancelEvent: 'cancel',
    answers: SESSION_ANSWERS,
    machine: sessionMachine(options),
    mailbox: { ...policies.mailbox, control },
  };
}
