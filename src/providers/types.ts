/**
 * The provider contract: how a session actor talks to a model. A provider turns one
 * chat request into a stream of chunks and stops, releasing everything it holds, the
 * moment its signal aborts (seed 002: a model call that ignored cancellation hung the
 * server).
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Overrides the provider's configured model for this request. */
  model?: string;
  temperature?: number;
  maxTokens?: number;
}

export type ProviderChunk =
  | { type: 'delta'; text: string }
  | { type: 'done'; finishReason: string; usage?: { promptTokens: number; completionTokens: number } };

export interface Provider {
  readonly name: string;
  /**
   * Streams the completion. Aborting `signal` must end iteration promptly with an
   * INTERLOCK_CANCELLED InterlockError and release every resource (socket, timer).
   * Stopping iteration early (`break`, `return()`) must release them too.
   */
  stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ProviderChunk>;
}
