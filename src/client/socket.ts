/**
 * The little of a WebSocket the client uses, so it runs on a browser's `WebSocket`, on the
 * `ws` package in Node, or on any constructor a caller injects (a test double, a polyfill).
 * No DOM types: the published declarations must type-check in a Node-only app.
 */

/** The WebSocket events the client reads; browsers and `ws` both deliver these shapes. */
export interface SocketMessageEvent {
  readonly data: unknown;
}
export interface SocketCloseEvent {
  readonly code: number;
  readonly reason: string;
}
export interface SocketErrorEvent {
  /** `ws` sets it (`Unexpected server response: 401`); browsers do not. */
  readonly message?: string;
}

/**
 * The handlers take `any` so that the DOM's `WebSocket` (whose handlers take a DOM
 * `MessageEvent` and a `this`) and `ws`'s are both assignable; the client reads only the
 * fields of the event interfaces above.
 */
export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server chose. */
  readonly protocol: string;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from `ws` in
 * Node. It is called as `new WebSocket(url, 'interlock.v1', options)`: constructors that
 * take options (`ws`) get the `Authorization` header and `perMessageDeflate: false`,
 * browsers ignore the third argument.
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `WebSocket.OPEN` (the same number everywhere). */
export const OPEN = 1;

/** The HTTP status in `ws`'s error for a refused upgrade (`Unexpected server response: 401`). */
export function refusedStatus(event: SocketErrorEvent | undefined): number | undefined {
  // Stryker disable next-line StringLiteral: any string without that text matches nothing, as '' does
  const m = /Unexpected server response: (\d{3})/.exec(event?.message ?? '');
  return m ? Number(m[1]) : undefined;
}
