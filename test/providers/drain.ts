import type { ProviderChunk } from '../../src/providers/types.js';

/** Iterates to the end and returns what arrived before the error (or undefined if none). */
export async function drain(iterable: AsyncIterable<ProviderChunk>): Promise<{ chunks: ProviderChunk[]; error: unknown }> {
  const chunks: ProviderChunk[] = [];
  try {
    for await (const chunk of iterable) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks, error: undefined };
}
