/**
 * The `interlock.v1` server on a real socket for tests (node:http on 127.0.0.1, port 0,
 * `attachWebSocket`), over a runtime with a test kind, and a raw `ws` client that speaks
 * the protocol by hand (no client library): it records every message (array frames
 * unpacked in order) and the close code.
 */
import { createServer, type Server } from 'node:http';
import { assign, setup } from 'xstate';
import WebSocket from 'ws';
import { createRuntime, reply, type KindConfig } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { attachWebSocket, type WebSocketTransport } from '../../src/transport/attachWebSocket.js';
import type { WebSocketOptions } from '../../src/transport/options.js';
import { SUBPROTOCOL, type ServerMessage } from '../../src/transport/protocol.js';

export const SECRET = 'sk-test-7f3a9c';

const blobs = new Map<number, string>();
/**
 * One flat string per size, shared by every actor that holds it (so memory readings see the
 * transport, not copies). It has a newline every 100 characters, so its JSON is a new
 * string each time it is encoded (nothing of it is shared with the blob).
 */
export function blob(size: number): string {
  let b = blobs.get(size);
  if (b === undefined) {
    b = JSON.parse(JSON.stringify(`${'x'.repeat(99)}\n`.repeat(Math.ceil(size / 100)).slice(0, size))) as string;
    blobs.set(size, b);
  }
  return b;
}

export interface VaultContext {
  n: number;
  secret: string;
  blob: string;
}

/** A counter that holds a secret its kind's view keeps in: `inc`, `get` (ask), `big` (a large public field), `never` (an ask nobody answers), `boom` (throws), `admin` (handled, not public). */
export const vaultMachine = setup({
  types: {} as {
    context: VaultContext;
    events: { type: 'inc' } | { type: 'get' } | { type: 'big'; size: number } | { type: 'never' } | { type: 'boom' } | { type: 'admin' } | { type: 'bigint' };
  },
}).createMachine({
  context: { n: 0, secret: SECRET, blob: '' },
  on: {
    inc: { actions: assign({ n: ({ context }) => context.n + 1 }) },
    get: { actions: reply(({ context }) => context.n) },
    big: { actions: assign({ n: ({ context }) => context.n + 1, blob: ({ event }) => blob(event.size) }) },
    never: {},
    bigint: { actions: reply(() => 10n) },
    boom: {
      actions: () => {
        throw new Error(`machine failure holding ${SECRET}`);
      },
    },
    admin: { actions: assign({ n: 0 }) },
  },
});

export const vaultKind = (replay?: number): KindConfig<typeof vaultMachine> => ({
  machine: vaultMachine,
  view: (c) => ({ n: c.n, blob: c.blob }),
  publicEvents: ['inc', 'get', 'big', 'never', 'boom', 'bigint'],
  ...(replay === undefined ? {} : { replay }),
});

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

export interface TestServer {
  readonly rt: Runtime;
  readonly server: Server;
  readonly transport: WebSocketTransport;
  readonly url: string;
  readonly port: number;
  readonly logs: LogLine[];
  close(): Promise<void>;
}

const open = new Set<TestServer>();

export async function startServer(options: WebSocketOptions & { kinds?: Record<string, KindConfig>; replay?: number } = {}): Promise<TestServer> {
  const { kinds, replay, ...ws } = options;
  const rt = createRuntime({ kinds: { vault: vaultKind(replay) as KindConfig, ...kinds } }) as unknown as Runtime;
  const server = createServer((_req, res) => res.writeHead(404).end());
  const logs: LogLine[] = [];
  const log = (level: LogLine['level']) => (fields: object, msg: string) => void logs.push({ level, msg, fields: fields as Record<string, unknown> });
  const transport = attachWebSocket(server, rt, { logger: { info: log('info'), warn: log('warn'), error: log('error') }, ...ws });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  let closed: Promise<void> | undefined;
  const s: TestServer = {
    rt,
    server,
    transport,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    logs,
    close() {
      closed ??= (async () => {
        open.delete(s);
        await transport.close();
        await rt.shutdown({ drain: false });
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closed;
    },
  };
  open.add(s);
  return s;
}

export async function closeAllServers(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
  await Promise.all([...clients].map((c) => c.terminate()));
}

export interface ConnectOptions {
  token?: string;
  /** Send the token as `Authorization: Bearer` instead of `?token=`. */
  header?: boolean;
  headers?: Record<string, string>;
  protocols?: string[];
  /** Send connection_init (with these payload fields) and wait for the ack. Default true. */
  init?: false | { token?: string; batch?: boolean };
  autoPong?: boolean;
  path?: string;
}

const clients = new Set<RawClient>();

/** A `ws` client speaking interlock.v1 by hand. */
export class RawClient {
  readonly messages: ServerMessage[] = [];
  /** Raw frames as received (strings), for checks on what crossed the wire. */
  readonly frames: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      this.frames.push(text);
      const parsed = JSON.parse(text) as ServerMessage | ServerMessage[];
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) this.messages.push(m);
      this.wake();
    });
    ws.on('error', () => undefined); // the close event carries what the tests assert
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number, reason: Buffer) => {
        clients.delete(this);
        this.wake();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  static async connect(server: TestServer | string, options: ConnectOptions = {}): Promise<RawClient> {
    const base = typeof server === 'string' ? server : server.url.replace(/\/ws$/, '');
    const q = options.token !== undefined && !options.header ? `?token=${encodeURIComponent(options.token)}` : '';
    const headers = { ...(options.header && options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
    const ws = new WebSocket(`${base}${options.path ?? '/ws'}${q}`, options.protocols ?? [SUBPROTOCOL], {
      headers,
      autoPong: options.autoPong ?? true,
      perMessageDeflate: false,
    });
    const client = new RawClient(ws);
    clients.add(client);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    if (options.init !== false) {
      client.send({ type: 'connection_init', ...(options.init ? { payload: options.init } : {}) });
      await client.until((m) => m.type === 'connection_ack');
    }
    return client;
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message (from the start) matching `pred`, waiting for it (bounded). */
  async until<T extends ServerMessage = ServerMessage>(pred: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<T> {
    const t0 = Date.now();
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found as T;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`closed before a matching message; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Messages for one id. */
  of(id: string): ServerMessage[] {
    return this.messages.filter((m) => 'id' in m && m.id === id);
  }

  terminate(): void {
    this.ws.terminate();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Opens an upgrade that the server must refuse; returns its status and JSON body. */
export function refused(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [SUBPROTOCOL], { headers: options.headers ?? {} });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as { error: { code: string; message: string } } });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
  });
}

/** Polls `done` every 5 ms until it holds (bounded). */
export async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
