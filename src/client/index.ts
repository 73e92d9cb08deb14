/**
 * `interlock/client` for Node: the WebSocket client of an Interlock server (`/ws`,
 * subprotocol `interlock.v1`). It uses the `ws` package, loaded on the first connection;
 * browsers get browser.ts instead (package.json's `browser` condition), which uses the
 * global WebSocket and never names `ws`. Reference: docs/client.md.
 */
import type { Kinds } from '../runtime/handles.js';
import { Client } from './Client.js';
import type { WebSocketConstructor } from './socket.js';
import type { ClientOptions, InterlockClient } from './types.js';

export * from './shared.js';

/**
 * A client of the server at `url` (`ws://host:port/ws`; `http(s)://` works too). Nothing
 * connects until the first subscription or request (unless `lazy: false`).
 */
export function connect<K extends Kinds = Kinds>(url: string, options: ClientOptions = {}): InterlockClient<K> {
  return new Client<K>(url, options, () => options.WebSocket ?? loadWs());
}

async function loadWs(): Promise<WebSocketConstructor> {
  const { WebSocket } = await import('ws');
  return WebSocket as unknown as WebSocketConstructor;
}
