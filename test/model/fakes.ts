/**
 * Fakes whose timing the test controls: a model provider whose every stream waits for the
 * test to push chunks and close it, and a backend restart that waits for the test to
 * succeed or fail it. Neither honours its abort signal unless told to, like seed 002's
 * model server that kept streaming after the client went away.
 */
import type { Subscription } from '../../machines/agent.js';
import type { Provider, ProviderChunk } from '../../src/providers/types.js';

type Item = { kind: 'chunk'; chunk: ProviderChunk } | { kind: 'end' } | { kind: 'error'; error: unknown };

export interface FakeStream {
  /** 1-based order of the provider call. */
  readonly n: number;
  readonly signal: AbortSignal;
  /** The stream ended (returned or threw) from the provider's side. */
  closed: boolean;
  push(text: string): void;
  /** Ends the stream normally (`done`) or by throwing (`error`). */
  close(how: 'done' | 'error'): void;
}

export function controlledProvider(options: { honourAbort?: boolean } = {}) {
  const streams: FakeStream[] = [];
  const provider: Provider = {
    name: 'controlled',
    stream(_request, signal) {
      const items: Item[] = [];
      let wake: (() => void) | undefined;
      const put = (item: Item) => {
        items.push(item);
        wake?.();
        wake = undefined;
      };
      const s: FakeStream = {
        n: streams.length + 1,
        signal,
        closed: false,
        push: (text) => {
          if (!s.closed) put({ kind: 'chunk', chunk: { type: 'delta', text } });
        },
        close: (how) => {
          if (s.closed) return;
          s.closed = true;
          put(how === 'done' ? { kind: 'end' } : { kind: 'error', error: Object.assign(new Error('upstream failed'), { code: 'FAKE' }) });
        },
      };
      if (options.honourAbort) signal.addEventListener('abort', () => s.close('error'), { once: true });
      streams.push(s);
      return {
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (items.length === 0) await new Promise<void>((r) => (wake = r));
            const item = items.shift()!;
            if (item.kind === 'end') {
              yield { type: 'done', finishReason: 'stop' } as ProviderChunk;
              return;
            }
            if (item.kind === 'error') throw item.error;
            yield item.chunk;
          }
        },
      };
    },
  };
  return { provider, streams };
}

export interface FakeCall {
  readonly n: number;
  readonly signal: AbortSignal;
  settled: boolean;
  succeed(value?: unknown): void;
  fail(error: unknown): void;
}

/** A function (restart, or an agent's handle) whose calls the test settles. */
export function controlledCalls<T = void>(options: { honourAbort?: boolean } = {}) {
  const calls: (FakeCall & { subscription?: Subscription; input?: unknown })[] = [];
  const fn = (signal: AbortSignal, extra: { subscription?: Subscription; input?: unknown } = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const call = {
        n: calls.length + 1,
        signal,
        settled: false,
        ...extra,
        succeed: (value?: unknown) => {
          if (call.settled) return;
          call.settled = true;
          resolve(value as T);
        },
        fail: (error: unknown) => {
          if (call.settled) return;
          call.settled = true;
          reject(error);
        },
      };
      if (options.honourAbort) signal.addEventListener('abort', () => call.fail(signal.reason), { once: true });
      calls.push(call);
    });
  return { fn, calls };
}
