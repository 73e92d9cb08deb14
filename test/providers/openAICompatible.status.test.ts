/**
 * A model server that answers with a non-2xx status: each becomes INTERLOCK_UPSTREAM_FAILED
 * whose message names the status, the server's own message when it sent one, and the fix,
 * and whose details carry exactly what the body and headers said. The replies come from a
 * real HTTP server on port 0 that the test scripts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAICompatible } from '../../src/providers/openAICompatible.js';
import type { ChatRequest, Provider } from '../../src/providers/types.js';
import { waitUntil } from '../fixtures/upstream.js';
import { startScripted, type Exchange, type ScriptedServer } from './scriptedServer.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello.' }] };

const HINT = {
  key: 'Check apiKey and the account behind it.',
  url: "Check baseURL (most servers want it to end in '/v1') and the model name.",
  rate: 'The server is rate limiting: retry after a pause or lower the concurrency.',
  server: "The model server failed: retry, and check the server's logs if it repeats.",
  request: 'Check the request options against what the server accepts.',
};

const html = `<html><body>${'Bad gateway. '.repeat(50)}</body></html>`; // 663 characters

interface Row {
  name: string;
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** What follows `answered ` in the message. */
  says: string;
  details: Record<string, unknown>;
}

const rows: Row[] = [
  {
    name: '400 with a numeric error code',
    status: 400,
    body: '{"error":{"message":"temperature is out of range","code":400}}',
    says: `400: temperature is out of range. ${HINT.request}`,
    details: { upstreamMessage: 'temperature is out of range', upstreamCode: '400' },
  },
  {
    name: '401 with a string error code',
    status: 401,
    body: '{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}',
    says: `401: Incorrect API key provided. ${HINT.key}`,
    details: { upstreamMessage: 'Incorrect API key provided', upstreamCode: 'invalid_api_key' },
  },
  {
    name: '403 with a message and no code',
    status: 403,
    body: '{"error":{"message":"Project has no access"}}',
    says: `403: Project has no access. ${HINT.key}`,
    details: { upstreamMessage: 'Project has no access' },
  },
  {
    name: '404 whose error has a message and a code of the wrong types',
    status: 404,
    body: '{"error":{"message":42,"code":null}}',
    says: `404. ${HINT.url}`,
    details: {},
  },
  {
    name: '422 whose JSON has no error object',
    status: 422,
    body: '{"detail":"messages: field required"}',
    says: `422. ${HINT.request}`,
    details: {},
  },
  {
    name: '429 with Retry-After and a code but no message',
    status: 429,
    body: '{"error":{"code":"rate_limit_exceeded"}}',
    headers: { 'retry-after': '7' },
    says: `429. ${HINT.rate}`,
    details: { upstreamCode: 'rate_limit_exceeded', retryAfter: '7' },
  },
  {
    name: '499, below the 5xx range',
    status: 499,
    body: '',
    says: `499. ${HINT.request}`,
    details: {},
  },
  {
    name: '500 whose error is a string, not an object',
    status: 500,
    body: '{"error":"boom"}',
    says: `500. ${HINT.server}`,
    details: {},
  },
  {
    name: '502 with an HTML proxy page over 500 characters, cut to an excerpt',
    status: 502,
    body: html,
    says: `502. ${HINT.server}`,
    details: {},
  },
  {
    name: '503 with a plain-text body of exactly 500 characters, kept whole',
    status: 503,
    body: 'x'.repeat(500),
    says: `503. ${HINT.server}`,
    details: {},
  },
];

