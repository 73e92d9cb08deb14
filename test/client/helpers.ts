import { afterEach } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import type { WebSocketConstructor } from '../../src/client/index.js';
import type { Observable, Subscription } from 'rxjs';

/** Fails with `what` if `promise` has not settled within `ms` (a bound on a hung test, not a timing assertion). */
export function bounded<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

export interface Collected<T> {
  readonly values: T[];
  error: unknown;
  completed: boolean;
  readonly subscription: Subscription;
  /** Resolves once `n` values arrived (or the stream ended: then check `error`/`completed`). */
  count(n: number): Promise<void>;
  /** Resolves once the stream errored or completed. */
  readonly ended: Promise<void>;
}

/** Subscribes and records everything the observable does. */
export function collect<T>(source: Observable<T>): Collected<T> {
  const waiters: { n: number; resolve: () => void }[] = [];
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const wake = () => {
    for (const w of [...waiters]) {
      if (c.values.length >= w.n || c.completed || c.error !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const c: Collected<T> = {
    values: [],
    error: undefined,
    completed: false,
    subscription: undefined as unknown as Subscription,
    count: (n) =>
      new Promise<void>((resolve) => {
        waiters.push({ n, resolve });
        wake();
      }),
    ended,
  };
  (c as { subscription: Subscription }).subscription = source.subscribe({
    next: (v) => {
      c.values.push(v);
      wake();
    },
    error: (e: unknown) => {
      c.error = e ?? new Error('undefined error');
      wake();
      end();
    },
    complete: () => {
      c.completed = true;
      wake();
      end();
    },
  });
  return c;
}

/**
 * Registers an afterEach that closes, newest first, everything passed to the returned
 * function during the test (clients before the servers they talk to).
 */
export function closeAfterEach(): <T extends { close(): Promise<unknown> }>(thing: T) => T {
  const open: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });
  return (thing) => {
    open.push(thing);
    return thing;
  };
}

/** The `ws` WebSocket, remembering every socket the client opens, so a test can cut one (`sockets.at(-1).terminate()`). */
export function trackedWebSocket(): { WebSocket: WebSocketConstructor; sockets: NodeWebSocket[] } {
  const sockets: NodeWebSocket[] = [];
  const Tracked = class extends NodeWebSocket {
    constructor(...args: ConstructorParameters<typeof NodeWebSocket>) {
      super(...args);
      sockets.push(this);
    }
  };
  return { WebSocket: Tracked as unknown as WebSocketConstructor, sockets };
}
