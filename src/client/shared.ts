/** What both entries of `interlock/client` (Node: index.ts, browsers: browser.ts) export besides `connect`. */
export { ClientCodes, isInterlockError, type AnyErrorCode, type ClientCode, type ClientError } from './errors.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export type {
  ClientListeners,
  ClientOptions,
  ClientRecord,
  EventsOf,
  InterlockClient,
  ReconnectBackoff,
  RemoteActor,
  RequestOptions,
  SubscribeOptions,
  SubscribeTarget,
} from './types.js';
export { CloseCode, RETRYABLE_CLOSE_CODES, SUBPROTOCOL, type ResumeFrom, type ResumeMap, MAX_RESUME_ADDRESSES, type WirePriority, type ClientMessage, type ServerMessage } from '../transport/protocol.js';
