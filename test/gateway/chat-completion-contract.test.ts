/**
 * The exact wire of `POST /v1/chat/completions` streamed (src/gateway/chat.ts) over real
 * HTTP, and the log lines of a failed request (logFailure): the SSE headers, the
 * completion id `chatcmpl-<request id>`, `created` in seconds, the opening assistant frame,
 * the `request completed` line of a streamed reply (once), and 5xx logged as request_failed
 * (error) while 4xx is request_refused (info).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { KindConfig } from '../../src/index.js';
import { vaultKind } from '../transport/helpers.js';
import { closeAll, MODEL, startGateway } from './helpers.js';

afterEach(closeAll);

/** POSTs JSON with node:http and reads the whole answer, so every response header is visible (fetch hides `connection`). */
function rawPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ res, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('a streamed chat completion on the wire', () => {
  it('has the SSE headers, id chatcmpl-<x-request-id>, created in seconds, opens with an empty assistant delta, and request completed 200 is logged once', async () => {
    const gw = await startGateway();
    const { res, text } = await rawPost(`${gw.url}/v1/chat/completions`, { model: MODEL, stream: true, messages: [{ role: 'user', content: 'one two three' }] }, { 'x-session-id': 'w1' });
    const nowSeconds = Math.floor(Date.now() / 1000);
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const requestId = res.headers['x-request-id'] as string;
    const frames = text
      .split('\n\n')
      .filter((f) => f.startsWith('data: ') && f !== 'data: [DONE]')
      .map((f) => JSON.parse(f.slice(6)) as { id: string; created: number; choices: { delta: Record<string, unknown>; finish_reason: string | null }[] });
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(new Set(frames.map((f) => f.id))).toEqual(new Set([`chatcmpl-${requestId}`]));
    // Seconds, not milliseconds: no later than now.
    expect(frames[0]!.created).toBeLessThanOrEqual(nowSeconds);
    expect(Number.isInteger(frames[0]!.created)).toBe(true);
    expect(frames[0]!.choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null });
    const done = gw.logs.filter((l) => l.reqId === requestId && (l.res as { statusCode?: number } | undefined)?.statusCode !== undefined);
    // Once: Fastify logs it when the hijacked response finishes; the gateway used to log a second copy.
    expect(done.map((l) => [l.level, l.msg, l.res])).toEqual([[30, 'request completed', { statusCode: 200 }]]);
  });
});

describe('the log line of a failed request', () => {
  it('a 5xx is logged at error as request_failed with its code and status; a 4xx at info as request_refused', async () => {
    const gw = await startGateway({ kinds: { vault: vaultKind() as KindConfig } });
    const post = (path: string, body: unknown) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const crash = await post('/v1/actors/vault/x/ask', { event: { type: 'boom' } });
    expect(crash.status).toBe(500);
    const code500 = ((await crash.json()) as { error: { code: string } }).error.code;
    const missing = await post('/v1/actors/nokind/x/tell', { event: { type: 'inc' } });
    expect(missing.status).toBe(404);
    const lines = gw.logs.filter((l) => l.msg === 'request_failed' || l.msg === 'request_refused').map((l) => [l.level, l.msg, l.code, l.status]);
    expect(lines).toEqual([
      [50, 'request_failed', code500, 500],
      [30, 'request_refused', 'INTERLOCK_UNKNOWN_KIND', 404],
    ]);
  });
});
