/**
 * The `authorize` hook on the HTTP routes, so a token limited to some addresses (say
 * `session/<its own ids>`) is held to them on every surface, not only the WebSocket and the
 * SSE stream: reading an actor (state, mailbox) asks `subscribe`, `ask` and chat ask `ask`,
 * everything else that acts on an actor (tell, cancel, revive) asks `send`. The actor list
 * asks `subscribe` for the pattern it covers (`kind/*` or `*`). A refusal is 403
 * INTERLOCK_FORBIDDEN before the route runs. Routes that call the hook themselves (the SSE
 * stream, config `queryToken`) and those that hold no actor data (kinds, machine graphs,
 * health, the page) are left alone.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';
import { bearerToken } from './auth.js';
import type { Authorize, AuthorizeRequest } from '../transport/options.js';

type Target = Omit<AuthorizeRequest, 'token'>;

function target(request: FastifyRequest, sessionKind: string): Target | undefined {
  // Fastify gives every request params and query objects (empty ones at least).
  const params = request.params as { kind?: unknown; key?: unknown };
  // Only a request no route matched (the 404 handler) has no route url.
  // Stryker disable next-line StringLiteral: any fallback that ends in neither '/v1/actors' nor '/v1/chat/completions' asks nothing, as '' does
  const path = request.routeOptions.url ?? '';
  // HEAD is Fastify's automatic twin of each GET route: it runs the GET handler, so it reads.
  const reads = request.method === 'GET' || request.method === 'HEAD';
  // Stryker disable next-line ConditionalExpression: every route with a :key param has a :kind param before it (actors, inspect, events), so `kind → true` changes nothing; the whole condition's `true` / `false` are killed by route-authorization
  if (typeof params.kind === 'string' && typeof params.key === 'string') {
    const address = `${params.kind}/${params.key}`;
    if (reads) return { address, pattern: false, action: 'subscribe' };
    return { address, pattern: false, action: path.endsWith('/ask') ? 'ask' : 'send' };
  }
  // Stryker disable next-line ConditionalExpression: no route but GET /v1/actors (and its HEAD) has a url ending in '/v1/actors', so `reads → true` changes nothing; `→ false` and the url check are killed by route-authorization
  if (path.endsWith('/v1/actors') && reads) {
    const kind = (request.query as { kind?: unknown }).kind;
    return { address: typeof kind === 'string' ? `${kind}/*` : '*', pattern: true, action: 'subscribe' };
  }
  if (path.endsWith('/v1/chat/completions')) {
    const id = request.headers['x-session-id'];
    // Without an id the request gets a fresh session of its own: nobody else's.
    if (typeof id === 'string') return { address: `${sessionKind}/${id}`, pattern: false, action: 'ask' };
  }
  return undefined;
}

export function authorizeRoutes(app: FastifyInstance, authorize: Authorize, sessionKind: string): void {
  app.addHook('preHandler', async (request) => {
    if ((request.routeOptions.config as { queryToken?: boolean }).queryToken === true) return;
    const t = target(request, sessionKind);
    if (t === undefined) return;
    if ((await authorize({ token: bearerToken(request.headers.authorization), ...t })) !== true) {
      throw errors.forbidden(t.address, t.action);
    }
  });
}
