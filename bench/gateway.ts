/**
 * Gateway benchmarks (issue 9), from src/ through tsx (the gateway is its own entry,
 * not part of the index bundle the other suites measure).
 *
 * 1. Supersede through HTTP: a session streams prompt A from a real-HTTP upstream; prompt
 *    B for the same session reaches the gateway (its onRequest hook: t0). On one clock
 *    (everything runs in this process): t0 → A's response closed on the upstream server,
 *    and t0 → B's request arrived at the upstream; p50 / p99 over GATEWAY_TRIALS trials
 *    (default 200). Also: a client hangs up (t0 = the gateway's socket 'close') → the
 *    session ended its stream (stream.end on the bus), the "within 100 ms",
 *    measured here and not asserted in tests.
 * 2. Streaming: N concurrent streams (GATEWAY_LEVELS, default 1,100,1000,5000), each 50
 *    tokens 10 ms apart from an in-process provider that stamps each token with its emit
 *    time, through the gateway and through a raw Fastify SSE endpoint writing the same
 *    provider's chunks in the same frame format, in the same run. Chunks/s received by
 *    the clients, and p99 of (receipt − emit) per chunk.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance } from 'fastify';
import { createRuntime, openAICompatible, type BusRecord, type KindConfig, type Provider, type ProviderChunk } from '../src/index.js';
import { createGatewayServer, type GatewayServer } from '../src/gateway/createGatewayServer.js';
import { gatewaySessionKind } from '../src/gateway/sessionKind.js';
import type { Runtime } from '../src/runtime/Runtime.js';
import { check, type Case } from './harness.js';

export const TRIALS = Number(process.env.GATEWAY_TRIALS ?? 200);
export const LEVELS = (process.env.GATEWAY_LEVELS ?? '1,100,1000,5000').split(',').map(Number);
export const TOKENS = 50;
export const TOKEN_MS = 10;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

// ---- a timestamping upstream (node:http, 127.0.0.1, port 0) -----------------------------

interface Upstream {
  url: string;
  /** performance.now() when the request with this prompt arrived. */
  arrived: Map<string, number>;
  /** performance.now() when the response for this prompt closed (client went away or ended). */
  closed: Map<string, number>;
  close(): Promise<void>;
}

