/**
 * A real HTTP server on 127.0.0.1, port 0, whose every reply the test writes itself: for
 * wire shapes the model-server fixture (test/fixtures/upstream.ts) does not speak (odd
 * statuses, odd headers, odd SSE, an error body that stops or breaks). The handler gets
 * the request with its body read, and the response to write when and how it likes;
 * `close()` destroys every socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Exchange {
  readonly req: IncomingMessage;
  /** The request body as text. */
  readonly body: string;
  readonly res: ServerResponse;
}

export interface ScriptedServer {
  /** Base URL ending in `/v1`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly received: readonly Exchange[];
  close(): Promise<void>;
}

export async function startScripted(handler: (exchange: Exchange) => void): Promise<ScriptedServer> {
  const received: Exchange[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const exchange = { req, body: Buffer.concat(parts).toString('utf8'), res };
      received.push(exchange);
      handler(exchange);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `data: <payload>\n\n`. */
export function sse(payload: string): string {
  return `data: ${payload}\n\n`;
}

/** One chat.completion.chunk carrying `content` as its delta. */
export function deltaEvent(content: string): string {
  return sse(JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] }));
}
