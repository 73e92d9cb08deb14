/**
 * The error catalogue: every error Interlock raises has a stable code listed here and
 * documented in docs/errors.md (a test pins both). Compare codes, never `instanceof`,
 * across a serialization boundary.
 */
export const ErrorCodes = {
  INTERLOCK_INVALID_CONFIG: {
    summary: 'createRuntime (or another factory such as a source or provider) was given options it does not understand or values out of range.',
    public: false,
  },
  INTERLOCK_INVALID_KIND: {
    summary: 'A kind is misconfigured (no machine, bad policy value, unknown option); createRuntime refuses to start.',
    public: false,
  },
  INTERLOCK_UNKNOWN_KIND: {
    summary: 'An address names a kind the runtime was not created with.',
    public: true,
  },
  INTERLOCK_INVALID_ADDRESS: {
    summary: "An address is not of the form 'kind/key'.",
    public: true,
  },
  INTERLOCK_INVALID_EVENT: {
    summary: 'An event is not an object with a string `type`, or an option passed with it is invalid.',
    public: true,
  },
  INTERLOCK_MAILBOX_FULL: {
    summary: "The actor's mailbox holds its capacity of envelopes; the new one was refused, nothing was dropped.",
    public: true,
  },
  INTERLOCK_DEADLINE_EXCEEDED: {
    summary: 'The envelope was not answered before its deadline (counted from enqueue); if it was still queued it never ran.',
    public: true,
  },
  INTERLOCK_CANCELLED: {
    summary: "The caller's AbortSignal fired; a queued envelope was removed, a running turn was sent the kind's cancel event.",
    public: true,
  },
  INTERLOCK_ACTOR_CRASHED: {
    summary: "The actor's machine threw or errored while this request was in flight; the supervisor restarts it.",
    public: true,
  },
  INTERLOCK_ACTOR_STALLED: {
    summary: 'The actor sat in a state past its progress deadline (meta.stallAfterMs) while this request was in flight.',
    public: true,
  },
  INTERLOCK_ACTOR_FAILED: {
    summary: 'The actor exhausted its restart budget and is failed; queued and new envelopes are rejected until it is revived.',
    public: true,
  },
  INTERLOCK_ACTOR_STOPPED: {
    summary: 'The actor was stopped (runtime shutdown or passivation) before the envelope was answered.',
    public: true,
  },
  INTERLOCK_SHUTTING_DOWN: {
    summary: 'The runtime is shutting down and refuses new envelopes.',
    public: true,
  },
  INTERLOCK_TURN_FAILED: {
    summary: "The actor's machine answered the request with an error (the `fail` helper).",
    public: true,
  },
  INTERLOCK_STORE_FAILED: {
    summary: 'The snapshot store failed to load or save an actor snapshot.',
    public: false,
  },
  INTERLOCK_UPSTREAM_FAILED: {
    summary: 'The model server answered with an error status or closed the stream early.',
    public: true,
  },
  INTERLOCK_UPSTREAM_PROTOCOL: {
    summary: 'The model server sent a stream Interlock could not parse (not OpenAI-compatible SSE).',
    public: true,
  },
  INTERLOCK_SOURCE_FAILED: {
    summary: 'A source could not read or atomically write its file or directory (other than a partial or missing file, which it retries).',
    public: false,
  },
  INTERLOCK_BUSY: {
    summary: "The actor is busy and its kind's policy rejects a concurrent request (a session with onBusy: 'reject').",
    public: true,
  },
  INTERLOCK_AGENT_UNAVAILABLE: {
    summary: 'The agent is failed: no viable subscription is left or its backend restart failed past its retry budget.',
    public: true,
  },
  INTERLOCK_ACTOR_LIMIT: {
    summary: "The kind already has `maxActive` live actors; activating one more was refused. Retry later, or raise the kind's limit.",
    public: true,
  },
  INTERLOCK_EVENT_NOT_PUBLIC: {
    summary: "A remote caller (HTTP, WebSocket) sent an event type that is not in its kind's publicEvents.",
    public: true,
  },
  INTERLOCK_NOT_ANSWERED: {
    summary: "An ask or stream carried an event type its kind's machine never answers (not in the kind's `answers`, e.g. a session's `cancel`); refused before it was queued. Send it with tell.",
    public: true,
  },
  INTERLOCK_SUPERSEDED: {
    summary: "A newer request replaced this one, before it started or while it ran (latest-wins policies: a session's interrupt or rollback).",
    public: true,
  },
  INTERLOCK_MISSING_PEER: {
    summary: 'A feature was asked for whose optional peer dependency is not installed (the Stately bridge needs `@statelyai/inspect`).',
    public: false,
  },
  INTERLOCK_RETRY_EXHAUSTED: {
    summary: 'The request already used its one retry after a subscription failure and failed again; the agent itself is not failed.',
    public: true,
  },
  INTERLOCK_INVALID_MESSAGE: {
    summary: 'A WebSocket frame is not a valid interlock.v1 message: not JSON, an unknown type, or a field of the wrong shape.',
    public: true,
  },
  INTERLOCK_FORBIDDEN: {
    summary: "The server's authorize hook refused this token the address (or pattern) for this action.",
    public: true,
  },
  INTERLOCK_TOO_MANY_SUBSCRIPTIONS: {
    summary: 'The WebSocket connection already holds its maximum of subscriptions (maxSubscriptions); complete one first.',
    public: true,
  },
} as const satisfies Record<string, { summary: string; public: boolean }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface InterlockErrorOptions {
  address?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class InterlockError extends Error {
  override readonly name = 'InterlockError';
  readonly code: ErrorCode;
  readonly address: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: InterlockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.address = options.address;
    this.details = options.details;
  }

  /** What may cross the wire to a client: code and message, for public codes only. */
  toJSON(): { code: ErrorCode | 'INTERLOCK_INTERNAL'; message: string } {
    return ErrorCodes[this.code].public
      ? { code: this.code, message: this.message }
      : { code: 'INTERLOCK_INTERNAL', message: 'internal error' };
  }
}

