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
 */
import { assign, emit, setup } from 'xstate';
import { errors } from '../src/errors.js';
import type { KindConfig } from '../src/kinds.js';
import type { TaskContext } from '../src/runtime/TaskSet.js';
import { abortTask, addressOf, fail, fenceTask, reply, requestId, runTask } from '../src/runtime/helpers.js';

export interface Subscription {
  id: string;
  [key: string]: unknown;
}

export interface AgentOptions<TInput = unknown, TOutput = unknown> {
  /** Ordered: the first viable one is used; a switch moves to the next one not on cooldown. */
  subscriptions: readonly Subscription[];
  /** The agent's work for one request, against the current subscription. */
  handle(input: TInput, ctx: TaskContext & { subscription: Subscription; address: string }): Promise<TOutput>;
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

export type AgentEvent =
  | { type: 'request'; input: unknown }
  | { type: 'cancel'; requestId?: string }
  | { type: 'subscription.failed'; epoch: number; reason?: string }
  | { type: 'reset' }
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
  subscriptions: readonly Subscription[];
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
  return typeof status === 'number' && AUTH_OR_QUOTA.has(status);
}

/** The next subscription after `from`, in order and wrapping, that is not on cooldown. */
export function nextViable(context: Pick<AgentContext, 'subscriptions' | 'current' | 'cooldowns'>, now: number): number | undefined {
  const n = context.subscriptions.length;
  for (let step = 1; step < n; step++) {
    const i = (context.current + step) % n;
    const until = context.cooldowns[context.subscriptions[i]!.id];
    if (until === undefined || until <= now) return i;
  }
  return undefined;
}

