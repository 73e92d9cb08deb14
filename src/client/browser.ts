/**
 * `interlock/client` for browsers: the same API as the Node entry (index.ts), on the
 * global `WebSocket`. It imports nothing from Node and never names `ws`; esbuild.mjs
 * also bundles it with RxJS into dist/browser/interlock-client.js for a plain
 * `<script type="module">`. Reference: docs/client.md.
 */
import type { Kinds } from '../runtime/handles.js';
import { Client } from './Client.js';
import type { WebSocketConstructor } from './socket.js';
import type { ClientOptions, InterlockClient } from './types.js';

export * from './shared.js';

/** See index.ts: the same, with the global WebSocket as the default implementation. */
export function connect<K extends Kinds = Kinds>(url: string, options: ClientOptions = {}): InterlockClient<K> {
  // A browser cannot set headers on a WebSocket: the token rides in the URL unless told otherwise.
  return new Client<K>(url, { tokenInQuery: true, ...options }, () => {
    const Impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Impl === undefined) throw new Error('this environment has no global WebSocket');
    return Impl;
  });
}
