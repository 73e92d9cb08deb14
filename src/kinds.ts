import type { AnyMachineSnapshot, AnyStateMachine, ContextFrom, EventObject, InputFrom } from 'xstate';
import { errors } from './errors.js';
import { isReservedType } from './events.js';

export interface BackoffPolicy {
  /** First restart delay. Default 100 ms. */
  initialMs?: number;
  /** Upper bound of a restart delay. Default 10,000 ms. */
  maxMs?: number;
  /** Growth per consecutive restart. Default 2. */
  factor?: number;
  /** Fraction of the delay randomised (0..1), so restarts of many actors spread out. Default 0.2. */
  jitter?: number;
}

export interface SupervisionPolicy {
  /**
   * Input for the machine when the supervisor restarts it, from the last committed
   * snapshot before the crash: what must survive a restart (OTP's init args). Default:
   * the kind's `input`, i.e. a fresh start.
   */
  restartInput?: (last: AnyMachineSnapshot, key: string) => unknown;
  /** Restarts allowed within `windowMs` before the actor is failed. Default 5. */
  maxRestarts?: number;
  /** Default 60,000 ms. */
  windowMs?: number;
  backoff?: BackoffPolicy;
}

export interface MailboxPolicy {
  /** Envelopes (queued + postponed) the mailbox holds before refusing with MailboxFull. Default 10,000. */
  capacity?: number;
  /** Deadline applied to asks and streams that give no timeoutMs. Default: none. */
  defaultTimeoutMs?: number;
  /** Event types that travel in the control lane, ahead of every caller priority. */
  control?: readonly string[];
}

/** A named machine plus its policies. */
export interface KindConfig<TMachine extends AnyStateMachine = AnyStateMachine> {
  machine: TMachine;
  /** Input for each activation, from the address key. */
  input?: (key: string) => InputFrom<TMachine>;
  mailbox?: MailboxPolicy;
  /** Event type sent (in the control lane) to a running turn whose caller aborted or timed out. */
  cancelEvent?: string;
  /** Emitted event types that end the stream of the request they belong to. */
  terminal?: readonly string[];
  supervision?: SupervisionPolicy;
  /** Passivate an actor idle this long (snapshot kept in the store). Default: never. */
  idleAfterMs?: number;
  /**
   * Records kept per activation for resume (WebSocket `since`, SSE `Last-Event-ID`,
   * `runtime.events(address, { since })`). Default 1,024. The ring costs nothing until the
   * address is first watched and then grows with what is published, up to this many.
   */
  replay?: number;
  /**
   * Event types remote callers (HTTP, WebSocket) may send. Default: every type some state
   * handles, minus the reserved `@…` / `xstate.…` namespaces. In-process callers may send
   * any non-reserved type (a backend's own failure reports, say); transports send only these.
   */
  publicEvents?: readonly string[];
  /**
   * Event types the machine answers (with `reply` or `fail`), so the only ones a caller may
   * `ask` or `stream`; an ask or stream of any other type is refused at once with
   * INTERLOCK_NOT_ANSWERED, before anything is queued (it would wait for its deadline).
   * `tell` sends any type. Default: every type may be asked.
   */
  answers?: readonly string[];
  /**
   * What of the context leaves the actor: snapshot records on the bus, replay, the
   * gateway's state view, the inspector. Default: the context as is. Return only what a
   * client may read; secrets (API keys, tokens) must never be in the result.
   */
  view?: (context: ContextFrom<TMachine>) => unknown;
  /**
   * What of an event's payload the inspector may show (mailbox listing, `transition`
   * records, the Stately bridge), for the kind's `publicEvents` only. Default: nothing, the
   * event's type alone. Internal (`@…`) and other non-public events are only ever shown by
   * type. Return only what a client may read.
   */
  eventView?: (event: EventObject) => unknown;
  /**
   * Checks an event at the edge, before it is queued: return a reason to refuse it with
   * INTERLOCK_INVALID_EVENT, or undefined to accept. Runs for every caller.
   */
  validate?: (event: EventObject) => string | undefined;
  /** Live actors of this kind at most; activating one more is refused with INTERLOCK_ACTOR_LIMIT. Default: no limit. */
  maxActive?: number;
}