async function upstream(): Promise<Upstream> {
  const arrived = new Map<string, number>();
  const closed = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { messages: { role: string; content: string }[] };
      const prompt = body.messages.filter((m) => m.role === 'user').at(-1)!.content;
      arrived.set(prompt, performance.now());
      res.on('close', () => closed.set(prompt, performance.now()));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const long = prompt.startsWith('A');
      let i = 0;
      const frame = (content: string, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'b', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: content ? { content } : {}, finish_reason: finish }] })}\n\n`;
      const step = () => {
        if (res.destroyed) return;
        if (i < (long ? 100_000 : 2)) {
          res.write(frame(` t${i++}`, null));
          setTimeout(step, long ? 5 : 1).unref();
        } else res.end(frame('', 'stop') + 'data: [DONE]\n\n');
      };
      step();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    arrived,
    closed,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function gatewayOver(provider: Provider, keepAliveMs = 0): Promise<{ server: GatewayServer; rt: Runtime; url: string; arrivals: Map<string, number>; hangups: Map<string, number> }> {
  const rt = createRuntime({ kinds: { session: gatewaySessionKind({ provider, maxActive: 20_000, mailboxCapacity: 16 }) as KindConfig } }) as unknown as Runtime;
  const server = await createGatewayServer(rt, { logger: false, models: ['m'], keepAliveMs, metrics: false });
  const arrivals = new Map<string, number>();
  const hangups = new Map<string, number>();
  server.app.addHook('onRequest', async (request, reply) => {
    const id = request.headers['x-bench-id'];
    if (typeof id !== 'string') return;
    arrivals.set(id, performance.now());
    reply.raw.once('close', () => hangups.set(id, performance.now()));
  });
  await server.app.listen({ port: 0, host: '127.0.0.1', backlog: 8_192 });
  return { server, rt, url: `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`, arrivals, hangups };
}

async function closeGateway(g: { server: GatewayServer; rt: Runtime }): Promise<void> {
  await g.rt.shutdown({ drain: false });
  const closing = g.server.app.close();
  g.server.app.server.closeAllConnections();
  await closing;
}

function chatRequest(url: string, session: string, prompt: string, signal?: AbortSignal, id?: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': session, ...(id ? { 'x-bench-id': id } : {}) },
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: prompt }] }),
    ...(signal ? { signal } : {}),
  });
}

/** Reads an SSE body until `stop(text)` says so, or to its end. */
async function readUntil(res: Response, stop: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
    if (stop(text)) {
      await reader.cancel();
      return text;
    }
  }
}

export function supersedeCase(): Case {
  return {
    id: 'gateway supersede through HTTP',
    size: `${TRIALS} trials`,
    reps: 1,
    metrics: [
      { key: 'closeP50', unit: 'ms', label: 'B at gateway → A upstream closed, p50' },
      { key: 'closeP99', unit: 'ms', label: 'B at gateway → A upstream closed, p99' },
      { key: 'closeMax', unit: 'ms', label: 'B at gateway → A upstream closed, max' },
      { key: 'startP50', unit: 'ms', label: 'B at gateway → B at upstream, p50' },
      { key: 'startP99', unit: 'ms', label: 'B at gateway → B at upstream, p99' },
      { key: 'startMax', unit: 'ms', label: 'B at gateway → B at upstream, max' },
      { key: 'disconnectP50', unit: 'ms', label: 'client hang-up at gateway → session ended the stream, p50' },
      { key: 'disconnectP99', unit: 'ms', label: 'client hang-up at gateway → session ended the stream, p99' },
    ],
    async run() {
      const up = await upstream();
      const g = await gatewayOver(openAICompatible({ baseURL: up.url, model: 'm' }));
      const close: number[] = [];
      const start: number[] = [];
      const disconnect: number[] = [];
      try {
        for (let t = 0; t < TRIALS; t++) {
          const session = `sup-${t}`;
          const a = await chatRequest(g.url, session, `A${t}`);
          const aBody = readUntil(a, () => false); // reads to the end (A is interrupted by B)
          await new Promise<void>((resolve) => {
            const poll = () => (up.arrived.has(`A${t}`) ? resolve() : setTimeout(poll, 1));
            poll();
          });
          const b = await chatRequest(g.url, session, `B${t}`, undefined, `B${t}`);
          const bText = await readUntil(b, () => false);
          await aBody;
          check(bText.includes('data: [DONE]'), `trial ${t}: B completed`);
          const t0 = g.arrivals.get(`B${t}`)!;
          close.push(up.closed.get(`A${t}`)! - t0);
          start.push(up.arrived.get(`B${t}`)! - t0);
        }
        // Client disconnect: a client leaves mid-stream; when did the session end that stream?
        for (let t = 0; t < Math.min(TRIALS, 100); t++) {
          const session = `dis-${t}`;
          const ended = new Promise<number>((resolve) => {
            const sub = g.rt.events(`session/${session}`).subscribe((r: BusRecord) => {
              const e = r.type === 'emitted' ? (r.data as { event: { type: string } }).event : undefined;
              if (e?.type === 'stream.end') {
                sub.unsubscribe();
                resolve(performance.now());
              }
            });
          });
          const abort = new AbortController();
          const res = await chatRequest(g.url, session, `A-dis${t}`, abort.signal, `D${t}`);
          await readUntil(res, (text) => text.includes('"content"')).catch(() => '');
          abort.abort();
          const at = await ended;
          // t0: the gateway's side of the connection closed (recorded by the hook below).
          await new Promise<void>((resolve) => {
            const poll = () => (g.hangups.has(`D${t}`) ? resolve() : setTimeout(poll, 1));
            poll();
          });
          disconnect.push(at - g.hangups.get(`D${t}`)!);
        }
      } finally {
        await closeGateway(g);
        await up.close();
      }
      return {
        closeP50: pct(close, 50),
        closeP99: pct(close, 99),
        closeMax: Math.max(...close),
        startP50: pct(start, 50),
        startP99: pct(start, 99),
        startMax: Math.max(...start),
        disconnectP50: pct(disconnect, 50),
        disconnectP99: pct(disconnect, 99),
      };
    },
  };
}

// ---- streaming throughput ----------------------------------------------------------------

/** TOKENS tokens TOKEN_MS apart, each carrying its emit time (performance.now()). */
function stampingProvider(): Provider {
  return {
    name: 'stamping',
    async *stream(_request, signal): AsyncGenerator<ProviderChunk> {
      for (let i = 0; i < TOKENS; i++) {
        await new Promise<void>((resolve, reject) => {
          const abort = () => {
            clearTimeout(timer);
            reject(new Error('aborted'));
          };
          const timer = setTimeout(() => {
            signal.removeEventListener('abort', abort);
            resolve();
          }, TOKEN_MS);
          signal.addEventListener('abort', abort, { once: true });
        });
        yield { type: 'delta', text: `@${performance.now().toFixed(3)} ` };
      }
      yield { type: 'done', finishReason: 'stop' };
    },
  };
}

async function rawSse(provider: Provider): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  app.post('/v1/chat/completions', async (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const prefix = `data: {"id":"chatcmpl-raw","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":`;
    const abort = new AbortController();
    raw.on('close', () => abort.abort());
    try {
      for await (const chunk of provider.stream({ messages: [] }, abort.signal)) {
        if (chunk.type === 'delta') raw.write(`${prefix}${JSON.stringify(chunk.text)}},"finish_reason":null}]}\n\n`);
      }
      raw.end('data: [DONE]\n\n');
    } catch {
      // The client left: nothing to write to.
    }
  });
  await app.listen({ port: 0, host: '127.0.0.1', backlog: 8_192 });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/** N concurrent streams; chunks/s received and p99 receipt − emit. */
async function drive(url: string, n: number): Promise<{ cps: number; p99: number }> {
  const latencies: number[] = [];
  let chunks = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await chatRequest(url, `st-${i}`, `S${i}`);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const at = performance.now();
        buffer += decoder.decode(value, { stream: true });
        let m: RegExpExecArray | null;
        const re = /"content":"@([0-9.]+) "/g;
        let last = 0;
        while ((m = re.exec(buffer)) !== null) {
          latencies.push(at - Number(m[1]));
          chunks++;
          last = re.lastIndex;
        }
        buffer = buffer.slice(last);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  check(chunks === n * TOKENS, `${n} streams delivered ${chunks} of ${n * TOKENS} chunks`);
  return { cps: chunks / seconds, p99: pct(latencies, 99) };
}

export function streamCases(): Case[][] {
  return LEVELS.map((n) => {
    const reps = n >= 1000 ? 1 : 3;
    let g: Awaited<ReturnType<typeof gatewayOver>> | undefined;
    let raw: Awaited<ReturnType<typeof rawSse>> | undefined;
    const metrics = [
      { key: 'cps', unit: 'chunks/s', higherIsBetter: true },
      { key: 'p99', unit: 'ms', label: 'p99 emit → client' },
    ];
    return [
      {
        id: `gateway stream ${n}/gateway`,
        size: `${n} streams × ${TOKENS} tokens`,
        reps,
        metrics,
        async run() {
          g ??= await gatewayOver(stampingProvider());
          return drive(g.url, n);
        },
        dispose: async () => {
          if (g) await closeGateway(g);
        },
      },
      {
        id: `gateway stream ${n}/raw fastify sse`,
        size: `${n} streams × ${TOKENS} tokens`,
        reps,
        metrics,
        async run() {
          raw ??= await rawSse(stampingProvider());
          return drive(raw.url, n);
        },
        dispose: async () => {
          if (raw) {
            const closing = raw.app.close();
            raw.app.server.closeAllConnections();
            await closing;
          }
        },
      },
    ];
  });
}

export function gatewayGroups(): Case[][] {
  return [[supersedeCase()], ...streamCases()];
}
