/**
 * The runtime `interlock serve` runs when given nothing else: the bundled session kind
 * (chat completions) and agent kind over one provider, the simulated model by default
 * or any OpenAI-compatible server (`upstream`), in memory, with passivation on and a
 * bounded snapshot store.
 */
import { agentKind } from '../../machines/agent.js';
import type { BusyPolicy } from '../../machines/session.js';
import type { KindConfig } from '../kinds.js';
import type { Kinds } from '../runtime/handles.js';
import { createRuntime } from '../runtime/createRuntime.js';
import { openAICompatible } from '../providers/openAICompatible.js';
import { simulated } from '../providers/simulated.js';
import type { Provider } from '../providers/types.js';
import { boundedMemoryStore } from './boundedStore.js';
import { gatewaySessionKind, type GatewaySessionOptions } from './sessionKind.js';

export interface ServeRuntimeOptions {
  /** An OpenAI-compatible API root (`http://localhost:11434/v1`); default: the simulated model. */
  upstream?: string;
  model?: string;
  apiKey?: string;
  onBusy?: BusyPolicy;
  /** Tokens per second of the simulated model. Default 50. */
  tokensPerSecond?: number;
  session?: Omit<GatewaySessionOptions, 'provider' | 'onBusy'>;
  /** Snapshots of passivated actors kept at most. Default 100,000. */
  maxSnapshots?: number;
  /** Extra kinds (from --config); a kind named like a bundled one replaces it. */
  kinds?: Kinds;
}

export const SIMULATED_MODEL = 'interlock-simulated';

export function serveProvider(options: ServeRuntimeOptions): { provider: Provider; model: string } {
  if (options.upstream === undefined) {
    return { provider: simulated({ tokensPerSecond: options.tokensPerSecond ?? 50 }), model: options.model ?? SIMULATED_MODEL };
  }
  const model = options.model ?? 'default';
  return {
    // An undefined apiKey is no key to openAICompatible (no Authorization header).
    provider: openAICompatible({ baseURL: options.upstream, model, apiKey: options.apiKey }),
    model,
  };
}

export function serveRuntime(options: ServeRuntimeOptions = {}) {
  const { provider, model } = serveProvider(options);
  const store = boundedMemoryStore(options.maxSnapshots ?? 100_000);
  const agent = agentKind(
    {
      subscriptions: [{ id: 'default' }],
      // The demo agent answers a request `{ input: { message } }` with the model's reply.
      handle: async (input, ctx) => {
        const message = typeof (input as { message?: unknown })?.message === 'string' ? (input as { message: string }).message : JSON.stringify(input);
        let text = '';
        for await (const chunk of provider.stream({ messages: [{ role: 'user', content: message }] }, ctx.signal)) {
          if (chunk.type === 'delta') text += chunk.text;
          ctx.heartbeat();
        }
        return { text };
      },
      restart: async () => undefined,
    },
    { idleAfterMs: 60_000, maxActive: 10_000, mailbox: { capacity: 64 } },
  );
  const kinds: Kinds = {
    session: gatewaySessionKind({ ...options.session, provider, ...(options.onBusy === undefined ? {} : { onBusy: options.onBusy }) }) as KindConfig,
    agent,
    ...options.kinds,
  };
  // A subscriber to an actor's records (the inspector page) also gets its transitions.
  const runtime = createRuntime({ kinds, store, inspect: 'watched' });
  return { runtime, store, model };
}
