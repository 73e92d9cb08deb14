/** The `interlock.v1` WebSocket server and what the SSE route shares with it. */
export { attachWebSocket, type WebSocketTransport } from './attachWebSocket.js';
export type { WebSocketOptions, Authorize, AuthorizeRequest, TransportLogger } from './options.js';
export * from './protocol.js';
