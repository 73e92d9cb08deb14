export type { ChatMessage, ChatRequest, Provider, ProviderChunk } from './types.js';
export { openAICompatible, type OpenAICompatibleOptions } from './openAICompatible.js';
export { simulated, type SimulatedOptions } from './simulated.js';