export function agentMachine<TInput = unknown, TOutput = unknown>(options: AgentOptions<TInput, TOutput>) {
  if (options.subscriptions.length === 0) throw new RangeError('agentMachine needs at least one subscription');
  const now = options.now ?? Date.now;
  const cooldownMs = options.cooldownMs ?? 2 * 60 * 60 * 1000;
  const isSubscriptionFailure = options.isSubscriptionFailure ?? defaultIsSubscriptionFailure;
  const restartAttempts = options.restartAttempts ?? 3;
  const restartBackoffMs = options.restartBackoffMs ?? 1_000;
  const sub = (c: AgentContext) => c.subscriptions[c.current]!;
  const inflightTo = ({ context }: { context: AgentContext }) => context.inflight?.requestId;

  return setup({
    types: {} as { context: AgentContext; events: AgentEvent; emitted: AgentEmitted; input: AgentCarry | undefined },
    guards: {
      currentEpoch: ({ context, event }) => event.type === 'subscription.failed' && event.epoch === context.epoch,
      subscriptionFailure: ({ event }) => event.type === '@work.error' && isSubscriptionFailure(event.error),
      viable: ({ context }) => nextViable(context, now()) !== undefined,
      retryInflight: ({ context }) => context.inflight !== undefined && !context.inflight.retried,
      attemptsLeft: ({ context }) => context.attempt + 1 < restartAttempts,
      cancelsInflight: ({ context, event }) =>
        event.type === 'cancel' && (event.requestId === undefined || event.requestId === context.inflight?.requestId),
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
      runWork: runTask<AgentContext, AgentEvent, TOutput>(
        (args) =>
          options.handle(args.context.inflight!.input as TInput, {
            signal: args.signal,
            emit: args.emit,
            heartbeat: args.heartbeat,
            subscription: sub(args.context),
            address: addressOf(args.self),
          }),
        {
          id: () => 'work',
          for: inflightTo,
          done: (output) => ({ type: '@work.done', output }),
          error: (error) => ({ type: '@work.error', error }),
        },
      ),
      abortWork: abortTask(() => 'work'),
      fenceWork: fenceTask(() => 'work'),
      answer: reply(({ event }: { event: AgentEvent }) => (event as { output: unknown }).output, { to: inflightTo }),
      failWork: fail(({ event }: { event: AgentEvent }) => (event as { error: unknown }).error, { to: inflightTo }),
      failCancelled: fail(({ self }: { self: { id: string } }) => errors.cancelled(addressOf(self), 'running'), { to: inflightTo }),
      failUnavailable: fail(({ self, context }: { self: { id: string }; context: AgentContext }) => errors.agentUnavailable(addressOf(self), context.failure ?? 'failed'), {
        to: inflightTo,
      }),
      rejectRequest: fail(({ self, context }: { self: { id: string }; context: AgentContext }) => errors.agentUnavailable(addressOf(self), context.failure ?? 'failed'), {
        to: ({ self }) => requestId({ self }),
      }),
      clearInflight: assign({ inflight: undefined }),
      markRetry: assign(({ context }) => ({ inflight: context.inflight && { ...context.inflight, retried: true } })),
      /** The one switch of this epoch: cooldown the failed subscription, move on, bump the epoch. */
      switchSubscription: assign(({ context }) => {
        const failed = sub(context);
        return {
          previous: failed.id,
          cooldowns: { ...context.cooldowns, [failed.id]: now() + cooldownMs },
          current: nextViable(context, now())!,
          epoch: context.epoch + 1,
          attempt: 0,
        };
      }),
      announceSwitch: emit(({ context, event }) => ({
        type: 'subscription.switched' as const,
        from: context.previous ?? '',
        to: sub(context).id,
        epoch: context.epoch,
        reason: event.type === 'subscription.failed' ? (event.reason ?? 'subscription failed') : 'request failed on subscription',
      })),
      staleFailure: emit(({ context, event }) => ({ type: 'failure.stale' as const, epoch: (event as { epoch: number }).epoch, current: context.epoch })),
      runRestart: runTask<AgentContext, AgentEvent>(({ context, signal, self }) => options.restart(sub(context), { signal, address: addressOf(self) }), {
        id: ({ context }) => `restart-${context.epoch}-${context.attempt}`,
        for: () => undefined,
        done: () => ({ type: '@restart.done' }),
        error: (error) => ({ type: '@restart.error', error }),
      }),
      fenceRestart: fenceTask(({ context }) => `restart-${context.epoch}-${context.attempt}`),
      announceRestart: emit(({ context }) => ({ type: 'agent.restarted' as const, subscription: sub(context).id, attempt: context.attempt + 1 })),
      restartFailed: emit(({ context, event }) => ({
        type: 'restart.failed' as const,
        subscription: sub(context).id,
        attempt: context.attempt + 1,
        error: event.type === '@restart.error' ? String((event.error as Error)?.message ?? event.error) : 'timed out',
      })),
      nextAttempt: assign(({ context }) => ({ attempt: context.attempt + 1 })),
      setFailure: assign((_, params: { reason: string }) => ({ failure: params.reason })),
      announceFailed: emit(({ context }) => ({ type: 'agent.failed' as const, reason: context.failure ?? 'failed' })),
      reset: assign({ failure: undefined, attempt: 0, cooldowns: {} }),
      ignore: emit(({ event }, params: { reason: string }) => ({ type: 'event.ignored' as const, event: event.type, reason: params.reason })),
    },
  }).createMachine({
    id: 'agent',
    // A supervisor restart passes what must survive it (see agentRestartInput).
    context: ({ input }: { input: AgentCarry | undefined }) => ({
      subscriptions: options.subscriptions,
      current: input?.current ?? 0,
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
      /** Transient: the backend is back; re-run the request the failure interrupted, once. */
      ready: {
        always: [
          { guard: 'retryInflight', target: 'processing', actions: ['markRetry', 'runWork'] },
          { target: 'idle', actions: ['failUnavailable', 'clearInflight'] },
        ],
      },
      failed: {
        entry: ['announceFailed', 'failUnavailable', 'clearInflight'],
        on: {
          request: { actions: 'rejectRequest' },
          'subscription.failed': { actions: 'staleFailure' },
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

/**
 * The recommended kind for an agent: failure reports in the control lane, `cancel` as the
 * cancel event, and restarts that keep the subscription state.
 */
export function agentKind<TInput = unknown, TOutput = unknown>(
  options: AgentOptions<TInput, TOutput>,
  policies: Omit<KindConfig<AgentMachine>, 'machine'> = {},
): KindConfig<ReturnType<typeof agentMachine<TInput, TOutput>>> {
  return {
    cancelEvent: 'cancel',
    ...policies,
    machine: agentMachine(options),
    mailbox: { control: ['subscription.failed'], ...policies.mailbox },
    supervision: { restartInput: agentRestartInput, ...policies.supervision },
  };
}
