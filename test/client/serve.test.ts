/**
 * `interlock/client` against `interlock serve` (the CLI's server function, port 0, a token,
 * sessions over a fast simulated model): a typed session asked for an answer, the server's
 * coded errors, a wrong token, and a streamed reply whose subscriber loses its socket
 * mid-stream and still gets every chunk once, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { sessionMachine, SessionAnswer } from '../../machines/index.js';
import { parseServeArgs, serve, type Served } from '../../src/cli/serve.js';
import { connect, isInterlockError, type ClientRecord } from '../../src/client/index.js';
import { bounded, closeAfterEach, trackedWebSocket } from './helpers.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.shutdown();
  served = undefined;
});
const track = closeAfterEach();

async function start(): Promise<string> {
  served = await serve(parseServeArgs(['--port', '0', '--token', 'tk', '--config', 'test/transport/fixtures/fast-serve.ts', '--log-level', 'warn'], {}), () => undefined);
  return `${served.url.replace(/^http/, 'ws')}/ws`;
}

const failure = (p: Promise<unknown>) => bounded(p.then(() => undefined, (e: unknown) => e), 'a rejection');
type Emitted = { event: { type: string; text?: string } };
const emitted = (records: ClientRecord[]) => records.filter((r) => r.type === 'emitted').map((r) => (r.data as Emitted).event);

describe('interlock/client against interlock serve', () => {
  it('asks a typed session for an answer, and gets the server’s coded errors', async () => {
    const url = await start();
    const client = track(connect(url, { token: 'tk' }));
    const session = client.actor<typeof sessionMachine>('session/c1');
    const answer = await bounded(session.ask<SessionAnswer>({ type: 'prompt', text: 'Hello' }), 'the answer');
    expect(answer).toMatchObject({ text: expect.stringContaining('You said: "Hello"'), finishReason: 'stop' });
    const codes = [
      await failure(client.send('session/c1', { type: '@stream.closed' })),
      await failure(client.send('session/c1', { type: 'not-an-event' })),
      await failure(client.ask('nokind/x', { type: 'prompt' })),
    ].map((e) => (isInterlockError(e) ? e.code : e));
    expect(codes).toEqual(['INTERLOCK_INVALID_EVENT', 'INTERLOCK_EVENT_NOT_PUBLIC', 'INTERLOCK_UNKNOWN_KIND']);
    const stranger = track(connect(url, { token: 'nope' }));
    expect(await failure(stranger.ask('session/c1', { type: 'prompt', text: 'x' }))).toMatchObject({ code: 'INTERLOCK_CONNECTION_CLOSED', httpStatus: 401 });
  });

  it('resumes a streamed reply after losing its socket mid-stream: every chunk once, in order', async () => {
    const url = await start();
    const { WebSocket: Tracked, sockets } = trackedWebSocket();
    const watcher = track(connect(url, { token: 'tk', WebSocket: Tracked, backoff: { initialMs: 50 } }));
    const asker = track(connect(url, { token: 'tk' }));
    // Wake the session first, so the watcher's subscription starts with its snapshot.
    await bounded(asker.ask('session/long', { type: 'prompt', text: 'warm-up' }), 'the warm-up answer');
    const records: ClientRecord[] = [];
    let cut = false;
    const sub = watcher.subscribe('session/long').subscribe((r) => {
      records.push(r);
      // Drop the watcher's socket right after its first chunk; the reply keeps streaming meanwhile.
      if (!cut && r.type === 'emitted' && (r.data as Emitted).event.type === 'chunk') {
        cut = true;
        sockets.at(-1)!.terminate();
      }
    });
    await bounded(
      (async () => {
        while (records.length === 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      'the snapshot',
    );
    expect(records[0]!.type).toBe('snapshot');
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    const answer = await bounded(asker.ask<SessionAnswer>('session/long', { type: 'prompt', text: words }, { timeoutMs: 30_000 }), 'the long answer');
    await bounded(
      (async () => {
        while (!emitted(records).some((e) => e.type === 'stream.end')) await new Promise((r) => setTimeout(r, 10));
      })(),
      'the reply to end on the watcher',
    );
    sub.unsubscribe();
    expect(cut).toBe(true);
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    const seqs = records.map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(
      emitted(records)
        .filter((e) => e.type === 'chunk')
        .map((e) => e.text)
        .join(''),
    ).toBe(answer.text);
  });
});
