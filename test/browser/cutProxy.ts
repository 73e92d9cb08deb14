/**
 * A tiny TCP proxy on 127.0.0.1:0 in front of a server, for tests that must lose a
 * connection at a point they choose: `cut()` destroys both sides of every live connection
 * at once, as a dropped network path would (no FIN the server could answer, no response
 * end). It reads the request heads that pass through (method, path, `Last-Event-ID`) so a
 * test can check what a client sent when it reconnected, and it answers one path itself,
 * `PAGE_PATH`, with a small HTML page, so a browser page can be same-origin with the server
 * behind it without the server serving pages.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export const PAGE_PATH = '/__proxy_page';

export interface RequestHead {
  /** Which proxied connection carried it (1, 2, … in accept order). */
  readonly connection: number;
  readonly method: string;
  readonly path: string;
  readonly lastEventId: string | undefined;
}

export interface CutProxy {
  /** http://127.0.0.1:port */
  readonly origin: string;
  /** Every request head sent to the server through the proxy, in order. */
  readonly requests: RequestHead[];
  /** Destroys both sides of every live connection; returns how many were live. */
  cut(): number;
  close(): Promise<void>;
}

export async function startCutProxy(target: { host: string; port: number }, page: string): Promise<CutProxy> {
  const requests: RequestHead[] = [];
  const live = new Set<{ client: Socket; upstream: Socket | undefined }>();
  let accepted = 0;

  const server: Server = createServer((client) => {
    const n = ++accepted;
    const pair: { client: Socket; upstream: Socket | undefined } = { client, upstream: undefined };
    live.add(pair);
    const heads = headReader((head) => requests.push({ connection: n, ...head }));
    const pending: Buffer[] = [];
    let answered = false;
    client.on('data', (chunk: Buffer) => {
      heads(chunk);
      if (pair.upstream) return void pair.upstream.write(chunk);
      if (answered) return;
      pending.push(chunk);
      const text = Buffer.concat(pending).toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      if (text.startsWith(`GET ${PAGE_PATH} `)) {
        answered = true;
        client.end(`HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(page)}\r\nconnection: close\r\n\r\n${page}`);
        return;
      }
      const upstream = connect(target.port, target.host);
      pair.upstream = upstream;
      for (const part of pending.splice(0)) upstream.write(part);
      upstream.on('data', (data: Buffer) => client.write(data));
      upstream.on('end', () => client.end());
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => {
        client.destroy();
        live.delete(pair);
      });
    });
    client.on('end', () => pair.upstream?.end());
    // A cut or the browser going away: both ends go, nothing is reported (the test reads `requests`).
    client.on('error', () => pair.upstream?.destroy());
    client.on('close', () => {
      pair.upstream?.destroy();
      live.delete(pair);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const cut = (): number => {
    const n = live.size;
    for (const pair of live) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    live.clear();
    return n;
  };
  return {
    origin,
    requests,
    cut,
    close() {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Feeds on the client's bytes and reports each request head in them. The requests a
 * browser sends through this proxy are GETs; a body announced by content-length is skipped.
 */
function headReader(report: (head: Omit<RequestHead, 'connection'>) => void): (chunk: Buffer) => void {
  let buffer = '';
  let skip = 0;
  return (chunk) => {
    buffer += chunk.toString('latin1');
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buffer.length);
        buffer = buffer.slice(n);
        skip -= n;
        if (skip > 0) return;
      }
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buffer.slice(0, end).split('\r\n');
      buffer = buffer.slice(end + 4);
      const [method = '', path = ''] = lines[0]!.split(' ');
      const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
      report({ method, path, lastEventId: header('last-event-id') });
      skip = Number(header('content-length') ?? 0);
    }
  };
}