/** A validated kind with every default filled in. @internal */
export interface Kind {
  readonly name: string;
  readonly machine: AnyStateMachine;
  readonly input: ((key: string) => unknown) | undefined;
  readonly capacity: number;
  readonly defaultTimeoutMs: number | undefined;
  readonly control: ReadonlySet<string>;
  readonly cancelEvent: string | undefined;
  readonly terminal: ReadonlySet<string>;
  readonly maxRestarts: number;
  readonly restartInput: ((last: AnyMachineSnapshot, key: string) => unknown) | undefined;
  readonly windowMs: number;
  readonly backoff: Required<BackoffPolicy>;
  readonly idleAfterMs: number | undefined;
  readonly replay: number;
  readonly publicEvents: ReadonlySet<string>;
  /** The types an ask or stream may carry; undefined: any. */
  readonly answers: ReadonlySet<string> | undefined;
  readonly view: ((context: any) => unknown) | undefined;
  readonly eventView: ((event: EventObject) => unknown) | undefined;
  readonly validate: ((event: EventObject) => string | undefined) | undefined;
  readonly maxActive: number | undefined;
  /** Whether any state declares meta.stallAfterMs (skips stall bookkeeping otherwise). */
  readonly hasStallStates: boolean;
}

const KIND_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const KIND_KEYS = new Set([
  'machine',
  'input',
  'mailbox',
  'cancelEvent',
  'terminal',
  'supervision',
  'idleAfterMs',
  'replay',
  'publicEvents',
  'answers',
  'view',
  'eventView',
  'validate',
  'maxActive',
]);
const MAILBOX_KEYS = new Set(['capacity', 'defaultTimeoutMs', 'control']);
const SUPERVISION_KEYS = new Set(['maxRestarts', 'windowMs', 'backoff', 'restartInput']);
const BACKOFF_KEYS = new Set(['initialMs', 'maxMs', 'factor', 'jitter']);

