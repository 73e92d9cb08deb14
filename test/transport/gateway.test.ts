/**
 * The WebSocket as part of the gateway plugin: mounted under the plugin's prefix in
 * someone else's Fastify app, with the gateway's token, closed with 1001 when the app
 * closes, and absent with `websocket: false`.
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/gateway/createGateway.js';
import { createRuntime, type KindConfig } from '../../src/index.js';
import type { Runtime } from '../../src/runtime/Runtime.js';
import { CloseCode } from '../../src/transport/protocol.js';
import { RawClient, refused, vaultKind } from './helpers.js';

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function mount(options: Parameters<typeof createGateway>[1]) {
  const rt = createRuntime({ kinds: { vault: vaultKind() as KindConfig } }) as unknown as Runtime;
  const app = Fastify({ logger: false });
  app.get('/', async () => 'my app');
  const gateway = createGateway(rt, { defaultMetrics: false, ...options });
  await app.register(gateway, { prefix: '/ai' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app, { close: () => rt.shutdown({ drain: false }) });
  const { port } = app.server.address() as { port: number };
  return { app, gateway, rt, base: `ws://127.0.0.1:${port}` };
}

describe('the gateway plugin', () => {
  it("serves the WebSocket under its prefix, with the gateway's token, and closes it with 1001 when the app closes", async () => {
    const { app, gateway, base } = await mount({ token: 'tk' });
    expect(gateway.websocket?.path).toBe('/ai/ws');
    expect(await refused(`${base}/ai/ws`)).toMatchObject({ status: 401 });
    expect(await refused(`${base}/ws?token=tk`)).toMatchObject({ status: 404 });
    const c = await RawClient.connect(base, { token: 'tk', path: '/ai/ws' });
    c.send({ type: 'ask', id: 'a', payload: { address: 'vault/1', event: { type: 'get' } } });
    expect(await c.until((m) => m.type === 'result')).toMatchObject({ payload: { data: 0 } });
    await app.close();
    expect((await c.closed).code).toBe(CloseCode.GoingAway);
  });

  it('has no WebSocket with websocket: false', async () => {
    const { gateway, base } = await mount({ websocket: false });
    expect(gateway.websocket).toBeUndefined();
    await expect(RawClient.connect(base, { path: '/ai/ws' })).rejects.toThrow();
  });
});
