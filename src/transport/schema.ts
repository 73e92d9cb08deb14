/**
 * Every client frame is checked against a JSON Schema before anything reads it: the shape
 * of each message type of `interlock.v1` (src/transport/protocol.ts), strict (no unknown
 * fields), with bounded strings. Ajv compiles the schemas once into plain functions (it is
 * already in the install through Fastify, and the schemas double as the reference in
 * docs/protocol.md). What a schema cannot say (an address is `kind/key`, the event type is
 * public) the runtime checks next, with its own coded errors.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { MAX_RESUME_ADDRESSES, type ClientMessage } from './protocol.js';

const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
const address = { type: 'string', minLength: 1, maxLength: 400 } as const;
const event = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;
const priority = { enum: ['high', 'normal', 'low'] } as const;
const position = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
/** `since` of an address subscription: the last record the client holds. */
const resumePoint = { type: 'object', required: ['epoch', 'seq'], additionalProperties: false, properties: { epoch: position, seq: position } } as const;
/** `since` of a pattern subscription: a point per address (protocol.ts, ResumeMap). */
const resumeMap = {
  type: 'object',
  maxProperties: MAX_RESUME_ADDRESSES,
  propertyNames: { maxLength: 400 },
  additionalProperties: resumePoint,
} as const;

const message = (type: string, fields: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  required: ['type', ...required],
  additionalProperties: false,
  properties: { type: { const: type }, ...fields },
});

/** The schema of each client message type (exported for docs and tests). */
export const CLIENT_SCHEMAS = {
  connection_init: message(
    'connection_init',
    {
      payload: {
        type: 'object',
        additionalProperties: false,
        properties: { token: { type: 'string', maxLength: 4096 }, batch: { type: 'boolean' } },
      },
    },
    [],
  ),
  subscribe: message(
    'subscribe',
    {
      id,
      payload: {
        type: 'object',
        additionalProperties: false,
        properties: {
          address,
          pattern: { type: 'string', minLength: 1, maxLength: 400 },
          // A point for an address, a map of points for a pattern (which one is checked below).
          since: { anyOf: [resumePoint, resumeMap] },
        },
      },
    },
    ['id', 'payload'],
  ),
  send: message(
    'send',
    { id, payload: { type: 'object', required: ['address', 'event'], additionalProperties: false, properties: { address, event, priority } } },
    ['id', 'payload'],
  ),
  ask: message(
    'ask',
    {
      id,
      payload: {
        type: 'object',
        required: ['address', 'event'],
        additionalProperties: false,
        properties: { address, event, priority, timeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 } },
      },
    },
    ['id', 'payload'],
  ),
  complete: message('complete', { id }, ['id']),
  ping: message('ping', { payload: { type: 'object' } }, []),
  pong: message('pong', { payload: { type: 'object' } }, []),
} as const;

type ClientType = keyof typeof CLIENT_SCHEMAS;

const ajv = new Ajv({ allErrors: false, strict: true });
const validators = Object.fromEntries(Object.entries(CLIENT_SCHEMAS).map(([t, s]) => [t, ajv.compile(s)])) as Record<ClientType, ValidateFunction>;
const validatePoint = ajv.compile(resumePoint);
const validateMap = ajv.compile(resumeMap);

/** A parsed frame: the message, or why it is not one (with its id when it had a usable one). */
export type Parsed = { ok: true; message: ClientMessage } | { ok: false; why: string; id: string | undefined; type: string | undefined };

/** Parses and validates one text frame. Never throws. */
export function parseClientFrame(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Any JSON.parse failure (syntax, or a nesting too deep for the parser) is a bad frame.
    return { ok: false, why: 'the frame is not JSON', id: undefined, type: undefined };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, why: 'a message must be a JSON object { type, id?, payload? }', id: undefined, type: undefined };
  }
  const m = value as { type?: unknown; id?: unknown };
  const usableId = typeof m.id === 'string' && m.id.length > 0 && m.id.length <= 128 ? m.id : undefined;
  const type = typeof m.type === 'string' ? m.type : undefined;
  if (type === undefined) return { ok: false, why: "'type' must be a string", id: usableId, type };
  if (!Object.hasOwn(validators, type)) {
    return { ok: false, why: `unknown message type '${type.slice(0, 64)}' (known: ${Object.keys(validators).join(', ')})`, id: usableId, type };
  }
  const validate = validators[type as ClientType];
  const valid = validate(value);
  // Ajv sets `errors` whenever a validation fails.
  if (type === 'subscribe' && (valid || validate.errors![0]!.instancePath.startsWith('/payload/since'))) {
    // What JSON Schema says only awkwardly (oneOf), said plainly; and which form of `since`
    // the payload needed, so its error names what is wrong in that form.
    const p = (value as { payload: { address?: string; pattern?: string; since?: unknown } }).payload;
    if ((p.address === undefined) === (p.pattern === undefined)) return { ok: false, why: "'payload' must have exactly one of 'address' or 'pattern'", id: usableId, type };
    const why = p.since === undefined ? undefined : sinceProblem(p.since, p.pattern !== undefined);
    if (why !== undefined) return { ok: false, why, id: usableId, type };
  }
  if (valid) return { ok: true, message: value as ClientMessage };
  return { ok: false, why: describe(validate.errors![0]!, ''), id: usableId, type };
}

/** Why `since` is not the form its subscription needs (a map of points for a pattern, a point for an address), or undefined. */
function sinceProblem(since: unknown, pattern: boolean): string | undefined {
  const pointLike = typeof since === 'object' && since !== null && ('epoch' in since || 'seq' in since);
  if (pattern) {
    if (pointLike) return "'payload.since' of a pattern is a map of points by address ({ \"kind/key\": { epoch, seq }, … }); { epoch, seq } resumes one address";
    return validateMap(since) ? undefined : describe(validateMap.errors![0]!, 'payload.since');
  }
  if (validatePoint(since)) return undefined;
  if (!pointLike && typeof since === 'object' && since !== null && !Array.isArray(since)) return "'payload.since' of an address is { epoch, seq }; a map of points by address is only for a pattern";
  return describe(validatePoint.errors![0]!, 'payload.since');
}

/**
 * An Ajv error as a sentence naming the field (`base` is where the validated value sits in the
 * message). The path is short: the deepest one is 'payload.since.<address>.epoch', and an
 * address key over 400 characters fails `propertyNames` before its value is looked at.
 */
function describe(e: ErrorObject, base: string): string {
  // A JSON pointer: '/' separates, '~1' is a '/' inside a name (an address key), '~0' a '~'.
  // The pointer's leading '' (and an empty base) are filtered out with the rest of the empty parts.
  const path = [base, ...e.instancePath.split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))].filter((part) => part !== '');
  const where = path.length > 0 ? `'${path.join('.')}'` : 'the message';
  const params = e.params as { additionalProperty?: string; limit?: number };
  if (e.keyword === 'maxProperties') return `${where} names more than ${params.limit} addresses (the most a pattern's since may name: keep the most recently advanced)`;
  if (e.propertyName !== undefined) return `${where} has a key that is not an address (${JSON.stringify(e.propertyName.slice(0, 64))}…: over 400 characters)`;
  const extra = e.keyword === 'additionalProperties' ? ` ('${String(params.additionalProperty).slice(0, 64)}')` : '';
  // Stryker disable next-line StringLiteral: Ajv is built with messages on (its default), so every error has one
  const what = e.message ?? 'is invalid';
  return `${where} ${what}${extra}`;
}
