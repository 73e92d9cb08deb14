/**
 * The agent (seed 004): a backend-driving agent with ordered API subscriptions.
 *
 *   idle ──request──▶ processing ──@work.done──▶ idle
 *    │                   │ cancel ▶ cancelling ▶ idle
 *    └─ subscription.failed (current epoch) ─▶ switching-subscription ▶ restarting ▶ idle
 *                                                       │                  │ (budget spent)
 *                                                       └──────────────────┴──▶ failed ──reset──▶ restarting
 *
 * Every failure report carries the subscription epoch it happened under. Only a failure
 * of the current epoch switches; the switch bumps the epoch, so a second report of the
 * same burst is stale by construction (recorded as `failure.stale`) and a second switch
 * is unrepresentable. Requests (and failure reports) arriving while switching or
 * restarting are not accepted there, so the runtime postpones them: they run after the
 * restart, against the new subscription.
 *
 * Secrets stay in the closure: the context holds subscription ids and the current index,
 * never the `Subscription` objects (API keys, tokens), so no snapshot, persisted snapshot,
 * bus record, replay, stats or error can carry them.
 */
import { assign, emit, setup } from 'xstate';
import { errors, abortTask, addressOf, fail, fenceTask, reply, requestId, runTask, tellSelf, type KindConfig, type TaskContext } from '../src/index.js';

export interface Subscription {
  id: string;
  [key: string]: unknown;
}

/** What `handle` gets for one request. */
export interface HandleContext extends TaskContext {
  /** The current subscription (secrets included: it never leaves the machine's closure). */
  subscription: Subscription;
  address: string;
  /** The subscription epoch this request runs under. */
  epoch: number;
  /**
   * Reports that the subscription failed, for this request's epoch: the agent switches
   * once (a report of an epoch that has already moved on is recorded as stale). May be
   * called after `handle` returned (hand it to a monitor). Throws a coded error if the
   * actor has stopped.
   */
  reportFailure(reason?: string): void;
}

export interface AgentOptions<TInput = unknown, TOutput = unknown> {
  /** Ordered: the first viable one is used; a switch moves to the next one not on cooldown. Ids must be unique. */
  subscriptions: readonly Subscription[];
  /** The agent's work for one request, against the current subscription. */
  handle(input: TInput, ctx: HandleContext): Promise<TOutput>;
  /** Restarts the backend this agent drives (a container, a process, a client). May fail or hang. */
  restart(subscription: Subscription, ctx: { signal: AbortSignal; address: string }): Promise<void>;
  /** Whether an error from `handle` means the subscription failed (default: HTTP 401/402/403/429 in `details.status`). */
  isSubscriptionFailure?(error: unknown): boolean;
  /** How long a failed subscription is skipped. Default 2 h. */
  cooldownMs?: number;
  /** Deadline of one restart attempt. Default 30 s. */
  restartTimeoutMs?: number;
  /** Restart attempts before the agent is failed. Default 3. */
  restartAttempts?: number;
  /** Delay before the second restart attempt, doubled each time. Default 1 s. */
  restartBackoffMs?: number;
  /** How long a cancelled request's work may take to stop before it is fenced. Default 5 s. */
  cancelDeadlineMs?: number;
  /** Time for cooldowns; pass the runtime's clock. Default Date.now. */
  now?: () => number;
}

/** What callers send an agent. */
export type AgentEvent =
  | { type: 'request'; input: unknown }
  | { type: 'cancel'; requestId?: string }
  | { type: 'subscription.failed'; epoch: number; reason?: string }
  | { type: 'reset' };

/** Task outcomes: only the agent's own tasks produce them (callers cannot send `@` events). */
export type AgentInternalEvent =
  | { type: '@work.done'; output: unknown }
  | { type: '@work.error'; error: unknown }
  | { type: '@restart.done' }
  | { type: '@restart.error'; error: unknown };

export type AgentEmitted =
  | { type: 'subscription.switched'; from: string; to: string; epoch: number; reason: string }
  | { type: 'failure.stale'; epoch: number; current: number }
  | { type: 'agent.restarted'; subscription: string; attempt: number }
  | { type: 'restart.failed'; subscription: string; attempt: number; error: string }
  | { type: 'agent.failed'; reason: string }
  | { type: 'event.ignored'; event: string; reason: string };

interface Inflight {
  requestId: string | undefined;
  input: unknown;
  /** Already re-run once after a subscription failure. */
  retried: boolean;
}

