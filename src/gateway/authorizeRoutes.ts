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
import type { Authorize, AuthorizeRequest } from '../transport/options.js';

type Target = Omit<AuthorizeRequest, 'token'>;

function target(request: FastifyRequest, sessionKind: string): Target | undefined {
  const params = request.params as { kind?: unknown; key?: unknown } | undefined;
  const path = request.routeOptions.url ?? '';
  if (typeof params?.kind === 'string' && typeof params.key === 'string') {
    const address = `${params.kind}/${params.key}`;
    if (request.method === 'GET') return { address, pattern: false, action: 'subscribe' };
    return { address, pattern: false, action: path.endsWith('/ask') ? 'ask' : 'send' };
  }
  if (path.endsWith('/v1/actors') && request.method === 'GET') {
    const kind = (request.query as { kind?: unknown } | undefined)?.kind;
    return { address: typeof kind === 'string' ? `${kind}/*` : '*', pattern: true, action: 'subscribe' };
  }
  if (path.endsWith('/v1/chat/completions')) {
    const id = request.headers['x-session-id'];
    // Without an id the request gets a fresh session of its own: nobody else's.
    if (typeof id === 'string') return { address: `${sessionKind}/${id}`, pattern: false, action: 'ask' };
  }
  return undefined;
}

function tokenOf(request: FastifyRequest): string | undefined {
  const match = /^Bearer[ ]+(.+)$/i.exec(request.headers.authorization ?? '');
  return match ? match[1]!.trim() : undefined;
}

export function authorizeRoutes(app: FastifyInstance, authorize: Authorize, sessionKind: string): void {
  app.addHook('preHandler', async (request) => {
    if ((request.routeOptions.config as { queryToken?: boolean } | undefined)?.queryToken === true) return;
    const t = target(request, sessionKind);
    if (t === undefined) return;
    if ((await authorize({ token: tokenOf(request), ...t })) !== true) {
      throw errors.forbidden(t.address, t.action);
    }
  });
}
