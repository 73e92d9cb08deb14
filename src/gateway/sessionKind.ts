/**
 * The session kind the gateway serves chats with, in one place: the bundled session
 * machine over a provider, with the policies a server needs by default (passivation when
 * idle, a cap on live sessions, a small mailbox, a public view without the history).
 *
 * When machines/session.ts grows its own `sessionKind()` helper this function becomes a
 * thin call to it; the gateway reads nothing else about the kind.
 */
import { sessionMachine, type BusyPolicy, type DisconnectPolicy, type SessionContext } from '../../machines/session.js';
import type { KindConfig } from '../kinds.js';
import type { Provider } from '../providers/types.js';

export interface GatewaySessionOptions {
  provider: Provider;
  /** What a prompt does while a stream runs (server default; a request may override it). Default 'interrupt'. */
  onBusy?: BusyPolicy;
  onDisconnect?: DisconnectPolicy;
  /** How long a cancelled stream may take to close before it is fenced. Default 2,000 ms. */
  cleanupDeadlineMs?: number;
  /** Passivate a session idle this long. Default 60,000 ms (on by default in serve). */
  idleAfterMs?: number;
  /** Live sessions at most; one more answers 503 + retry-after. Default 10,000. */
  maxActive?: number;
  /** Prompts queued per session at most; one more answers 429 + retry-after. Default 64. */
  mailboxCapacity?: number;
  system?: string;
  model?: string;
}

/** What a session shows over HTTP: its shape, never the conversation or the provider. */
export interface SessionView {
  gen: number;
  streaming: boolean;
  pending: boolean;
  messages: number;
  onBusy: BusyPolicy;
  onDisconnect: DisconnectPolicy;
}

export function gatewaySessionKind(options: GatewaySessionOptions) {
  const machine = sessionMachine({
    provider: options.provider,
    ...(options.onBusy === undefined ? {} : { onBusy: options.onBusy }),
    ...(options.onDisconnect === undefined ? {} : { onDisconnect: options.onDisconnect }),
    ...(options.cleanupDeadlineMs === undefined ? {} : { cleanupDeadlineMs: options.cleanupDeadlineMs }),
    ...(options.system === undefined ? {} : { system: options.system }),
    ...(options.model === undefined ? {} : { model: options.model }),
  });
  return {
    machine,
    cancelEvent: 'cancel',
    terminal: [],
    idleAfterMs: options.idleAfterMs ?? 60_000,
    maxActive: options.maxActive ?? 10_000,
    mailbox: { capacity: options.mailboxCapacity ?? 64 },
    publicEvents: ['prompt', 'cancel', 'disconnect', 'close'],
    view: (context: SessionContext): SessionView => ({
      gen: context.gen,
      streaming: context.active !== undefined,
      pending: context.pending !== undefined,
      messages: context.history.length,
      onBusy: context.onBusy,
      onDisconnect: context.onDisconnect,
    }),
  } satisfies KindConfig<typeof machine>;
}