export interface AgentContext {
  /** Subscription ids, in order (the subscriptions themselves stay in the machine's closure). */
  subscriptions: readonly string[];
  current: number;
  epoch: number;
  /** Subscription id -> time its cooldown ends. */
  cooldowns: Record<string, number>;
  inflight: Inflight | undefined;
  /** Restart attempt within the current restart (0-based). */
  attempt: number;
  failure: string | undefined;
  /** The subscription the last switch moved away from. */
  previous: string | undefined;
}

const AUTH_OR_QUOTA = new Set([401, 402, 403, 429]);

function defaultIsSubscriptionFailure(error: unknown): boolean {
  const status = (error as { details?: { status?: unknown } } | undefined)?.details?.status;
  // A Set of numbers (SameValueZero): a status that is not a number is simply not in it.
  return AUTH_OR_QUOTA.has(status as number);
}

/** The next subscription after `from`, in order and wrapping, that is not on cooldown. */
export function nextViable(context: Pick<AgentContext, 'subscriptions' | 'current' | 'cooldowns'>, now: number): number | undefined {
  const n = context.subscriptions.length;
  for (let step = 1; step < n; step++) {
    const i = (context.current + step) % n;
    const until = context.cooldowns[context.subscriptions[i]!];
    if (until === undefined || until <= now) return i;
  }
  return undefined;
}

