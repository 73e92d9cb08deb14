/**
 * A small real `interlock.v1` server for the client's protocol tests: a `ws` server on
 * 127.0.0.1, port 0, that acks `connection_init`, answers pings, keeps a numbered record
 * log per address and serves `subscribe` (with `since`) from it, and lets each test script
 * the rest (answers to ask/send, closes, refusals, garbage). Not the Interlock server: a
 * test double of its protocol, so the client's own logic can be driven into every corner.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClientMessage, ResumeFrom, ServerMessage } from '../../src/transport/protocol.js';

export interface FakeRecord {
  address: string;
  epoch: number;
  seq: number;
  type: string;
  data: unknown;
  recovered?: false;
}

export interface FakeConn {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  readonly received: ClientMessage[];
  /** Resolves with the next message of `type` received after the call (or one already received and not yet taken). */
  next<T extends ClientMessage['type']>(type: T): Promise<Extract<ClientMessage, { type: T }>>;
  send(message: ServerMessage | Record<string, unknown>): void;
  sendRaw(data: string): void;
  readonly closed: Promise<{ code: number; reason: string }>;
}

export interface FakeOptions {
  /** Answer `connection_init` (default true); false leaves the client waiting for its ack. */
  ack?: boolean;
  heartbeatMs?: number;
  /** HTTP status to refuse upgrades with, while set. */
  refuseWith?: number;
  /** Replay this many already-delivered records before the resume point (overlap the client must drop). */
  overlap?: number;
  /** Do not answer app-level pings. */
  mute?: boolean;
  /** Called for ask/send (and anything else the fake does not handle itself). */
  onRequest?: (conn: FakeConn, message: ClientMessage) => void;
}

export interface FakeServer {
  readonly url: string;
  readonly connections: FakeConn[];
  readonly options: FakeOptions;
  /** Resolves with the next connection not yet handed out (in the order they were accepted). */
  nextConnection(): Promise<FakeConn>;
  /** Appends a record to an address's log and sends it to its subscribers. */
  publish(address: string, type?: string, data?: unknown, epoch?: number): FakeRecord;
  /** Sends a record as is to the subscribers of its address, without logging it. */
  push(record: FakeRecord): void;
  /** Live subscription ids per connection. */
  subscriptions(conn: FakeConn): Map<string, { address: string | undefined; pattern: string | undefined }>;
  close(): Promise<void>;
}

export async function fakeServer(options: FakeOptions = {}): Promise<FakeServer> {
  const http = createServer((_, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (set) => (set.has('interlock.v1') ? 'interlock.v1' : false) });
  const connections: FakeConn[] = [];
  const waiting: ((c: FakeConn) => void)[] = [];
  /** How many connections nextConnection() has handed out, in order. */
  let handed = 0;
  const logs = new Map<string, FakeRecord[]>();
  const subs = new Map<FakeConn, Map<string, { address: string | undefined; pattern: string | undefined }>>();

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (options.refuseWith !== undefined) {
      socket.end(`HTTP/1.1 ${options.refuseWith} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
  });

  const matches = (s: { address: string | undefined; pattern: string | undefined }, address: string) =>
    s.address === address || (s.pattern !== undefined && (s.pattern === '*' || (s.pattern.endsWith('/*') && address.startsWith(s.pattern.slice(0, -1)))));

  function accept(socket: WebSocket, request: IncomingMessage): void {
    const received: ClientMessage[] = [];
    const taken = new Set<ClientMessage>();
    const waiters: { type: string; resolve: (m: ClientMessage) => void }[] = [];
    let onClose!: (v: { code: number; reason: string }) => void;
    const conn: FakeConn = {
      socket,
      request,
      received,
      next: (type) =>
        new Promise((resolve) => {
          const already = received.find((m) => m.type === type && !taken.has(m));
          if (already) {
            taken.add(already);
            resolve(already as never);
          } else waiters.push({ type, resolve: resolve as (m: ClientMessage) => void });
        }),
      send: (message) => socket.send(JSON.stringify(message)),
      sendRaw: (data) => socket.send(data),
      closed: new Promise((resolve) => (onClose = resolve)),
    };
    const mine = new Map<string, { address: string | undefined; pattern: string | undefined }>();
    subs.set(conn, mine);
    socket.on('close', (code, reason) => {
      subs.delete(conn);
      onClose({ code, reason: reason.toString() });
    });
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as ClientMessage;
      received.push(message);
      const w = waiters.findIndex((x) => x.type === message.type);
      if (w >= 0) {
        taken.add(message);
        waiters.splice(w, 1)[0]!.resolve(message);
      }
      switch (message.type) {
        case 'connection_init':
          if (options.ack !== false) conn.send({ type: 'connection_ack', payload: { epoch: 1, heartbeatMs: options.heartbeatMs ?? 0 } });
          return;
        case 'ping':
          if (!options.mute) conn.send({ type: 'pong' });
          return;
        case 'pong':
          return;
        case 'subscribe': {
          const { address, pattern } = message.payload;
          // An address's since is a point (a pattern's, a map of points, is not served here).
          const since = message.payload.since as ResumeFrom | undefined;
          mine.set(message.id, { address, pattern });
          if (address !== undefined && since !== undefined) {
            const log = logs.get(address) ?? [];
            const from = Math.max(0, since.seq - (options.overlap ?? 0));
            for (const r of log) if (r.epoch === since.epoch && r.seq > from) conn.send({ type: 'next', id: message.id, payload: r });
          }
          return;
        }
        case 'complete':
          mine.delete(message.id);
          options.onRequest?.(conn, message);
          return;
        default:
          options.onRequest?.(conn, message);
      }
    });
    connections.push(conn);
    const waiter = waiting.shift();
    if (waiter) {
      handed++;
      waiter(conn);
    }
  }

  function push(record: FakeRecord): void {
    for (const [conn, mine] of subs) {
      for (const [id, s] of mine) if (matches(s, record.address)) conn.send({ type: 'next', id, payload: record });
    }
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    connections,
    options,
    nextConnection: () => new Promise((resolve) => (handed < connections.length ? resolve(connections[handed++]!) : waiting.push(resolve))),
    publish(address, type = 'emitted', data = null, epoch = 1) {
      const log = logs.get(address) ?? [];
      logs.set(address, log);
      const last = log.filter((r) => r.epoch === epoch).at(-1);
      const record: FakeRecord = { address, epoch, seq: (last?.seq ?? 0) + 1, type, data };
      log.push(record);
      push(record);
      return record;
    },
    push,
    subscriptions: (conn) => subs.get(conn) ?? new Map(),
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