export function isInterlockError(err: unknown, code?: ErrorCode): err is InterlockError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'InterlockError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (code === undefined || (err as { code: string }).code === code)
  );
}

/** Constructors that word each message with the thing and the fix. */
export const errors = {
  mailboxFull: (address: string, capacity: number) =>
    new InterlockError(
      'INTERLOCK_MAILBOX_FULL',
      `Mailbox of '${address}' is full (${capacity} envelopes). Slow the sender, raise the kind's mailbox.capacity, or shed load upstream.`,
      { address, details: { capacity } },
    ),
  deadlineExceeded: (address: string, phase: 'queued' | 'running', deadlineMs: number) =>
    new InterlockError(
      'INTERLOCK_DEADLINE_EXCEEDED',
      phase === 'queued'
        ? `Envelope to '${address}' waited past its ${deadlineMs} ms deadline and was never delivered. Raise timeoutMs or reduce the actor's backlog.`
        : `'${address}' did not answer within ${deadlineMs} ms of enqueue; the kind's cancel event was sent to the running turn. Raise timeoutMs or make the turn faster.`,
      { address, details: { phase, deadlineMs } },
    ),
  cancelled: (address: string, phase: 'queued' | 'running', reason: 'caller' | 'cancel' | 'disconnected' | 'machine' = 'caller') =>
    new InterlockError(
      'INTERLOCK_CANCELLED',
      reason === 'caller'
        ? `Request to '${address}' was cancelled by its caller's signal while ${phase}.`
        : reason === 'cancel'
          ? `Request to '${address}' was cancelled by a 'cancel' event while ${phase}.`
          : reason === 'machine'
            ? `A task of '${address}' was cancelled by its own machine (abortTask or fenceTask) while ${phase}.`
            : `Request to '${address}' was cancelled while ${phase} because its client disconnected.`,
      { address, details: { phase, reason } },
    ),
  crashed: (address: string, cause: unknown) =>
    new InterlockError(
      'INTERLOCK_ACTOR_CRASHED',
      `Actor '${address}' crashed while handling this request: ${describe(cause)}. It is being restarted per its kind's supervision policy.`,
      { address, cause },
    ),
  stalled: (address: string, state: string, stallAfterMs: number) =>
    new InterlockError(
      'INTERLOCK_ACTOR_STALLED',
      `Actor '${address}' made no progress in state '${state}' for ${stallAfterMs} ms and was restarted. Heartbeat from long work, or raise meta.stallAfterMs.`,
      { address, details: { state, stallAfterMs } },
    ),
  failed: (address: string, cause?: unknown) =>
    new InterlockError(
      'INTERLOCK_ACTOR_FAILED',
      `Actor '${address}' is failed: it exhausted its restart budget${cause === undefined ? '' : ` (last error: ${describe(cause)})`}. Fix the cause, then call runtime.revive('${address}').`,
      { address, cause },
    ),
  stopped: (address: string, reason: string) =>
    new InterlockError(
      'INTERLOCK_ACTOR_STOPPED',
      `Actor '${address}' stopped (${reason}) before answering.`,
      { address, details: { reason } },
    ),
  shuttingDown: (address: string) =>
    new InterlockError(
      'INTERLOCK_SHUTTING_DOWN',
      `Runtime is shutting down; envelope to '${address}' refused. Send before shutdown() or to another runtime.`,
      { address },
    ),
  turnFailed: (address: string, cause: unknown) =>
    new InterlockError('INTERLOCK_TURN_FAILED', `Actor '${address}' answered with an error: ${describe(cause)}.`, {
      address,
      cause,
    }),
  superseded: (address: string, phase: 'queued' | 'running' = 'queued', rolledBack = false) =>
    new InterlockError(
      'INTERLOCK_SUPERSEDED',
      phase === 'queued'
        ? `Request to '${address}' was superseded by a newer one before it started (latest wins).`
        : `Request to '${address}' was superseded by a newer one while it ran: its stream was interrupted${rolledBack ? ' and the turn removed from the history (rollback)' : ''}.`,
      { address, details: { phase, rolledBack } },
    ),
  retryExhausted: (address: string, why: string) =>
    new InterlockError(
      'INTERLOCK_RETRY_EXHAUSTED',
      `Request to '${address}' failed again after its one retry (${why}). The agent has moved on and takes new requests; resend it if it is still wanted.`,
      { address, details: { why } },
    ),
  busy: (address: string, state: string) =>
    new InterlockError(
      'INTERLOCK_BUSY',
      `'${address}' is busy (${state}) and rejects concurrent requests. Retry after the current one ends, or use the 'interrupt' or 'enqueue' policy.`,
      { address, details: { state } },
    ),
  agentUnavailable: (address: string, why: string) =>
    new InterlockError(
      'INTERLOCK_AGENT_UNAVAILABLE',
      `Agent '${address}' is failed (${why}). Fix the subscriptions or the backend, then send it a 'reset' event.`,
      { address, details: { why } },
    ),
  actorLimit: (address: string, kind: string, max: number) =>
    new InterlockError(
      'INTERLOCK_ACTOR_LIMIT',
      `Cannot activate '${address}': kind '${kind}' already has its maximum of ${max} live actors. Retry later, or raise the kind's maxActive.`,
      { address, details: { kind, max } },
    ),
  eventNotPublic: (address: string, type: string, allowed: readonly string[]) =>
    new InterlockError(
      'INTERLOCK_EVENT_NOT_PUBLIC',
      `Event type '${type}' may not be sent to '${address}' from outside the process. Public event types of its kind: ${allowed.join(', ') || '(none)'}.`,
      { address, details: { type } },
    ),
  notAnswered: (address: string, kind: string, type: string, answers: readonly string[]) =>
    new InterlockError(
      'INTERLOCK_NOT_ANSWERED',
      `'${type}' is not answered by kind '${kind}' (it answers: ${answers.join(', ') || '(nothing)'}), so an ask or stream of it to '${address}' would wait for its deadline; send it with tell (WebSocket \`send\`, POST /v1/actors/${address}/tell).`,
      { address, details: { kind, type } },
    ),
  unknownKind: (address: string, kind: string, known: readonly string[]) =>
    new InterlockError(
      'INTERLOCK_UNKNOWN_KIND',
      `Address '${address}' names kind '${kind}', which this runtime does not have. Known kinds: ${known.join(', ') || '(none)'}.`,
      { address },
    ),
  invalidAddress: (address: unknown) =>
    new InterlockError(
      'INTERLOCK_INVALID_ADDRESS',
      `Address ${JSON.stringify(address)} is not 'kind/key' (kind: lowercase letters, digits, '-', '_'; key: 1-256 characters).`,
    ),
  invalidMessage: (why: string, id?: string) =>
    new InterlockError(
      'INTERLOCK_INVALID_MESSAGE',
      `Invalid interlock.v1 message${id === undefined ? '' : ` '${id.slice(0, 64)}'`}: ${why}. See docs/protocol.md for the message shapes.`,
    ),
  forbidden: (address: string, action: 'subscribe' | 'send' | 'ask') =>
    new InterlockError(
      'INTERLOCK_FORBIDDEN',
      `This token may not ${action === 'ask' ? 'ask' : `${action} to`} '${address}'. Use a token the server's authorize hook allows for that address.`,
      { address, details: { action } },
    ),
  tooManySubscriptions: (max: number) =>
    new InterlockError(
      'INTERLOCK_TOO_MANY_SUBSCRIPTIONS',
      `This connection already holds ${max} subscriptions (the server's maxSubscriptions). Complete one, or open another connection.`,
      { details: { max } },
    ),
  invalidEvent: (address: string, why: string) =>
    new InterlockError('INTERLOCK_INVALID_EVENT', `Invalid event for '${address}': ${why}.`, { address }),
  invalidKind: (kind: string, why: string) =>
    new InterlockError('INTERLOCK_INVALID_KIND', `Kind '${kind}' is misconfigured: ${why}.`, { details: { kind } }),
  invalidConfig: (why: string, subject = 'runtime options') => new InterlockError('INTERLOCK_INVALID_CONFIG', `Invalid ${subject}: ${why}.`),
  missingPeer: (pkg: string, feature: string, install: string) =>
    new InterlockError('INTERLOCK_MISSING_PEER', `${feature} needs the optional peer dependency '${pkg}', which is not installed. Run \`${install}\`.`, {
      details: { package: pkg },
    }),
  storeFailed: (address: string, op: 'load' | 'save' | 'delete', cause: unknown) =>
    new InterlockError(
      'INTERLOCK_STORE_FAILED',
      `Snapshot store failed to ${op} '${address}': ${describe(cause)}. Check the store's connectivity.`,
      { address, cause },
    ),
};

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  try {
    return String(cause);
  } catch {
    // String() of an exotic object can throw; the message must still be built.
    return 'unprintable error';
  }
}