/** Validates a kind; throws INTERLOCK_INVALID_KIND naming the first problem. Nothing falls back silently. @internal */
export function compileKind(name: string, config: unknown): Kind {
  if (!KIND_NAME.test(name)) throw errors.invalidKind(name, "its name must match /^[a-z][a-z0-9_-]*$/ (no '/')");
  const fail = (why: string) => errors.invalidKind(name, why);
  if (typeof config !== 'object' || config === null) throw fail('its config must be an object with a `machine`');
  const c = config as Record<string, unknown>;
  unknownKeys(c, KIND_KEYS, '', fail);
  const machine = c.machine as AnyStateMachine | undefined;
  if (!isMachine(machine)) throw fail('`machine` must be an XState v5 machine (createMachine / setup().createMachine)');
  if (c.input !== undefined && typeof c.input !== 'function') throw fail('`input` must be a function (key) => input');

  const mailbox = optionalObject(c.mailbox, 'mailbox', fail);
  unknownKeys(mailbox, MAILBOX_KEYS, 'mailbox.', fail);
  const supervision = optionalObject(c.supervision, 'supervision', fail);
  unknownKeys(supervision, SUPERVISION_KEYS, 'supervision.', fail);
  const backoff = optionalObject(supervision.backoff, 'supervision.backoff', fail);
  unknownKeys(backoff, BACKOFF_KEYS, 'supervision.backoff.', fail);

  const events = machineEvents(machine);
  const control = stringList(mailbox.control, 'mailbox.control', fail);
  for (const t of control) if (!handles(events, t)) throw fail(`mailbox.control names '${t}', which no state of the machine handles`);
  const cancelEvent = c.cancelEvent;
  if (cancelEvent !== undefined) {
    if (typeof cancelEvent !== 'string' || cancelEvent === '') throw fail('`cancelEvent` must be a non-empty event type');
    if (!handles(events, cancelEvent)) throw fail(`cancelEvent '${cancelEvent}' is not handled by any state of the machine`);
  }

  // A machine may declare what its kind must configure (root `meta.interlock`): a session
  // whose kind forgets the cancel event lets an unsubscribed stream run to its end upstream.
  const needs = (machine.root as unknown as { meta?: { interlock?: MachineNeeds } }).meta?.interlock;
  if (needs?.cancelEvent !== undefined && cancelEvent !== needs.cancelEvent) {
    throw fail(
      `its machine '${machine.id}' needs cancelEvent '${needs.cancelEvent}' (a caller's abort must reach the running turn); set it, or build the kind with the machine's kind helper`,
    );
  }
  for (const t of needs?.control ?? []) {
    if (!control.includes(t)) throw fail(`its machine '${machine.id}' needs '${t}' in mailbox.control (it must overtake queued requests)`);
  }

  const publicEvents = c.publicEvents === undefined ? defaultPublicEvents(events) : stringList(c.publicEvents, 'publicEvents', fail);
  for (const t of publicEvents) {
    if (isReservedType(t)) throw fail(`publicEvents names '${t}', a reserved type ('@…' is internal, 'xstate.…' is XState's)`);
    if (!handles(events, t)) throw fail(`publicEvents names '${t}', which no state of the machine handles`);
  }

  const answers = c.answers === undefined ? undefined : stringList(c.answers, 'answers', fail);
  for (const t of answers ?? []) {
    if (isReservedType(t)) throw fail(`answers names '${t}', a reserved type ('@…' is internal, 'xstate.…' is XState's); callers cannot send it`);
    if (!handles(events, t)) throw fail(`answers names '${t}', which no state of the machine handles`);
  }

  const kind: Kind = {
    name,
    machine,
    input: c.input as Kind['input'],
    capacity: int(mailbox.capacity, 'mailbox.capacity', 1, 10_000, fail),
    defaultTimeoutMs: optionalPositive(mailbox.defaultTimeoutMs, 'mailbox.defaultTimeoutMs', fail),
    control: new Set(control),
    cancelEvent: cancelEvent as string | undefined,
    terminal: new Set([...stringList(c.terminal, 'terminal', fail), ...(needs?.terminal ?? [])]),
    maxRestarts: int(supervision.maxRestarts, 'supervision.maxRestarts', 0, 5, fail),
    restartInput: optionalFunction(supervision.restartInput, 'supervision.restartInput', fail) as Kind['restartInput'],
    windowMs: positive(supervision.windowMs, 'supervision.windowMs', 60_000, fail),
    backoff: {
      initialMs: nonNegative(backoff.initialMs, 'supervision.backoff.initialMs', 100, fail),
      maxMs: nonNegative(backoff.maxMs, 'supervision.backoff.maxMs', 10_000, fail),
      factor: positive(backoff.factor, 'supervision.backoff.factor', 2, fail),
      jitter: fraction(backoff.jitter, 'supervision.backoff.jitter', 0.2, fail),
    },
    idleAfterMs: optionalPositive(c.idleAfterMs, 'idleAfterMs', fail),
    replay: int(c.replay, 'replay', 0, 1024, fail),
    hasStallStates: hasStallMeta(machine),
    publicEvents: new Set(publicEvents),
    answers: answers && new Set(answers),
    view: optionalFunction(c.view, 'view', fail) as Kind['view'],
    eventView: optionalFunction(c.eventView, 'eventView', fail) as Kind['eventView'],
    validate: optionalFunction(c.validate, 'validate', fail) as Kind['validate'],
    maxActive: c.maxActive === undefined ? undefined : int(c.maxActive, 'maxActive', 1, 0, fail),
  };
  if (kind.backoff.maxMs < kind.backoff.initialMs) throw fail('supervision.backoff.maxMs is below initialMs');
  if (kind.backoff.factor < 1) throw fail('supervision.backoff.factor must be >= 1');
  return kind;
}

function isMachine(m: unknown): m is AnyStateMachine {
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof (m as AnyStateMachine).transition === 'function' &&
    typeof (m as AnyStateMachine).getInitialSnapshot === 'function' &&
    typeof (m as AnyStateMachine).root === 'object'
  );
}

