export { createGateway, type GatewayOptions, type GatewayPlugin } from './createGateway.js';
export { createGatewayServer, redactToken, type GatewayServer, type GatewayServerOptions } from './createGatewayServer.js';
export { attachWebSocket, type WebSocketTransport } from '../transport/attachWebSocket.js';
export type { WebSocketOptions, Authorize, AuthorizeRequest, TransportLogger } from '../transport/options.js';
export type { Authenticate } from './auth.js';
export { gatewaySessionKind, type GatewaySessionOptions } from './sessionKind.js';
export { GatewayCodes, STATUS, toWire, GatewayError, type GatewayCode, type WireCode, type WireError } from './httpErrors.js';
export { isLoopback } from './auth.js';
export { chunkChannel } from './chat.js';