export function agentMachine<TInput = unknown, TOutput = unknown>(options: AgentOptions<TInput, TOutput>) {
  const bad = (why: string) => errors.invalidConfig(why, 'agentMachine options');
  if (!Array.isArray(options.subscriptions) || options.subscriptions.length === 0) throw bad('`subscriptions` must list at least one subscription');
  const ids = options.subscriptions.map((s) => s.id);
  if (ids.some((id) => typeof id !== 'string' || id === '')) throw bad('every subscription needs a non-empty string `id`');
  if (new Set(ids).size !== ids.length) throw bad(`subscription ids must be unique (got ${ids.join(', ')})`);
  for (const k of ['cooldownMs', 'restartTimeoutMs', 'restartBackoffMs', 'cancelDeadlineMs'] as const) {
    const v = options[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0)) throw bad(`\`${k}\` must be a positive number, got ${String(v)}`);
  }
  if (options.restartAttempts !== undefined && !(Number.isInteger(options.restartAttempts) && options.restartAttempts >= 1)) {
    throw bad(`\`restartAttempts\` must be an integer >= 1, got ${String(options.restartAttempts)}`);
  }
  const now = options.now ?? Date.now;
  const cooldownMs = options.cooldownMs ?? 2 * 60 * 60 * 1000;
  const isSubscriptionFailure = options.isSubscriptionFailure ?? defaultIsSubscriptionFailure;
  const restartAttempts = options.restartAttempts ?? 3;
  const restartBackoffMs = options.restartBackoffMs ?? 1_000;
  /** The current subscription object, from the closure; the context has only its index. */
  const sub = (c: AgentContext) => options.subscriptions[c.current]!;
  const subId = (c: AgentContext) => c.subscriptions[c.current]!;
  const inflightTo = ({ context }: { context: AgentContext }) => context.inflight?.requestId;

  return setup({
    types: {} as { context: AgentContext; events: AgentEvent | AgentInternalEvent; emitted: AgentEmitted; input: AgentCarry | undefined },
    // A guard is asked only about the event of the transitions that name it (XState's can()
    // and send() look at the transitions of the event's own type), so none tests the type.
    guards: {
      /** Only subscription.failed transitions ask. */
      currentEpoch: ({ context, event }) => (event as { epoch?: unknown }).epoch === context.epoch,
      /** A report that names no epoch cannot be placed: refused explicitly, never taken for stale. Only subscription.failed transitions ask. */
      noEpoch: ({ event }) => typeof (event as { epoch?: unknown }).epoch !== 'number',
      /** Only processing's @work.error transition asks. */
      subscriptionFailure: ({ event }) => isSubscriptionFailure((event as { error: unknown }).error),
      viable: ({ context }) => nextViable(context, now()) !== undefined,
      retryInflight: ({ context }) => context.inflight !== undefined && !context.inflight.retried,
      attemptsLeft: ({ context }) => context.attempt + 1 < restartAttempts,
      /**
       * Only processing's cancel transition asks, and processing is entered only by takeRequest
       * or by ready's retryInflight guard, so a request is in flight there.
       */
      cancelsInflight: ({ context, event }) => {
        const named = (event as { requestId?: string }).requestId;
        return named === undefined || named === context.inflight!.requestId;
      },
    },
    delays: {
      restartTimeout: () => options.restartTimeoutMs ?? 30_000,
      backoff: ({ context }) => restartBackoffMs * 2 ** Math.max(0, context.attempt - 1),
      cancelDeadline: () => options.cancelDeadlineMs ?? 5_000,
    },
    actions: {
      takeRequest: assign(({ event, self }) => ({
        inflight: { requestId: requestId({ self }), input: (event as { input: unknown }).input, retried: false },
      })),
      runWork: runTask<AgentContext, AgentEvent | AgentInternalEvent, TOutput>(
        (args) => {
          const epoch = args.context.epoch;
          const self = args.self;
          return options.handle(args.context.inflight!.input as TInput, {
            signal: args.signal,
            emit: args.emit,
            heartbeat: args.heartbeat,
            subscription: sub(args.context),
            address: addressOf(self),
            epoch,
            reportFailure: (reason?: string) => tellSelf(self, { type: 'subscription.failed', epoch, ...(reason === undefined ? {} : { reason }) }),
          });
        },
        {
          id: () => 'work',
          for: inflightTo,
          done: (output) => ({ type: '@work.done', output }),
          error: (error) => ({ type: '@work.error', error }),
        },
      ),
      abortWork: abortTask(() => 'work'),
      fenceWork: fenceTask(() => 'work'),
      answer: reply(({ event }: { event: AgentEvent | AgentInternalEvent }) => (event as { output: unknown }).output, { to: inflightTo }),
      failWork: fail(({ event }: { event: AgentEvent | AgentInternalEvent }) => (event as { error: unknown }).error, { to: inflightTo }),
      /**
       * Built only for a caller who still waits, and so only for a `cancel` event: a caller's own
       * signal or deadline has already answered it (the runtime settles it before it sends the cancel).
       */
      failCancelled: fail(({ self }: { self: { id: string } }) => errors.cancelled(addressOf(self), 'running', 'cancel'), { to: inflightTo }),
      failUnavailable: fail(({ self, context }: { self: { id: string }; context: AgentContext }) => errors.agentUnavailable(addressOf(self), context.failure!), {
        to: inflightTo,
      }),
      /** The request already had its one retry and its subscription failed again: not the agent's failure. */
      failRetried: fail(({ self, context }: { self: { id: string }; context: AgentContext }) =>
        errors.retryExhausted(addressOf(self), `its subscription failed again; the agent switched to '${subId(context)}'`), { to: inflightTo }),
      rejectRequest: fail(({ self, context }: { self: { id: string }; context: AgentContext }) => errors.agentUnavailable(addressOf(self), context.failure!), {
        to: ({ self }) => requestId({ self }),
      }),
      clearInflight: assign({ inflight: undefined }),
      markRetry: assign(({ context }) => ({ inflight: context.inflight && { ...context.inflight, retried: true } })),
      /** The one switch of this epoch: cooldown the failed subscription, move on, bump the epoch. */
      switchSubscription: assign(({ context }) => {
        const failed = subId(context);
        return {
          previous: failed,
          cooldowns: { ...context.cooldowns, [failed]: now() + cooldownMs },
          current: nextViable(context, now())!,
          epoch: context.epoch + 1,
          attempt: 0,
        };
      }),
      announceSwitch: emit(({ context, event }) => ({
        type: 'subscription.switched' as const,
        from: context.previous!,
        to: subId(context),
        epoch: context.epoch,
        reason: event.type === 'subscription.failed' ? (event.reason ?? 'subscription failed') : 'request failed on subscription',
      })),
      staleFailure: emit(({ context, event }) => ({ type: 'failure.stale' as const, epoch: (event as { epoch: number }).epoch, current: context.epoch })),
      runRestart: runTask<AgentContext, AgentEvent | AgentInternalEvent>(({ context, signal, self }) => options.restart(sub(context), { signal, address: addressOf(self) }), {
        id: ({ context }) => `restart-${context.epoch}-${context.attempt}`,
        for: () => undefined,
        done: () => ({ type: '@restart.done' }),
        error: (error) => ({ type: '@restart.error', error }),
      }),
      fenceRestart: fenceTask(({ context }) => `restart-${context.epoch}-${context.attempt}`),
      announceRestart: emit(({ context }) => ({ type: 'agent.restarted' as const, subscription: subId(context), attempt: context.attempt + 1 })),
      restartFailed: emit(({ context, event }) => ({
        type: 'restart.failed' as const,
        subscription: subId(context),
        attempt: context.attempt + 1,
        error: event.type === '@restart.error' ? String((event.error as Error)?.message ?? event.error) : 'timed out',
      })),
      nextAttempt: assign(({ context }) => ({ attempt: context.attempt + 1 })),
      setFailure: assign((_, params: { reason: string }) => ({ failure: params.reason })),
      announceFailed: emit(({ context }) => ({ type: 'agent.failed' as const, reason: context.failure! })),
      reset: assign({ failure: undefined, attempt: 0, cooldowns: {} }),
      ignore: emit(({ event }, params: { reason: string }) => ({ type: 'event.ignored' as const, event: event.type, reason: params.reason })),
    },
  }).createMachine({
    id: 'agent',
    // What any kind running this machine must configure (checked by createRuntime).
    meta: { interlock: { cancelEvent: 'cancel', control: ['subscription.failed'] } },
    // A supervisor restart passes what must survive it (see agentRestartInput).
    context: ({ input }: { input: AgentCarry | undefined }) => ({
      subscriptions: ids,
      current: input?.current !== undefined && input.current < ids.length ? input.current : 0,
      epoch: input?.epoch ?? 0,
      cooldowns: input?.cooldowns ?? {},
      inflight: undefined,
      attempt: 0,
      failure: undefined,
      previous: undefined,
    }),
    initial: 'idle',
    states: {
      idle: {
        on: {
          request: { target: 'processing', actions: ['takeRequest', 'runWork'] },
          'subscription.failed': [
            { guard: 'noEpoch', actions: { type: 'ignore', params: { reason: 'no epoch: a failure report must name the epoch it happened under' } } },
            { guard: 'currentEpoch', target: 'switching-subscription' },
            { actions: 'staleFailure' },
          ],
          cancel: { actions: { type: 'ignore', params: { reason: 'no request running' } } },
          reset: { actions: { type: 'ignore', params: { reason: 'not failed' } } },
        },
      },
      processing: {
        on: {
          '@work.done': { target: 'idle', actions: ['answer', 'clearInflight'] },
          '@work.error': [
            { guard: 'subscriptionFailure', target: 'switching-subscription' },
            { target: 'idle', actions: ['failWork', 'clearInflight'] },
          ],
          'subscription.failed': [
            { guard: 'noEpoch', actions: { type: 'ignore', params: { reason: 'no epoch: a failure report must name the epoch it happened under' } } },
            { guard: 'currentEpoch', target: 'switching-subscription', actions: 'fenceWork' },
            { actions: 'staleFailure' },
          ],
          cancel: [
            { guard: 'cancelsInflight', target: 'cancelling', actions: 'abortWork' },
            { actions: { type: 'ignore', params: { reason: 'not the running request' } } },
          ],
          reset: { actions: { type: 'ignore', params: { reason: 'not failed' } } },
        },
      },
      cancelling: {
        after: { cancelDeadline: { target: 'idle', actions: ['fenceWork', 'failCancelled', 'clearInflight'] } },
        on: {
          '@work.done': { target: 'idle', actions: ['failCancelled', 'clearInflight'] },
          '@work.error': { target: 'idle', actions: ['failCancelled', 'clearInflight'] },
          cancel: { actions: { type: 'ignore', params: { reason: 'already cancelling' } } },
        },
      },
      'switching-subscription': {
        always: [
          { guard: 'viable', target: 'restarting', actions: ['switchSubscription', 'announceSwitch'] },
          { target: 'failed', actions: { type: 'setFailure', params: { reason: 'no viable subscription' } } },
        ],
      },
      restarting: {
        initial: 'attempt',
        states: {
          attempt: {
            entry: 'runRestart',
            after: { restartTimeout: { target: 'retry', actions: ['fenceRestart', 'restartFailed'] } },
            on: {
              '@restart.done': { target: '#agent.ready', actions: 'announceRestart' },
              '@restart.error': { target: 'retry', actions: 'restartFailed' },
            },
          },
          retry: {
            always: [
              { guard: 'attemptsLeft', target: 'backoff', actions: 'nextAttempt' },
              { target: '#agent.failed', actions: { type: 'setFailure', params: { reason: 'backend restart failed' } } },
            ],
          },
          backoff: { after: { backoff: 'attempt' } },
        },
      },
      /**
       * Transient: the backend is back; re-run the request the failure interrupted, once. A
       * request that already had its retry is answered INTERLOCK_RETRY_EXHAUSTED: the agent
       * is not failed (INTERLOCK_AGENT_UNAVAILABLE is only for `failed`).
       */
      ready: {
        always: [
          { guard: 'retryInflight', target: 'processing', actions: ['markRetry', 'runWork'] },
          { target: 'idle', actions: ['failRetried', 'clearInflight'] },
        ],
      },
      failed: {
        entry: ['announceFailed', 'failUnavailable', 'clearInflight'],
        on: {
          request: { actions: 'rejectRequest' },
          'subscription.failed': [
            { guard: 'noEpoch', actions: { type: 'ignore', params: { reason: 'no epoch: a failure report must name the epoch it happened under' } } },
            { actions: 'staleFailure' },
          ],
          cancel: { actions: { type: 'ignore', params: { reason: 'failed' } } },
          reset: { target: 'restarting', actions: 'reset' },
        },
      },
    },
  });
}

