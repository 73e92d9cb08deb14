/**
 * Streamed chats end to end, as in seed 002's test plan: a {@link world} (the real-HTTP
 * upstream fixture → the real `openAICompatible` provider, its requests traced → a
 * gateway on a real socket, with a tap on every chunk it writes to a client), and a
 * {@link Curl}: one streamed chat request read to its end, or killed.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { openAICompatible } from '../../src/providers/openAICompatible.js';
import type { Provider } from '../../src/providers/types.js';
import { startUpstream, type Upstream } from '../fixtures/upstream.js';
import { TracingFetch } from '../scenarios/helpers-002.js';
import { closeAll, MODEL, startGateway, type TestGatewayOptions, type TestGateway } from './helpers.js';
import { sseData } from './sse.js';

/** A chunk the gateway wrote to a client (`chunkChannel`). */
export interface Written {
  trace: string;
  session: string;
  text: string;
}

export interface World {
  gw: TestGateway;
  upstream: Upstream;
  tracing: TracingFetch;
  /** Every chunk the gateway wrote to a client, in write order. */
  written: Written[];
}

const upstreams: Upstream[] = [];
const taps: ((m: unknown) => void)[] = [];

/** Closes every world's gateway, tap and upstream (call it in afterEach). */
export async function closeWorlds(): Promise<void> {
  for (const t of taps.splice(0)) unsubscribe('interlock.gateway.chunk', t);
  await closeAll();
  for (const u of upstreams.splice(0)) await u.close();
}

export async function world(
  options: { cleanupDeadlineMs?: number; wrap?: (p: Provider) => Provider; gateway?: TestGatewayOptions['gateway'] } = {},
): Promise<World> {
  const upstream = await startUpstream({ tokens: 5, delayMs: 10 });
  upstreams.push(upstream);
  const tracing = new TracingFetch();
  const http = openAICompatible({ baseURL: upstream.url, model: 'fixture-model', fetch: tracing.fetch });
  const gw = await startGateway({
    provider: options.wrap ? options.wrap(http) : http,
    session: { cleanupDeadlineMs: options.cleanupDeadlineMs ?? 2_000 },
    ...(options.gateway === undefined ? {} : { gateway: options.gateway }),
  });
  const written: Written[] = [];
  const tap = (m: unknown) => void written.push(m as Written);
  subscribe('interlock.gateway.chunk', tap);
  taps.push(tap);
  return { gw, upstream, tracing, written };
}

/** One curl: a streamed chat request read to its end (or aborted). */
export class Curl {
  readonly contents: string[] = [];
  readonly errors: { code: string }[] = [];
  status = 0;
  trace = '';
  done = false;
  finishes: string[] = [];
  readonly ended: Promise<void>;
  readonly firstChunk: Promise<void>;
  private readonly abort = new AbortController();

  constructor(url: string, prompt: string, session?: string, headers: Record<string, string> = {}) {
    let first!: () => void;
    this.firstChunk = new Promise((r) => (first = r));
    this.ended = (async () => {
      try {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          signal: this.abort.signal,
          headers: { 'content-type': 'application/json', ...(session === undefined ? {} : { 'x-session-id': session }), ...headers },
          body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: prompt }] }),
        });
        this.status = res.status;
        this.trace = res.headers.get('x-request-id') ?? '';
        if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
          this.errors.push(((await res.json()) as { error: { code: string } }).error);
          return;
        }
        for await (const data of sseData(res.body as AsyncIterable<Uint8Array>)) {
          if (data === '[DONE]') {
            this.done = true;
            continue;
          }
          const json = JSON.parse(data) as { error?: { code: string }; choices?: { delta: { content?: string }; finish_reason: string | null }[] };
          if (json.error) this.errors.push(json.error);
          const choice = json.choices?.[0];
          if (choice?.delta.content) {
            this.contents.push(choice.delta.content);
            first();
          }
          if (choice?.finish_reason) this.finishes.push(choice.finish_reason);
        }
      } catch (err) {
        if (!this.abort.signal.aborted) throw err;
      }
    })();
  }

  /** The client goes away, like the seed's `kill $PID`. */
  kill(): void {
    this.abort.abort();
  }

  outcome(): string {
    if (this.errors.length > 0) return this.errors.map((e) => e.code).join(',');
    return this.done && this.finishes.join() === 'stop' ? 'done' : `incomplete (${this.finishes.join()})`;
  }
}
