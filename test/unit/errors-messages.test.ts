/**
 * What each error constructor puts in front of a user or a wire client: the exact message
 * (the thing, and the fix), `details` (what a client may branch on), `address`, `cause`,
 * and the serialized form. errors.test.ts pins the codes and their public flag; this file
 * pins every constructor's words, branch by branch.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { errors, InterlockError, type ErrorCode } from '../../src/errors.js';

const boom = new Error('boom');
const NO_CAUSE = Symbol('no cause');
/** The codes whose toJSON hides code and message (errors.test.ts pins the flag of each). */
const internal = new Set<ErrorCode>(['INTERLOCK_INVALID_CONFIG', 'INTERLOCK_INVALID_KIND', 'INTERLOCK_MISSING_PEER', 'INTERLOCK_STORE_FAILED']);

interface Rest {
  address?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** Everything an error shows, as one comparable record. */
function face(e: InterlockError) {
  return {
    code: e.code,
    message: e.message,
    address: e.address,
    details: e.details,
    cause: Object.hasOwn(e, 'cause') ? e.cause : NO_CAUSE,
    json: e.toJSON(),
  };
}

function expected(code: ErrorCode, message: string, rest: Rest): ReturnType<typeof face> {
  return {
    code,
    message,
    address: rest.address,
    details: rest.details,
    cause: 'cause' in rest ? rest.cause : NO_CAUSE,
    json: internal.has(code) ? { code: 'INTERLOCK_INTERNAL', message: 'internal error' } : { code, message },
  };
}

describe('error constructors: message, details, address, cause', () => {
  // Each row builds its error inside the test: built while the file is collected, a constructor
  // that throws would fail the collection, which a mutation run does not count as a failed test.
  it.each<[string, () => InterlockError, ErrorCode, string, Rest]>([
    [
      'mailboxFull names the capacity and the three ways out',
      () => errors.mailboxFull('a/1', 3),
      'INTERLOCK_MAILBOX_FULL',
      "Mailbox of 'a/1' is full (3 envelopes). Slow the sender, raise the kind's mailbox.capacity, or shed load upstream.",
      { address: 'a/1', details: { capacity: 3 } },
    ],
    [
      'deadlineExceeded while queued says the envelope never ran',
      () => errors.deadlineExceeded('a/1', 'queued', 5),
      'INTERLOCK_DEADLINE_EXCEEDED',
      "Envelope to 'a/1' waited past its 5 ms deadline and was never delivered. Raise timeoutMs or reduce the actor's backlog.",
      { address: 'a/1', details: { phase: 'queued', deadlineMs: 5 } },
    ],
    [
      'deadlineExceeded while running says the cancel event was sent',
      () => errors.deadlineExceeded('a/1', 'running', 7),
      'INTERLOCK_DEADLINE_EXCEEDED',
      "'a/1' did not answer within 7 ms of enqueue; the kind's cancel event was sent to the running turn. Raise timeoutMs or make the turn faster.",
      { address: 'a/1', details: { phase: 'running', deadlineMs: 7 } },
    ],
    [
      "cancelled by the caller's signal (the default reason)",
      () => errors.cancelled('a/1', 'queued'),
      'INTERLOCK_CANCELLED',
      "Request to 'a/1' was cancelled by its caller's signal while queued.",
      { address: 'a/1', details: { phase: 'queued', reason: 'caller' } },
    ],
    [
      "cancelled by a 'cancel' event",
      () => errors.cancelled('a/1', 'running', 'cancel'),
      'INTERLOCK_CANCELLED',
      "Request to 'a/1' was cancelled by a 'cancel' event while running.",
      { address: 'a/1', details: { phase: 'running', reason: 'cancel' } },
    ],
    [
      'cancelled by its own machine',
      () => errors.cancelled('a/1', 'running', 'machine'),
      'INTERLOCK_CANCELLED',
      "A task of 'a/1' was cancelled by its own machine (abortTask or fenceTask) while running.",
      { address: 'a/1', details: { phase: 'running', reason: 'machine' } },
    ],
    [
      'cancelled because the client disconnected',
      () => errors.cancelled('a/1', 'queued', 'disconnected'),
      'INTERLOCK_CANCELLED',
      "Request to 'a/1' was cancelled while queued because its client disconnected.",
      { address: 'a/1', details: { phase: 'queued', reason: 'disconnected' } },
    ],
    [
      'crashed carries the cause and its message',
      () => errors.crashed('a/1', boom),
      'INTERLOCK_ACTOR_CRASHED',
      "Actor 'a/1' crashed while handling this request: boom. It is being restarted per its kind's supervision policy.",
      { address: 'a/1', cause: boom },
    ],
    [
      'stalled names the state and the meta to raise',
      () => errors.stalled('a/1', 'busy', 10),
      'INTERLOCK_ACTOR_STALLED',
      "Actor 'a/1' made no progress in state 'busy' for 10 ms and was restarted. Heartbeat from long work, or raise meta.stallAfterMs.",
      { address: 'a/1', details: { state: 'busy', stallAfterMs: 10 } },
    ],
    [
      'failed without a cause names only revive()',
      () => errors.failed('a/1'),
      'INTERLOCK_ACTOR_FAILED',
      "Actor 'a/1' is failed: it exhausted its restart budget. Fix the cause, then call runtime.revive('a/1').",
      { address: 'a/1' },
    ],
    [
      'failed with a cause names the last error',
      () => errors.failed('a/1', boom),
      'INTERLOCK_ACTOR_FAILED',
      "Actor 'a/1' is failed: it exhausted its restart budget (last error: boom). Fix the cause, then call runtime.revive('a/1').",
      { address: 'a/1', cause: boom },
    ],
    [
      'stopped names the reason',
      () => errors.stopped('a/1', 'shutdown'),
      'INTERLOCK_ACTOR_STOPPED',
      "Actor 'a/1' stopped (shutdown) before answering.",
      { address: 'a/1', details: { reason: 'shutdown' } },
    ],
    [
      'shuttingDown names the address refused',
      () => errors.shuttingDown('a/1'),
      'INTERLOCK_SHUTTING_DOWN',
      "Runtime is shutting down; envelope to 'a/1' refused. Send before shutdown() or to another runtime.",
      { address: 'a/1' },
    ],
    [
      'turnFailed prints a non-Error cause as a string',
      () => errors.turnFailed('a/1', 'no'),
      'INTERLOCK_TURN_FAILED',
      "Actor 'a/1' answered with an error: no.",
      { address: 'a/1', cause: 'no' },
    ],
    [
      'turnFailed with a cause String() cannot print',
      () => errors.turnFailed('a/1', Object.create(null)),
      'INTERLOCK_TURN_FAILED',
      "Actor 'a/1' answered with an error: unprintable error.",
      { address: 'a/1', cause: Object.create(null) },
    ],
    [
      'superseded before it started (the default phase)',
      () => errors.superseded('a/1'),
      'INTERLOCK_SUPERSEDED',
      "Request to 'a/1' was superseded by a newer one before it started (latest wins).",
      { address: 'a/1', details: { phase: 'queued', rolledBack: false } },
    ],
    [
      'superseded while running, without rollback',
      () => errors.superseded('a/1', 'running'),
      'INTERLOCK_SUPERSEDED',
      "Request to 'a/1' was superseded by a newer one while it ran: its stream was interrupted.",
      { address: 'a/1', details: { phase: 'running', rolledBack: false } },
    ],
    [
      'superseded while running, rolled back',
      () => errors.superseded('a/1', 'running', true),
      'INTERLOCK_SUPERSEDED',
      "Request to 'a/1' was superseded by a newer one while it ran: its stream was interrupted and the turn removed from the history (rollback).",
      { address: 'a/1', details: { phase: 'running', rolledBack: true } },
    ],
    [
      'retryExhausted says why and that the agent takes new requests',
      () => errors.retryExhausted('a/1', 'subscription B failed'),
      'INTERLOCK_RETRY_EXHAUSTED',
      "Request to 'a/1' failed again after its one retry (subscription B failed). The agent has moved on and takes new requests; resend it if it is still wanted.",
      { address: 'a/1', details: { why: 'subscription B failed' } },
    ],
    [
      'busy names the state and the other policies',
      () => errors.busy('a/1', 'streaming'),
      'INTERLOCK_BUSY',
      "'a/1' is busy (streaming) and rejects concurrent requests. Retry after the current one ends, or use the 'interrupt' or 'enqueue' policy.",
      { address: 'a/1', details: { state: 'streaming' } },
    ],
    [
      "agentUnavailable says why and to send 'reset'",
      () => errors.agentUnavailable('a/1', 'no subscription'),
      'INTERLOCK_AGENT_UNAVAILABLE',
      "Agent 'a/1' is failed (no subscription). Fix the subscriptions or the backend, then send it a 'reset' event.",
      { address: 'a/1', details: { why: 'no subscription' } },
    ],
    [
      'actorLimit names the kind, the limit and maxActive',
      () => errors.actorLimit('a/1', 'a', 10),
      'INTERLOCK_ACTOR_LIMIT',
      "Cannot activate 'a/1': kind 'a' already has its maximum of 10 live actors. Retry later, or raise the kind's maxActive.",
      { address: 'a/1', details: { kind: 'a', max: 10 } },
    ],
    [
      'eventNotPublic lists the public types',
      () => errors.eventNotPublic('a/1', 'admin', ['chat', 'cancel']),
      'INTERLOCK_EVENT_NOT_PUBLIC',
      "Event type 'admin' may not be sent to 'a/1' from outside the process. Public event types of its kind: chat, cancel.",
      { address: 'a/1', details: { type: 'admin' } },
    ],
    [
      'eventNotPublic of a kind with no public types says (none)',
      () => errors.eventNotPublic('a/1', 'admin', []),
      'INTERLOCK_EVENT_NOT_PUBLIC',
      "Event type 'admin' may not be sent to 'a/1' from outside the process. Public event types of its kind: (none).",
      { address: 'a/1', details: { type: 'admin' } },
    ],
    [
      'notAnswered names the type, the kind, what it answers and the fix (tell)',
      () => errors.notAnswered('session/x', 'session', 'cancel', ['prompt']),
      'INTERLOCK_NOT_ANSWERED',
      "'cancel' is not answered by kind 'session' (it answers: prompt), so an ask or stream of it to 'session/x' would wait for its deadline; send it with tell (WebSocket `send`, POST /v1/actors/session/x/tell).",
      { address: 'session/x', details: { kind: 'session', type: 'cancel' } },
    ],
    [
      'notAnswered of a kind that answers nothing says (nothing)',
      () => errors.notAnswered('w/1', 'w', 'go', []),
      'INTERLOCK_NOT_ANSWERED',
      "'go' is not answered by kind 'w' (it answers: (nothing)), so an ask or stream of it to 'w/1' would wait for its deadline; send it with tell (WebSocket `send`, POST /v1/actors/w/1/tell).",
      { address: 'w/1', details: { kind: 'w', type: 'go' } },
    ],
    [
      'unknownKind lists the known kinds',
      () => errors.unknownKind('x/1', 'x', ['a', 'b']),
      'INTERLOCK_UNKNOWN_KIND',
      "Address 'x/1' names kind 'x', which this runtime does not have. Known kinds: a, b.",
      { address: 'x/1' },
    ],
    [
      'unknownKind of a runtime with no kinds says (none)',
      () => errors.unknownKind('x/1', 'x', []),
      'INTERLOCK_UNKNOWN_KIND',
      "Address 'x/1' names kind 'x', which this runtime does not have. Known kinds: (none).",
      { address: 'x/1' },
    ],
    [
      'invalidAddress quotes the value as JSON and states the form',
      () => errors.invalidAddress(42),
      'INTERLOCK_INVALID_ADDRESS',
      "Address 42 is not 'kind/key' (kind: lowercase letters, digits, '-', '_'; key: 1-256 characters).",
      {  },
    ],
    [
      'invalidMessage without an id',
      () => errors.invalidMessage("'type' must be a string"),
      'INTERLOCK_INVALID_MESSAGE',
      "Invalid interlock.v1 message: 'type' must be a string. See docs/protocol.md for the message shapes.",
      {  },
    ],
    [
      "invalidMessage quotes the message's id, cut to 64 characters",
      () => errors.invalidMessage('not JSON', `${'i'.repeat(64)}TAIL`),
      'INTERLOCK_INVALID_MESSAGE',
      `Invalid interlock.v1 message '${'i'.repeat(64)}': not JSON. See docs/protocol.md for the message shapes.`,
      {  },
    ],
    [
      'forbidden to subscribe',
      () => errors.forbidden('a/1', 'subscribe'),
      'INTERLOCK_FORBIDDEN',
      "This token may not subscribe to 'a/1'. Use a token the server's authorize hook allows for that address.",
      { address: 'a/1', details: { action: 'subscribe' } },
    ],
    [
      'forbidden to ask (no "to")',
      () => errors.forbidden('a/1', 'ask'),
      'INTERLOCK_FORBIDDEN',
      "This token may not ask 'a/1'. Use a token the server's authorize hook allows for that address.",
      { address: 'a/1', details: { action: 'ask' } },
    ],
    [
      'tooManySubscriptions names the limit and has no address',
      () => errors.tooManySubscriptions(100),
      'INTERLOCK_TOO_MANY_SUBSCRIPTIONS',
      "This connection already holds 100 subscriptions (the server's maxSubscriptions). Complete one, or open another connection.",
      { details: { max: 100 } },
    ],
    [
      'invalidEvent says why',
      () => errors.invalidEvent('a/1', 'no type'),
      'INTERLOCK_INVALID_EVENT',
      "Invalid event for 'a/1': no type.",
      { address: 'a/1' },
    ],
    [
      'invalidKind names the kind in details (not public)',
      () => errors.invalidKind('a', 'no machine'),
      'INTERLOCK_INVALID_KIND',
      "Kind 'a' is misconfigured: no machine.",
      { details: { kind: 'a' } },
    ],
    [
      'invalidConfig of the runtime options (the default subject)',
      () => errors.invalidConfig('bad clock'),
      'INTERLOCK_INVALID_CONFIG',
      'Invalid runtime options: bad clock.',
      {  },
    ],
    [
      'invalidConfig of another subject',
      () => errors.invalidConfig('no url', 'provider options'),
      'INTERLOCK_INVALID_CONFIG',
      'Invalid provider options: no url.',
      {  },
    ],
    [
      'missingPeer names the package and the install command',
      () => errors.missingPeer('@x/y', 'The bridge', 'npm install @x/y'),
      'INTERLOCK_MISSING_PEER',
      "The bridge needs the optional peer dependency '@x/y', which is not installed. Run `npm install @x/y`.",
      { details: { package: '@x/y' } },
    ],
    [
      'storeFailed names the operation and keeps the cause (not public)',
      () => errors.storeFailed('a/1', 'save', boom),
      'INTERLOCK_STORE_FAILED',
      "Snapshot store failed to save 'a/1': boom. Check the store's connectivity.",
      { address: 'a/1', cause: boom },
    ],
  ])('%s', (_name, build, code, message, rest) => {
    const error = build();
    expect(error).toBeInstanceOf(InterlockError);
    expect(face(error)).toEqual(expected(code, message, rest));
  });

  it('sets no `cause` at all when none is given (util.inspect shows no [cause])', () => {
    expect(inspect(errors.failed('a/1'))).not.toContain('[cause]');
    expect(inspect(errors.failed('a/1', boom))).toContain('[cause]');
  });
});