export type AgentMachine = ReturnType<typeof agentMachine>;

/** What an agent keeps across a supervisor restart: its subscription, epoch and cooldowns. */
export interface AgentCarry {
  current: number;
  epoch: number;
  cooldowns: Record<string, number>;
}

/**
 * `supervision.restartInput` for agent kinds. Without it a crash (a throwing classifier,
 * say) would restart the agent at epoch 0 on its first subscription, and a late report
 * about that subscription would switch and restart it a second time (seed 004).
 */
export function agentRestartInput(last: { context: AgentContext }): AgentCarry {
  return { current: last.context.current, epoch: last.context.epoch, cooldowns: last.context.cooldowns };
}

/** Refuses a failure report that names no epoch (it could not be told from a stale one). */
export function validateAgentEvent(event: { type: string }): string | undefined {
  const epoch = (event as { epoch?: unknown }).epoch;
  // Number.isInteger is false for anything that is not a number.
  if (event.type === 'subscription.failed' && !Number.isInteger(epoch)) {
    return "a 'subscription.failed' report must carry the integer epoch it happened under (read it from handle's ctx.epoch, or use ctx.reportFailure)";
  }
  return undefined;
}

/** The only event an agent answers (each request once); its control events are answered by nothing. */
const AGENT_ANSWERS: readonly string[] = ['request'];