describe('openAICompatible maps each non-2xx status to INTERLOCK_UPSTREAM_FAILED with its hint', () => {
  let server: ScriptedServer;
  let reply: (exchange: Exchange) => void;

  beforeEach(async () => {
    server = await startScripted((exchange) => reply(exchange));
  });

  afterEach(async () => {
    await server.close();
  });

  const run = async (provider: Provider, signal = new AbortController().signal): Promise<unknown> => {
    try {
      for await (const chunk of provider.stream(request, signal)) throw new Error(`unexpected chunk ${JSON.stringify(chunk)}`);
    } catch (error) {
      return error;
    }
    throw new Error('the stream ended without an error');
  };

  it.each(rows)('$name', async (row) => {
    reply = ({ res }) => {
      res.writeHead(row.status, { 'content-type': 'application/json', ...row.headers });
      res.end(row.body);
    };
    const provider = openAICompatible({ baseURL: server.url, model: 'm' });

    const error = await run(provider);

    expect(error).toMatchObject({ name: 'InterlockError', code: 'INTERLOCK_UPSTREAM_FAILED' });
    expect((error as Error).message).toBe(`Model server at ${server.url}/chat/completions answered ${row.says}`);
    const body = row.body.length > 500 ? `${row.body.slice(0, 500)}…` : row.body;
    expect((error as { details: unknown }).details).toStrictEqual({ status: row.status, body, ...row.details });
  });

  it('answers 304 (a status with no body) with an empty body excerpt', async () => {
    reply = ({ res }) => {
      res.writeHead(304);
      res.end();
    };
    const provider = openAICompatible({ baseURL: server.url, model: 'm' });

    const error = await run(provider);

    expect((error as Error).message).toBe(`Model server at ${server.url}/chat/completions answered 304. ${HINT.request}`);
    expect((error as { details: unknown }).details).toStrictEqual({ status: 304, body: '' });
  });

  it('reads no more than 8 KiB of an error body: a server that sends 8 KiB and then nothing still gets its error', async () => {
    const head = '{"error":{"message":"too long"}}';
    reply = ({ res }) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.write(head + ' '.repeat(8192 - head.length)); // exactly 8,192 bytes, then the reply stays open
    };
    const provider = openAICompatible({ baseURL: server.url, model: 'm' });

    const error = await run(provider);

    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED', details: { status: 500, upstreamMessage: 'too long' } });
    await waitUntil(() => server.received[0]!.res.closed, "the error reply's connection closed");
  });

  it('reports the status and the text that arrived when the connection breaks while reading the error body', async () => {
    reply = ({ res }) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.write('{"error":{"mess', () => res.socket?.destroy());
    };
    const provider = openAICompatible({ baseURL: server.url, model: 'm' });

    const error = await run(provider);

    expect(error).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED' });
    expect((error as Error).message).toBe(`Model server at ${server.url}/chat/completions answered 500. ${HINT.server}`);
    expect((error as { details: unknown }).details).toStrictEqual({ status: 500, body: '{"error":{"mess' });
  });

  it('keeps a UTF-8 character of an error body that a read boundary splits', async () => {
    // TCP decides where a network read ends, so the body is a stream the test cuts itself.
    const bytes = new TextEncoder().encode('{"error":{"message":"modèle introuvable 🙂"}}');
    const split = bytes.indexOf(0xf0) + 2; // inside the emoji's four bytes
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, bytes.indexOf(0xc3) + 1)); // inside 'è' too
        controller.enqueue(bytes.slice(bytes.indexOf(0xc3) + 1, split));
        controller.enqueue(bytes.slice(split));
        controller.close();
      },
    });
    const provider = openAICompatible({
      baseURL: 'http://model.invalid/v1',
      model: 'm',
      fetch: async () => new Response(body, { status: 404, headers: { 'content-type': 'application/json' } }),
    });

    const error = await run(provider);

    expect((error as Error).message).toBe(`Model server at http://model.invalid/v1/chat/completions answered 404: modèle introuvable 🙂. ${HINT.url}`);
    expect(error).toMatchObject({ details: { status: 404, upstreamMessage: 'modèle introuvable 🙂' } });
  });

  it('rejects with INTERLOCK_CANCELLED (while connecting) when aborted while reading an error body', async () => {
    reply = ({ res }) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.write('{"error":'); // and nothing more until the client leaves
    };
    let headersSeen = false;
    const provider = openAICompatible({
      baseURL: server.url,
      model: 'm',
      name: 'ollama',
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        headersSeen = true;
        return response;
      },
    });
    const controller = new AbortController();
    const pending = run(provider, controller.signal);
    await waitUntil(() => headersSeen, 'the error status arrived');

    controller.abort();

    const error = await pending;
    expect(error).toMatchObject({ code: 'INTERLOCK_CANCELLED', details: { provider: 'ollama', phase: 'connecting' } });
    expect((error as Error).message).toBe(
      `Stream from model server at ${server.url}/chat/completions was cancelled by its caller's signal while connecting; the HTTP request was aborted and its connection closed.`,
    );
    await waitUntil(() => server.received[0]!.res.closed, "the error reply's connection closed");
  });
});
