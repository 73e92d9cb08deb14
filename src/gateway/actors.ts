/**
 * Any actor over HTTP, for the kinds the runtime runs: tell, ask, view, list. Every event
 * from the wire passes `runtime.checkPublic` first, so internal (`@…`) and reserved
 * (`xstate.…`) types, and types the kind does not declare public, are refused at once
 * (4xx), never left to a deadline.
 */
import type { FastifyInstance } from 'fastify';
import type { EventObject } from 'xstate';
import { errors } from '../errors.js';
import type { Priority } from '../mailbox/envelope.js';
import type { Runtime } from '../runtime/Runtime.js';
import { GatewayError } from './httpErrors.js';
import { askSchema, listSchema, tellSchema, viewSchema } from './schemas.js';

interface AddressParams {
  kind: string;
  key: string;
}
interface SendBody {
  event: EventObject;
  timeoutMs?: number;
  priority?: Priority;
}

export interface ActorRoutesConfig {
  runtime: Runtime;
  /** Deadline for an ask that gives none, and the most an ask may ask for. */
  askTimeoutMs: number;
}

export function actorRoutes(app: FastifyInstance, config: ActorRoutesConfig): void {
  const { runtime } = config;
  const known = () => new Set(runtime.kinds().map((k) => k.name));
  const address = ({ kind, key }: AddressParams): string => {
    const at = `${kind}/${key}`;
    if (!known().has(kind)) throw errors.unknownKind(at, kind, [...known()]);
    return at;
  };

  app.post<{ Params: AddressParams; Body: SendBody }>('/v1/actors/:kind/:key/tell', { schema: tellSchema }, async (request, reply) => {
    const to = address(request.params);
    const { event, timeoutMs, priority } = request.body;
    runtime.checkPublic(to, event);
    // Absent fields stay undefined: validation and delivery read them with `!== undefined` and `??`.
    runtime.tell(to, event as never, { timeoutMs, priority });
    return reply.code(202).send({ accepted: true, address: to });
  });

  app.post<{ Params: AddressParams; Body: SendBody }>('/v1/actors/:kind/:key/ask', { schema: askSchema }, async (request, reply) => {
    const to = address(request.params);
    const { event, priority } = request.body;
    runtime.checkPublic(to, event);
    const timeoutMs = Math.min(request.body.timeoutMs ?? config.askTimeoutMs, config.askTimeoutMs);
    // A client that leaves aborts the ask: a queued envelope is removed, a running turn cancelled.
    const abort = new AbortController();
    const onClose = () => {
      // Stryker disable next-line ConditionalExpression: 'true' is equivalent: the finally below removes this listener before the handler returns, so it runs only before the reply is written (writableFinished false)
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.on('close', onClose);
    try {
      const answer = await runtime.ask(to, event as never, { timeoutMs, signal: abort.signal, priority });
      return { address: to, reply: answer ?? null };
    } finally {
      // Stryker disable next-line StringLiteral: a listener left on fires after the reply is written, when writableFinished holds and onClose does nothing (the finally block emptied is equivalent for the same reason; a directive cannot sit on a `} finally {` line)
      reply.raw.off('close', onClose);
    }
  });

  app.get<{ Params: AddressParams }>('/v1/actors/:kind/:key', { schema: viewSchema }, async (request) => {
    const at = address(request.params);
    const view = runtime.view(at);
    if (!view) {
      throw new GatewayError('INTERLOCK_NOT_FOUND', `No live actor at '${at}' (never activated, or passivated while idle). Send it an event to activate it.`);
    }
    return {
      address: view.address,
      kind: view.kind,
      status: view.status,
      state: view.state ?? null,
      context: view.context ?? null,
      depth: view.depth,
      postponed: view.postponed,
      inFlight: view.inFlight,
      restarts: view.restarts,
    };
  });

  app.get<{ Querystring: { kind?: string; limit?: string; after?: string; q?: string } }>('/v1/actors', { schema: listSchema }, async (request) => {
    const { kind, after, q } = request.query;
    const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
    if (kind !== undefined && !known().has(kind)) throw errors.unknownKind(`${kind}/*`, kind, [...known()]);
    // Sorted by address, paged by the last address seen: stable while actors come and go.
    let all = runtime.addresses(kind);
    if (q) all = all.filter((a) => a.includes(q));
    all.sort();
    // Stryker disable next-line ConditionalExpression: 'false' is equivalent: sortedIndexAfter(all, undefined) is 0 (no string is <= undefined)
    const start = after === undefined ? 0 : sortedIndexAfter(all, after);
    const page = all.slice(start, start + limit);
    const data = page.map((a) => {
      // addresses() and view() read the same activations, and nothing runs between them (no await): every listed address has a view.
      const v = runtime.view(a)!;
      // The context is not listed (GET /v1/actors/{kind}/{key} has it): a page of 1,000 stays small.
      return { address: a, kind: v.kind, status: v.status, state: v.state ?? null, depth: v.depth, postponed: v.postponed, inFlight: v.inFlight, restarts: v.restarts };
    });
    const more = start + limit < all.length;
    return { object: 'list', data, has_more: more, next_after: more ? page.at(-1)! : null };
  });
}

/** Index of the first element greater than `after` in a sorted array. */
function sortedIndexAfter(sorted: string[], after: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
