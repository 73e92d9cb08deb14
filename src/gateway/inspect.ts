/**
 * What the inspector page (and any tool) reads and does beyond the actor routes: the kinds
 * and each kind's machine as a statechart graph, an actor's mailbox, and two controls,
 * cancel the running turn and revive a failed actor. Same auth as every route. Only what a
 * kind publishes leaves: graphs are structure, mailboxes show event types (payload only
 * through the kind's `eventView`). Routes and shapes: docs/inspector.md.
 */
import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';
import type { MachineGraph } from '../inspect/machineGraph.js';
import type { Runtime } from '../runtime/Runtime.js';
import { GatewayError } from './httpErrors.js';
import { KIND_PATTERN, viewSchema } from './schemas.js';

interface AddressParams {
  kind: string;
  key: string;
}

const kindSchema = {
  params: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', pattern: KIND_PATTERN } } },
} as const;

export function inspectRoutes(app: FastifyInstance, runtime: Runtime): void {
  const kinds = runtime.kinds();
  const byName = new Map(kinds.map((k) => [k.name, k]));
  // Machines are fixed at createRuntime: each graph is built once, on first request.
  const graphs = new Map<string, MachineGraph>();
  const graph = (kind: string): MachineGraph => {
    let g = graphs.get(kind);
    if (!g) graphs.set(kind, (g = runtime.machine(kind)));
    return g;
  };
  const live = (params: AddressParams): string => {
    const address = `${params.kind}/${params.key}`;
    if (!byName.has(params.kind)) throw errors.unknownKind(address, params.kind, [...byName.keys()]);
    if (!runtime.view(address)) {
      throw new GatewayError('INTERLOCK_NOT_FOUND', `No live actor at '${address}' (never activated, or passivated while idle). Send it an event to activate it.`);
    }
    return address;
  };

  app.get('/v1/kinds', async () => ({
    object: 'list',
    data: kinds.map((k) => ({
      name: k.name,
      machine: graph(k.name).machine,
      publicEvents: k.publicEvents,
      answers: k.answers ?? null,
      cancelEvent: k.cancelEvent ?? null,
      terminal: k.terminal,
      maxActive: k.maxActive ?? null,
      active: runtime.addresses(k.name).length,
    })),
  }));

  app.get<{ Params: { kind: string } }>('/v1/kinds/:kind/machine', { schema: kindSchema }, async (request) => {
    // An unknown kind: runtime.machine throws INTERLOCK_UNKNOWN_KIND (404), naming the kinds.
    return graph(request.params.kind);
  });

  app.get<{ Params: AddressParams }>('/v1/actors/:kind/:key/mailbox', { schema: viewSchema }, async (request) => runtime.mailbox(live(request.params)));

  app.post<{ Params: AddressParams }>('/v1/actors/:kind/:key/cancel', { schema: viewSchema }, async (request) => {
    const address = live(request.params);
    if (byName.get(request.params.kind)!.cancelEvent === undefined) {
      throw new GatewayError(
        'INTERLOCK_NOT_CANCELLABLE',
        `Kind '${request.params.kind}' has no cancelEvent, so a running turn of '${address}' cannot be cancelled from outside. Give the kind a cancelEvent.`,
      );
    }
    return { address, cancelled: runtime.cancel(address) };
  });

  app.post<{ Params: AddressParams }>('/v1/actors/:kind/:key/revive', { schema: viewSchema }, async (request) => {
    const address = live(request.params);
    // live() found the actor, and neither revive() nor its refusal removes it: its view is there.
    if (!runtime.revive(address)) {
      throw new GatewayError('INTERLOCK_NOT_FAILED', `'${address}' is ${runtime.view(address)!.status}, not failed: only a failed actor can be revived.`);
    }
    return { address, revived: true, status: runtime.view(address)!.status };
  });
}
