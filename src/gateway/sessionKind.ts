/**
 * The session kind the gateway serves chats with: the bundled `sessionKind()` (cancel event,
 * control lane, prompt validation, the public `sessionView` without the conversation) with
 * the policies a server needs by default: passivation when idle, a cap on live sessions, a
 * small mailbox, and the public events a remote client may send.
 */
import { sessionKind, type BusyPolicy, type DisconnectPolicy } from '../../machines/session.js';
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

export function gatewaySessionKind(options: GatewaySessionOptions) {
  return sessionKind(
    {
      provider: options.provider,
      // Absent and undefined are the same to sessionKind (it defaults each with ?? or an undefined check).
      onBusy: options.onBusy,
      onDisconnect: options.onDisconnect,
      cleanupDeadlineMs: options.cleanupDeadlineMs,
      system: options.system,
      model: options.model,
    },
    {
      idleAfterMs: options.idleAfterMs ?? 60_000,
      maxActive: options.maxActive ?? 10_000,
      mailbox: { capacity: options.mailboxCapacity ?? 64 },
      publicEvents: ['prompt', 'cancel', 'disconnect', 'close'],
    },
  );
}
