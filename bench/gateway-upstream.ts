/**
 * The timestamping upstream of the gateway supersede bench: node:http on 127.0.0.1, port
 * 0, an OpenAI-style SSE reply per request (a prompt starting with `A` streams a token
 * every 5 ms until its client leaves; any other prompt sends two tokens and ends). It
 * records when each prompt's request arrived, when its response closed, and the client
 * port that carried it.
 *
 * In-process: `startTimestampingUpstream()` (times are `performance.now()`). In its own
 * process: `fork(this file)` with tsx; it sends `{ url }` when listening, then
 * `{ kind: 'arrived' | 'closed', prompt, at }` with `at` = `performance.timeOrigin +
 * performance.now()` (an epoch time in ms, comparable across processes), and closes when
 * its parent disconnects.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export interface TimestampingUpstream {
  url: string;
  /** When the request with this prompt arrived. */
  arrived: Map<string, number>;
  /** When the response for this prompt closed (its client went away, or it ended). */
  closed: Map<string, number>;
  /** The client's local port of the connection that carried this prompt. */
  ports: Map<string, number>;
  close(): Promise<void>;
}

export async function startTimestampingUpstream(
  now: () => number = () => performance.now(),
  report?: (kind: 'arrived' | 'closed', prompt: string, at: number) => void,
): Promise<TimestampingUpstream> {
  const arrived = new Map<string, number>();
  const closed = new Map<string, number>();
  const ports = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { messages: { role: string; content: string }[] };
      const prompt = body.messages.filter((m) => m.role === 'user').at(-1)!.content;
      const at = now();
      arrived.set(prompt, at);
      report?.('arrived', prompt, at);
      ports.set(prompt, req.socket.remotePort!);
      res.on('close', () => {
        const at = now();
        closed.set(prompt, at);
        report?.('closed', prompt, at);
      });
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
    ports,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const send = process.send.bind(process);
  const up = await startTimestampingUpstream(
    () => performance.timeOrigin + performance.now(),
    (kind, prompt, at) => send({ kind, prompt, at }),
  );
  send({ url: up.url });
  process.on('disconnect', () => void up.close().then(() => process.exit(0)));
}