interface StateNodeLike {
  on?: Record<string, unknown>;
  meta?: { stallAfterMs?: unknown };
  states?: Record<string, StateNodeLike>;
  config?: { on?: Record<string, unknown> };
}

/** Every event type some state of the machine has a transition for (wildcards included). */
function machineEvents(machine: AnyStateMachine): Set<string> {
  const out = new Set<string>();
  const walk = (node: StateNodeLike) => {
    for (const t of Object.keys(node.config?.on ?? {})) out.add(t);
    for (const child of Object.values(node.states ?? {})) walk(child);
  };
  walk(machine.root as unknown as StateNodeLike);
  return out;
}

function handles(events: Set<string>, type: string): boolean {
  if (events.has(type) || events.has('*')) return true;
  for (const e of events) if (e.endsWith('.*') && type.startsWith(e.slice(0, -1))) return true;
  return false;
}

/**
 * What a machine requires of any kind that runs it, declared in its root
 * `meta: { interlock: { cancelEvent, control } }` and checked by createRuntime.
 */
export interface MachineNeeds {
  cancelEvent?: string;
  control?: readonly string[];
  /** Emitted types that end a stream of this machine; added to every kind's `terminal`. */
  terminal?: readonly string[];
}

/** Every concrete type a state handles, minus wildcards and reserved namespaces. */
function defaultPublicEvents(events: Set<string>): string[] {
  return [...events].filter((t) => t !== '*' && !t.endsWith('.*') && !isReservedType(t)).sort();
}

function hasStallMeta(machine: AnyStateMachine): boolean {
  const walk = (node: StateNodeLike): boolean =>
    node.meta?.stallAfterMs !== undefined || Object.values(node.states ?? {}).some(walk);
  return walk(machine.root as unknown as StateNodeLike);
}

type Fail = (why: string) => Error;

function optionalObject(v: unknown, name: string, fail: Fail): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail(`\`${name}\` must be an object`);
  return v as Record<string, unknown>;
}

function unknownKeys(o: Record<string, unknown>, known: Set<string>, prefix: string, fail: Fail): void {
  for (const k of Object.keys(o)) if (!known.has(k)) throw fail(`unknown option '${prefix}${k}' (known: ${[...known].join(', ')})`);
}

function stringList(v: unknown, name: string, fail: Fail): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string' || t === '')) throw fail(`\`${name}\` must be an array of event types`);
  return v as string[];
}

function optionalFunction(v: unknown, name: string, fail: Fail): unknown {
  if (v !== undefined && typeof v !== 'function') throw fail(`\`${name}\` must be a function`);
  return v;
}

// Number.isInteger and Number.isFinite never coerce: both are false for every non-number,
// so they check the type as well (a separate `typeof v !== 'number'` could never decide).
const isInteger = (v: unknown): v is number => Number.isInteger(v);
const isFiniteNumber = (v: unknown): v is number => Number.isFinite(v);

function int(v: unknown, name: string, min: number, dflt: number, fail: Fail): number {
  if (v === undefined) return dflt;
  if (!isInteger(v) || v < min) throw fail(`\`${name}\` must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function positive(v: unknown, name: string, dflt: number, fail: Fail): number {
  if (v === undefined) return dflt;
  if (!isFiniteNumber(v) || v <= 0) throw fail(`\`${name}\` must be a positive number, got ${String(v)}`);
  return v;
}

function nonNegative(v: unknown, name: string, dflt: number, fail: Fail): number {
  if (v === undefined) return dflt;
  if (!isFiniteNumber(v) || v < 0) throw fail(`\`${name}\` must be a number >= 0, got ${String(v)}`);
  return v;
}

function optionalPositive(v: unknown, name: string, fail: Fail): number | undefined {
  return v === undefined ? undefined : positive(v, name, 0, fail);
}

function fraction(v: unknown, name: string, dflt: number, fail: Fail): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw fail(`\`${name}\` must be between 0 and 1, got ${String(v)}`);
  return v;
}
