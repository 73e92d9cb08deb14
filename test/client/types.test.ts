/**
 * Compile-time checks of `interlock/client`'s types (run by `npx tsc --noEmit`): events are
 * typed from a machine, a machine factory, an event union or the server's kinds; internal
 * (`@`) events and unknown types do not compile. A `@ts-expect-error` line fails the
 * type-check if the error it expects disappears. Nothing here opens a socket.
 */
import type { Observable } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { setup } from 'xstate';
import { sessionMachine, type SessionEvent } from '../../machines/index.js';
import { connect, type ClientRecord, type InterlockClient, type WebSocketConstructor } from '../../src/client/index.js';

type Events = { type: 'chat'; text: string } | { type: 'cancel' } | { type: '@chat.done'; output: string };
const chat = setup({ types: {} as { context: { turns: number }; events: Events } }).createMachine({ context: { turns: 0 } });
const kinds = { chat: { machine: chat } };

// Never called: the point is what compiles.
const compileOnly = (client: InterlockClient, typed: InterlockClient<typeof kinds>) => {
  // Untyped: any { type } object.
  void client.ask('chat/1', { type: 'anything', extra: 1 });
  // @ts-expect-error an event needs a type
  void client.send('chat/1', { text: 'no type' });

  // Typed by the machine.
  const one = client.actor<typeof chat>('chat/1');
  expectTypeOf(one.send).parameter(0).toEqualTypeOf<{ type: 'chat'; text: string } | { type: 'cancel' }>();
  void one.ask<string>({ type: 'chat', text: 'hi' }).then((s) => expectTypeOf(s).toEqualTypeOf<string>());
  // @ts-expect-error an internal (task outcome) event cannot be sent from outside
  void one.send({ type: '@chat.done', output: 'FORGED' });
  // @ts-expect-error a type the machine does not know
  void one.send({ type: 'chatt', text: 'typo' });
  // @ts-expect-error a known type with a wrong field
  void one.send({ type: 'chat', text: 42 });

  // Typed by a machine factory (the bundled machines are factories), or by an event union.
  const session = client.actor<typeof sessionMachine>('session/abc');
  expectTypeOf(session.send).parameter(0).toEqualTypeOf<SessionEvent>();
  void session.ask({ type: 'prompt', text: 'hello' });
  // @ts-expect-error the session's internal event
  void session.send({ type: '@stream.closed' });
  expectTypeOf(client.actor<SessionEvent>('session/abc').send).parameter(0).toEqualTypeOf<SessionEvent>();

  // Typed by the server's kinds and the address, like runtime.ref().
  void typed.send('chat/1', { type: 'cancel' });
  // @ts-expect-error internal event through a kinds-typed client
  void typed.send('chat/1', { type: '@chat.done', output: 'x' });
  expectTypeOf(typed.actor('chat/9').send).parameter(0).toEqualTypeOf<{ type: 'chat'; text: string } | { type: 'cancel' }>();

  expectTypeOf(client.subscribe('session/*')).toEqualTypeOf<Observable<ClientRecord>>();
  expectTypeOf(one.subscribe({ since: { epoch: 1, seq: 2 } })).toEqualTypeOf<Observable<ClientRecord>>();
  expectTypeOf(client.subscribe('session/*', { since: { 'session/a': { epoch: 1, seq: 2 } } })).toEqualTypeOf<Observable<ClientRecord>>();
  // @ts-expect-error one actor resumes from one record, not a per-address map
  void one.subscribe({ since: { 'session/a': { epoch: 1, seq: 2 } } });
};

/** The shape of the DOM's WebSocket (lib.dom), written out because the repo compiles without the DOM lib. */
interface DomLikeWebSocket {
  readonly readyState: number;
  readonly protocol: string;
  onopen: ((this: DomLikeWebSocket, ev: { type: string }) => any) | null;
  onmessage: ((this: DomLikeWebSocket, ev: { data: any; origin: string }) => any) | null;
  onclose: ((this: DomLikeWebSocket, ev: { code: number; reason: string; wasClean: boolean }) => any) | null;
  onerror: ((this: DomLikeWebSocket, ev: { type: string }) => any) | null;
  send(data: string | ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}
declare const DomWebSocket: { new (url: string | URL, protocols?: string | string[]): DomLikeWebSocket; readonly OPEN: 1 };

describe('interlock/client types', () => {
  it('type events by machine, factory, union or kinds, and refuse internal or unknown events', () => {
    expectTypeOf(compileOnly).toBeFunction();
  });

  it('accept the DOM WebSocket and the ws package as the WebSocket implementation', () => {
    expectTypeOf(NodeWebSocket).toMatchTypeOf<WebSocketConstructor>();
    expectTypeOf<typeof DomWebSocket>().toMatchTypeOf<WebSocketConstructor>();
    expectTypeOf(connect).parameter(1).toMatchTypeOf<{ WebSocket?: WebSocketConstructor } | undefined>();
  });
});
