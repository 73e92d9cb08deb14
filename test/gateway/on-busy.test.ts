import { afterEach, expect, it } from 'vitest';
import { simulated } from '../../src/providers/simulated.js';
import { closeAll, MODEL, startGateway } from './helpers.js';

afterEach(closeAll);

const chat = (url: string, headers: Record<string, string>, stream: boolean) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': 's', ...headers },
    body: JSON.stringify({ model: MODEL, stream, messages: [{ role: 'user', content: 'x' }] }),
  });

it("X-Interlock-On-Busy: reject on one request refuses it with 409 while the server policy is 'interrupt', and leaves the running stream alone", async () => {
  const gw = await startGateway({ provider: simulated({ tokensPerSecond: 20 }), logLevel: 'warn' });
  const first = await chat(gw.url, {}, true);
  const reader = first.body!.getReader();
  await reader.read();
  const second = await chat(gw.url, { 'x-interlock-on-busy': 'reject' }, false);
  expect(second.status).toBe(409);
  expect(((await second.json()) as { error: { code: string } }).error.code).toBe('INTERLOCK_BUSY');
  let body = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    body += new TextDecoder().decode(value);
  }
  expect(body).toContain('"finish_reason":"stop"');
});
