/**
 * JSON schemas for every route: Fastify validates bodies, params, queries and headers
 * with them before a handler runs (no hand-written checks). Keys are bounded in length
 * and characters, so a client cannot mint unbounded or odd addresses.
 */

/** An actor key or session id: 1-128 of letters, digits, `.`, `_`, `:`, `-`, starting with a letter or digit. */
export const KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
export const KIND_PATTERN = '^[a-z][a-z0-9_-]{0,63}$';

const contentPart = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', maxLength: 64 }, text: { type: 'string' } },
} as const;

export const chatSchema = {
  headers: {
    type: 'object',
    properties: {
      'x-session-id': { type: 'string', pattern: KEY_PATTERN },
      'x-interlock-on-busy': { type: 'string', enum: ['interrupt', 'enqueue', 'reject', 'rollback'] },
      'x-interlock-on-disconnect': { type: 'string', enum: ['cancel', 'detach'] },
    },
  },
  body: {
    type: 'object',
    required: ['model', 'messages'],
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 256 },
      messages: {
        type: 'array',
        minItems: 1,
        maxItems: 4096,
        items: {
          type: 'object',
          required: ['role'],
          properties: {
            role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
            content: { anyOf: [{ type: 'string' }, { type: 'array', maxItems: 1024, items: contentPart }, { type: 'null' }] },
          },
        },
        // The prompt is the last user message: there must be one.
        contains: { type: 'object', required: ['role', 'content'], properties: { role: { const: 'user' } } },
      },
      stream: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
      stream_options: {
        anyOf: [{ type: 'object', properties: { include_usage: { type: 'boolean' } } }, { type: 'null' }],
      },
      n: { anyOf: [{ type: 'integer', const: 1 }, { type: 'null' }] },
    },
  },
} as const;

const addressParams = {
  type: 'object',
  required: ['kind', 'key'],
  properties: { kind: { type: 'string', pattern: KIND_PATTERN }, key: { type: 'string', pattern: KEY_PATTERN } },
} as const;

const sendBody = {
  type: 'object',
  required: ['event'],
  additionalProperties: false,
  properties: {
    event: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string', minLength: 1, maxLength: 128 } },
    },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    priority: { type: 'string', enum: ['high', 'normal', 'low'] },
  },
} as const;

export const tellSchema = { params: addressParams, body: sendBody } as const;
export const askSchema = { params: addressParams, body: sendBody } as const;
export const viewSchema = { params: addressParams } as const;
export const eventsSchema = {
  params: addressParams,
  querystring: {
    type: 'object',
    properties: { token: { type: 'string', maxLength: 4096 }, since: { type: 'string', maxLength: 40 } },
  },
  headers: { type: 'object', properties: { 'last-event-id': { type: 'string', maxLength: 40 } } },
} as const;

export const listSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      kind: { type: 'string', pattern: KIND_PATTERN },
      // Query values are strings on the wire (the server does not coerce types).
      limit: { type: 'string', pattern: '^(1000|[1-9][0-9]{0,2})$' },
      after: { type: 'string', maxLength: 400 },
      q: { type: 'string', maxLength: 200 },
    },
  },
} as const;

export const healthSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      address: { type: 'string', maxLength: 400 },
      addresses: { type: 'string', enum: ['true', 'false'] },
    },
  },
} as const;
