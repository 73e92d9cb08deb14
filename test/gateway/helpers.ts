/**
 * A gateway on a real socket for tests: a runtime with the gateway's session kind over
 * the given provider (default: the simulated model, fast), `createGatewayServer` on
 * 127.0.0.1 port 0, and its pino log captured as parsed lines; and a scripted model the
 * test drives call by call ({@link ScriptedModel}).
 */
import pino from 'pino';
import { InterlockError } from '../../src/errors.js';
import type { ChatRequest, Provider, ProviderChunk } from '../../src/providers/types.js';
import { waitUntil } from '../fixtures/upstream.js';
import { simulated } from '../../src/providers/simulated.js';
import { createRuntime, type KindConfig } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import type { Kinds } from '../../src/runtime/handles.js';
import type { SnapshotStore } from '../../src/store/SnapshotStore.js';
import { createGatewayServer, type GatewayServer } from '../../src/gateway/createGatewayServer.js';
import type { GatewayOptions } from '../../src/gateway/createGateway.js';
import { gatewaySessionKind, type GatewaySessionOptions } from '../../src/gateway/sessionKind.js';

export interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  trace?: string;
  session?: string;
  reason?: string;
  code?: string;
  [key: string]: unknown;
}

export interface TestGateway extends GatewayServer {
  readonly url: string;
  readonly rt: Runtime;
  readonly logs: LogLine[];
  /** Log lines of the stream vocabulary (seed 002), as `msg trace` strings, for one session. */
  vocabulary(session: string, traces: Record<string, string>): string[];
  close(): Promise<void>;
}

export const MODEL = 'interlock-test';

export interface TestGatewayOptions {
  provider?: Provider;
  session?: Omit<GatewaySessionOptions, 'provider'>;
  gateway?: GatewayOptions;
  kinds?: Kinds;
  /** The runtime's snapshot store. Default: the runtime's own (in memory). */
  store?: SnapshotStore;
  /** pino level of the captured log. Default 'info'. */
  logLevel?: string;
}

const open = new Set<TestGateway>();

export async function startGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const provider = options.provider ?? simulated({ tokensPerSecond: 2_000 });
  const rt = createRuntime({
    kinds: { session: gatewaySessionKind({ provider, ...options.session }) as KindConfig, ...options.kinds },
    ...(options.store === undefined ? {} : { store: options.store }),
  }) as unknown as Runtime;
  const logs: LogLine[] = [];
  const logger = pino({ level: options.logLevel ?? 'info' }, { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) });
  const server = await createGatewayServer(rt, { logger, models: [MODEL], keepAliveMs: 0, defaultMetrics: false, ...options.gateway });
  // A backlog above 1,000: the load test opens 1,000 connections at once (Node's default is 511).
  await server.app.listen({ port: 0, host: '127.0.0.1', backlog: 2_048 });
  const { port } = server.app.server.address() as { port: number };
  let closed: Promise<void> | undefined;
  const gw: TestGateway = {
    ...server,
    url: `http://127.0.0.1:${port}`,
    rt,
    logs,
    vocabulary(session, traces) {
      const names = new Map(Object.entries(traces).map(([name, id]) => [id, name]));
      const words = new Set(['stream_start', 'stream_cancelled', 'prev_stream_finished_cleanly', 'stream_fenced', 'stream_end']);
      return logs
        .filter((l) => words.has(l.msg) && l.session === session)
        .map((l) => `${l.msg} ${names.get(l.trace ?? '') ?? l.trace}${l.reason === undefined ? '' : ` reason=${l.reason}`}`);
    },
    close() {
      closed ??= (async () => {
        open.delete(gw);
        await rt.shutdown({ drain: false });
        // Every stream has ended with the runtime; what is left are idle keep-alive
        // connections (and undici's spare one after an abort, nodejs/undici#5845).
        const closing = server.app.close();
        server.app.server.closeAllConnections();
        await closing;
      })();
      return closed;
    },
  };
  open.add(gw);
  return gw;
}

export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((g) => g.close()));
}

/** The request id the gateway gave the chat request whose prompt was `text` (from its stream_start or failure line). */
export function traceOf(logs: LogLine[], session: string, nth = 0): string | undefined {
  return logs.filter((l) => l.msg === 'stream_start' && l.session === session)[nth]?.trace;
}

/**
 * One model call of a {@link ScriptedModel}: it yields only what the test tells it to,
 * when it tells it, so a test decides what the session has seen at every step.
 */
export class ScriptedCall {
  private readonly queue: (ProviderChunk | Error)[] = [];
  private wake: (() => void) | undefined;

  constructor(
    readonly request: ChatRequest,
    private readonly signal: AbortSignal,
    /** Keeps waiting after the abort, like a blocking model call (the session fences it at its cleanup deadline). */
    private readonly ignoreAbort: boolean,
  ) {
    if (!ignoreAbort) signal.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  /** The last user message of the request. */
  get prompt(): string {
    return this.request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  }

  /** Yields these deltas. */
  say(...texts: string[]): void {
    this.push(...texts.map((text) => ({ type: 'delta' as const, text })));
  }

  /** Ends the reply (finish_reason stop). */
  finish(): void {
    this.push({ type: 'done', finishReason: 'stop' });
  }

  /** Fails the call with `err` (after whatever it was told before). */
  fail(err: Error): void {
    this.push(err);
  }

  async *chunks(): AsyncGenerator<ProviderChunk> {
    for (;;) {
      if (this.signal.aborted && !this.ignoreAbort) throw new InterlockError('INTERLOCK_CANCELLED', 'The scripted call was aborted.');
      const next = this.queue.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (next instanceof Error) throw next;
      yield next;
      if (next.type === 'done') return;
    }
  }

  private push(...items: (ProviderChunk | Error)[]): void {
    this.queue.push(...items);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** A provider the test drives call by call (see {@link ScriptedCall}); its done chunk carries no usage. */
export class ScriptedModel {
  readonly calls: ScriptedCall[] = [];
  /** New calls ignore their abort signal. */
  ignoreAbort = false;
  readonly provider: Provider = {
    name: 'scripted',
    stream: (request, signal) => {
      const call = new ScriptedCall(request, signal, this.ignoreAbort);
      this.calls.push(call);
      return call.chunks();
    },
  };

  /** The call whose prompt is `prompt`, once the session made it. */
  async call(prompt: string): Promise<ScriptedCall> {
    await waitUntil(() => this.calls.some((c) => c.prompt === prompt), `the model was asked '${prompt}'`);
    return this.calls.find((c) => c.prompt === prompt)!;
  }
}