/**
 * Reports a subscription failure observed outside `handle` (a monitor, another process),
 * for the epoch the observation was made under. Throws INTERLOCK_INVALID_EVENT when
 * `epoch` is not an integer, before anything is sent.
 */
export function reportSubscriptionFailure(
  ref: { address?: string; tell(event: { type: 'subscription.failed'; epoch: number; reason?: string }): void },
  report: { epoch: number; reason?: string },
): void {
  const event = { type: 'subscription.failed' as const, epoch: report?.epoch, ...(report?.reason === undefined ? {} : { reason: report.reason }) };
  const why = validateAgentEvent(event);
  if (why) throw errors.invalidEvent(ref.address ?? 'agent', why);
  ref.tell(event);
}

/**
 * The recommended kind for an agent: failure reports in the control lane (and refused
 * without an epoch), `cancel` as the cancel event, only `request` answered (an ask or
 * stream of `cancel`, `reset` or `subscription.failed`, which nothing answers, is refused
 * with INTERLOCK_NOT_ANSWERED instead of waiting for its deadline), and restarts that keep
 * the subscription state. `policies` may add to these; they cannot take them away.
 * `answers` is the machine's, not a policy.
 */
export function agentKind<TInput = unknown, TOutput = unknown>(
  options: AgentOptions<TInput, TOutput>,
  policies: Omit<KindConfig<AgentMachine>, 'machine' | 'answers'> = {},
): KindConfig<ReturnType<typeof agentMachine<TInput, TOutput>>> {
  const control = [...new Set(['subscription.failed', ...(policies.mailbox?.control ?? [])])];
  const userValidate = policies.validate;
  return {
    cancelEvent: 'cancel',
    ...policies,
    answers: AGENT_ANSWERS,
    machine: agentMachine(options),
    mailbox: { ...policies.mailbox, control },
    supervision: { restartInput: agentRestartInput, ...policies.supervision },
    validate: (event) => validateAgentEvent(event) ?? userValidate?.(event),
  };
}
