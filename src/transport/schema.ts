/**
 * Every client frame is checked against a JSON Schema before anything reads it: the shape
 * of each message type of `interlock.v1` (src/transport/protocol.ts), strict (no unknown
 * fields), with bounded strings. Ajv compiles the schemas once into plain functions (it is
 * already in the install through Fastify, and the schemas double as the reference in
 * docs/protocol.md). What a schema cannot say (an address is `kind/key`, the event type is
 * public) the runtime checks next, with its own coded errors.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { ClientMessage } from './protocol.js';

const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
const address = { type: 'string', minLength: 1, maxLength: 400 } as const;
const event = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;
const priority = { enum: ['high', 'normal', 'low'] } as const;
const position = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

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
          since: { type: 'object', required: ['epoch', 'seq'], additionalProperties: false, properties: { epoch: position, seq: position } },
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
  if (validate(value)) {
    if (type === 'subscribe') {
      // What JSON Schema says only awkwardly (oneOf), said plainly.
      const p = (value as { payload: { address?: string; pattern?: string; since?: unknown } }).payload;
      if ((p.address === undefined) === (p.pattern === undefined)) return { ok: false, why: "'payload' must have exactly one of 'address' or 'pattern'", id: usableId, type };
      if (p.pattern !== undefined && p.since !== undefined) return { ok: false, why: "'payload.since' resumes one address; a pattern subscription cannot have it", id: usableId, type };
    }
    return { ok: true, message: value as ClientMessage };
  }
  const e = validate.errors?.[0];
  const where = e?.instancePath ? `'${e.instancePath.slice(1).replace(/\//g, '.')}'` : 'the message';
  const extra = e?.keyword === 'additionalProperties' ? ` ('${String((e.params as { additionalProperty?: string }).additionalProperty).slice(0, 64)}')` : '';
  return { ok: false, why: `${where} ${e?.message ?? 'is invalid'}${extra}`, id: usableId, type };
}
