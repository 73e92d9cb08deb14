/**
 * `interlock serve` in this process: the flag parser (every flag, its default, its env
 * fallback, and the message of each refusal), the banner `serve` prints, and the `main`
 * command (help, unknown commands, usage errors with exit code 2, and the signal handling
 * that drains and exits). cli.test.ts runs the real command as a child process; this file
 * checks the same code where a mutation run can see it.
 *
 * `main` installs SIGINT/SIGTERM handlers and calls `process.exit`: the tests capture the
 * handlers instead of signalling this process, and replace `process.exit` with a recorder.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { inspectorUrl, parseServeArgs, serve, USAGE, UsageError, type Served } from '../../src/cli/serve.js';
import { DEFAULT_STATELY_URL } from '../../src/inspect/stately.js';
import { startUpstream, upstreamTokens, waitUntil, type Upstream } from '../fixtures/upstream.js';
import { lines as configLog } from './fixtures/logging-config.js';
import { sseData } from './sse.js';

const cleanups: (() => Promise<void> | void)[] = [];
const upstreams: Upstream[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const u of upstreams.splice(0)) await u.close();
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const chat = (url: string, body: Record<string, unknown>, signal?: AbortSignal, session?: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session === undefined ? {} : { 'x-session-id': session }) },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });

async function serveQuietly(argv: string[]): Promise<{ served: Served; lines: string[] }> {
  const lines: string[] = [];
  const served = await serve(parseServeArgs(['--port', '0', '--log-level', 'silent', ...argv], {}), (l) => lines.push(l));
  cleanups.push(() => served.shutdown());
  return { served, lines };
}

describe('parseServeArgs', () => {
  it('defaults: port 8080 on 127.0.0.1, no token, no upstream, 10 s drain, log level info', () => {
    expect(parseServeArgs([], {})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      token: undefined,
      upstream: undefined,
      model: undefined,
      apiKey: undefined,
      onBusy: undefined,
      onDisconnect: undefined,
      config: undefined,
      drainMs: 10_000,
      logLevel: 'info',
      stately: undefined,
    });
  });

  it('reads every flag', () => {
    const argv = ['--port', '0', '--host', '::1', '--token', 't', '--upstream', 'http://u/v1', '--model', 'm', '--api-key', 'k', '--on-busy', 'enqueue', '--on-disconnect', 'detach', '--config', 'c.ts', '--drain-ms', '250', '--log-level', 'warn', '--stately', '--stately-url', 'wss://relay'];
    expect(parseServeArgs(argv, {})).toEqual({
      port: 0,
      host: '::1',
      token: 't',
      upstream: 'http://u/v1',
      model: 'm',
      apiKey: 'k',
      onBusy: 'enqueue',
      onDisconnect: 'detach',
      config: 'c.ts',
      drainMs: 250,
      logLevel: 'warn',
      stately: 'wss://relay',
    });
    expect(parseServeArgs(['--stately'], {}).stately).toBe(DEFAULT_STATELY_URL);
    for (const policy of ['interrupt', 'enqueue', 'reject']) expect(parseServeArgs(['--on-busy', policy], {}).onBusy).toBe(policy);
    expect(parseServeArgs(['--on-disconnect', 'cancel'], {}).onDisconnect).toBe('cancel');
    expect(parseServeArgs(['--port', '65535'], {}).port).toBe(65535);
  });

  it('falls back to PORT, INTERLOCK_TOKEN and INTERLOCK_UPSTREAM_API_KEY; a flag wins; an empty variable is unset', () => {
    const env = { PORT: '9001', INTERLOCK_TOKEN: 'env-token', INTERLOCK_UPSTREAM_API_KEY: 'env-key' };
    expect(parseServeArgs([], env)).toMatchObject({ port: 9001, token: 'env-token', apiKey: 'env-key' });
    expect(parseServeArgs(['--port', '7', '--token', 'flag', '--api-key', 'flag-key'], env)).toMatchObject({ port: 7, token: 'flag', apiKey: 'flag-key' });
    expect(parseServeArgs([], { INTERLOCK_TOKEN: '', INTERLOCK_UPSTREAM_API_KEY: '' })).toMatchObject({ token: undefined, apiKey: undefined });
  });

  it.each([
    [['--port=-1'], '--port must be 0-65535, got -1'],
    [['--port', '65536'], '--port must be 0-65535, got 65536'],
    [['--port', '1.5'], '--port must be 0-65535, got 1.5'],
    [['--port', 'http'], '--port must be 0-65535, got http'],
    [['--drain-ms', '0'], '--drain-ms must be a positive number, got 0'],
    [['--drain-ms=-5'], '--drain-ms must be a positive number, got -5'],
    [['--drain-ms', 'soon'], '--drain-ms must be a positive number, got soon'],
    [['--drain-ms', 'Infinity'], '--drain-ms must be a positive number, got Infinity'],
    [['--on-busy', 'queue'], "--on-busy must be interrupt, enqueue or reject, got 'queue'"],
    [['--on-disconnect', 'later'], "--on-disconnect must be cancel or detach, got 'later'"],
    [['--upstream', 'http://u/v1'], '--upstream needs --model (the model the upstream should run)'],
    [['--stately-url', 'ws://relay'], '--stately-url needs --stately'],
    [['--stately', '--stately-url', 'http://relay'], "--stately-url must be a ws:// or wss:// URL, got 'http://relay'"],
    [['--stately', '--stately-url', 'http://relay/ws://'], "--stately-url must be a ws:// or wss:// URL, got 'http://relay/ws://'"],
  ])('refuses %j: %s', (argv, message) => {
    const thrown = (() => {
      try {
        parseServeArgs(argv, {});
      } catch (err) {
        return err;
      }
      throw new Error('parseServeArgs accepted it');
    })();
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toBe(message);
  });

  it('refuses a PORT from the environment that is not a port', () => {
    expect(() => parseServeArgs([], { PORT: '70000' })).toThrow(UsageError);
  });

  it('refuses unknown flags and positionals (node:util parseArgs, strict)', () => {
    expect(() => parseServeArgs(['--verbose'], {})).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }));
    expect(() => parseServeArgs(['extra'], {})).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' }));
  });
});

describe('inspectorUrl', () => {
  it('is the page without a token, and carries the token URL-encoded when there is one', () => {
    expect(inspectorUrl('http://127.0.0.1:1', undefined)).toBe('http://127.0.0.1:1/inspector/');
    expect(inspectorUrl('http://127.0.0.1:1', 'a b&c')).toBe('http://127.0.0.1:1/inspector/?token=a%20b%26c');
  });
});

describe('serve', () => {
  it('refuses a non-loopback address without a token, naming the fix', async () => {
    await expect(serve(parseServeArgs(['--host', '0.0.0.0'], {}), () => undefined)).rejects.toThrow(
      new UsageError('refusing to listen on 0.0.0.0 without a token: anyone who can reach it could drive your actors. Set --token <T> or INTERLOCK_TOKEN, or bind 127.0.0.1.'),
    );
  });

  it('prints what it serves: the simulated chat model, every route, the inspector and no auth', async () => {
    const { served, lines } = await serveQuietly([]);
    const url = served.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines).toEqual([
      `interlock serve: listening on ${url}`,
      `  chat     POST ${url}/v1/chat/completions   model 'interlock-simulated' (simulated, no network)`,
      `  actors   ${url}/v1/actors/{kind}/{key}/tell|ask   kinds: session, agent`,
      `  events   GET ${url}/v1/actors/{kind}/{key}/events (SSE)   WebSocket ${url.replace('http', 'ws')}/ws (interlock.v1)`,
      `  health   GET ${url}/health      metrics  GET ${url}/metrics`,
      `  inspect  GET ${url}/v1/kinds/{kind}/machine   ${url}/v1/actors/{kind}/{key}/mailbox   (docs/inspector.md)`,
      `  inspector ${url}/inspector/`,
      `  auth     none: no token set, so bound to loopback only (set --token or INTERLOCK_TOKEN to require one)`,
    ]);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(served.app.log.level).toBe('silent');
  });

  it('on IPv6 loopback prints a URL that reaches it', async () => {
    const { served, lines } = await serveQuietly(['--host', '::1']);
    expect(served.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect(lines[0]).toBe(`interlock serve: listening on ${served.url}`);
    expect((await fetch(`${served.url}/health`)).status).toBe(200);
  });

  it('binds an address that is not loopback when a token is set', async () => {
    const { served, lines } = await serveQuietly(['--host', '0.0.0.0', '--token', 'tk']);
    expect(lines.at(-1)).toBe('  auth     Bearer token required');
    expect(served.app.server.address()).toMatchObject({ address: '0.0.0.0' });
  });

  it("runs a --config's kinds beside the bundled ones", async () => {
    const { served, lines } = await serveQuietly(['--config', 'test/gateway/fixtures/counter-config.ts']);
    expect(lines).toContain(`  actors   ${served.url}/v1/actors/{kind}/{key}/tell|ask   kinds: session, agent, counter`);
    const ask = await fetch(`${served.url}/v1/actors/counter/c/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: { type: 'add', by: 2 } }) });
    expect(await ask.json()).toEqual({ address: 'counter/c', reply: 2 });
  });

  it("--upstream URL --model M --api-key K: chats get the upstream's text and the key reaches it; --on-disconnect detach lets a hung-up stream finish upstream", async () => {
    const upstream = await startUpstream({ tokens: 4, delayMs: 2 });
    upstreams.push(upstream);
    const { served, lines } = await serveQuietly(['--upstream', upstream.url, '--model', 'm', '--api-key', 'K-123', '--on-disconnect', 'detach']);
    expect(lines).toContain(`  chat     POST ${served.url}/v1/chat/completions   model 'm' (upstream ${upstream.url})`);
    const plain = await chat(served.url, { model: 'm', messages: [{ role: 'user', content: 'hello' }] });
    expect(((await plain.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe(upstreamTokens(4).join(''));
    expect(upstream.received.map((r) => [r.path, r.headers.authorization, (r.body as { model?: string }).model])).toEqual([['/v1/chat/completions', 'Bearer K-123', 'm']]);

    upstream.tokens = 40;
    upstream.delayMs = 5;
    const leaver = new AbortController();
    const streamed = await chat(served.url, { model: 'm', stream: true, messages: [{ role: 'user', content: 'a long one' }] }, leaver.signal);
    for await (const data of sseData(streamed.body as AsyncIterable<Uint8Array>)) if (data.includes('"content"')) break;
    leaver.abort();
    await waitUntil(() => upstream.completed === 2, 'the upstream finished the second reply', 10_000);
    expect(upstream.clientAborts).toBe(0);
  });

  it('--on-busy reject: a second prompt to a session that is streaming is refused 409', async () => {
    const { served } = await serveQuietly(['--on-busy', 'reject']);
    const long = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
    const leaver = new AbortController();
    const first = await chat(served.url, { model: 'interlock-simulated', stream: true, messages: [{ role: 'user', content: long }] }, leaver.signal, 's');
    const reader = first.body!.getReader();
    await reader.read();
    const second = await chat(served.url, { model: 'interlock-simulated', messages: [{ role: 'user', content: 'again' }] }, undefined, 's');
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: { code: 'INTERLOCK_BUSY' } });
    leaver.abort();
  });

  it('shutdown drains a running stream within --drain-ms, and logs shutdown_started and shutdown_complete', async () => {
    const served = await serve(parseServeArgs(['--port', '0', '--drain-ms', '20000', '--config', 'test/gateway/fixtures/logging-config.ts'], {}), () => undefined);
    cleanups.push(() => served.shutdown());
    const res = await chat(served.url, { model: 'interlock-simulated', stream: true, messages: [{ role: 'user', content: 'one two three four five' }] });
    const data = sseData(res.body as AsyncIterable<Uint8Array>);
    await data.next();
    const done = served.shutdown();
    let rest = '';
    for await (const d of data) rest += d;
    expect(rest).toContain('"finish_reason":"stop"');
    expect(rest.endsWith('[DONE]')).toBe(true);
    await done;
    expect(configLog.filter((l) => l.msg?.startsWith('shutdown_')).map((l) => [l.msg, l.drainMs])).toEqual([
      ['shutdown_started', 20_000],
      ['shutdown_complete', undefined],
    ]);
  });

  it('shutdown stops waiting for a stream at --drain-ms', async () => {
    const { served } = await serveQuietly(['--drain-ms', '300']);
    const long = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
    const res = await chat(served.url, { model: 'interlock-simulated', stream: true, messages: [{ role: 'user', content: long }] });
    const data = sseData(res.body as AsyncIterable<Uint8Array>);
    await data.next();
    await served.shutdown();
    let rest = '';
    for await (const d of data) rest += d;
    // 300 words at 50 tokens a second take 6 s: the drain gave up long before.
    expect(rest).not.toContain('w299');
  });

  it('with a token and an upstream: names the upstream and the model, puts the token in the inspector URL, requires it', async () => {
    const { served, lines } = await serveQuietly(['--token', 'tk', '--upstream', 'http://127.0.0.1:9/v1', '--model', 'llama3']);
    const url = served.url;
    expect(lines).toContain(`  chat     POST ${url}/v1/chat/completions   model 'llama3' (upstream http://127.0.0.1:9/v1)`);
    expect(lines).toContain(`  inspector ${url}/inspector/?token=tk`);
    expect(lines.at(-1)).toBe('  auth     Bearer token required');
    const models = (auth?: string) => fetch(`${url}/v1/models`, auth ? { headers: { authorization: auth } } : {});
    expect((await models()).status).toBe(401);
    expect(await (await models('Bearer tk')).json()).toMatchObject({ data: [{ id: 'llama3' }] });
  });

  it("runs a --config's own runtime: no chat line without a session kind, no inspector line when the config turns it off", async () => {
    const { served, lines } = await serveQuietly(['--config', 'test/gateway/fixtures/own-runtime-config.ts']);
    const url = served.url;
    expect(lines.some((l) => l.startsWith('  chat'))).toBe(false);
    expect(lines.some((l) => l.startsWith('  inspector'))).toBe(false);
    expect(lines).toContain(`  actors   ${url}/v1/actors/{kind}/{key}/tell|ask   kinds: counter`);
    expect((await fetch(`${url}/inspector/`)).status).toBe(404);
    const ask = await fetch(`${url}/v1/actors/counter/c/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: { type: 'add', by: 3 } }) });
    expect(await ask.json()).toEqual({ address: 'counter/c', reply: 3 });
  });

  it('shutdown drains once: a second call returns the same promise, the server stops listening and the runtime refuses work', async () => {
    const { served } = await serveQuietly([]);
    const first = served.shutdown();
    expect(served.shutdown()).toBe(first);
    await first;
    expect(served.app.server.listening).toBe(false);
    expect(() => served.runtime.tell('session/s', { type: 'cancel' })).toThrow(expect.objectContaining({ code: 'INTERLOCK_SHUTTING_DOWN' }));
  });
});

/** Runs `main` with stdout, stderr, process.exit and the signal handlers captured. */
function captureProcess() {
  const out: string[] = [];
  const err: string[] = [];
  const exits: (number | undefined)[] = [];
  const handlers = new Map<string, (signal: NodeJS.Signals) => void>();
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  vi.spyOn(process, 'exit').mockImplementation(((code?: number) => void exits.push(code)) as typeof process.exit);
  const on = process.on.bind(process);
  vi.spyOn(process, 'on').mockImplementation(((event: string, listener: (...args: unknown[]) => void) => {
    if (event === 'SIGINT' || event === 'SIGTERM') handlers.set(event, listener as (signal: NodeJS.Signals) => void);
    else on(event, listener);
    return process;
  }) as typeof process.on);
  return { out: () => out.join(''), err: () => err.join(''), exits, handlers };
}

/** Waits (bounded) until `cond` holds: for the drain, which runs on the server's own timers. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('main', () => {
  it.each([[[]], [['help']], [['--help']], [['-h']], [['serve', '--help']], [['serve', '--port', '1', '-h']]])('%j prints the usage to stdout and exits 0', async (argv) => {
    const p = captureProcess();
    await main(argv);
    expect(p.out()).toBe(USAGE);
    expect(p.err()).toBe('');
    expect(process.exitCode).toBeUndefined();
    expect(p.handlers.size).toBe(0);
  });

  it('an unknown command: names it on stderr, prints the usage, exit code 2', async () => {
    const p = captureProcess();
    await main(['srv']);
    expect(p.err()).toBe(`interlock: unknown command 'srv'\n\n${USAGE}`);
    expect(p.out()).toBe('');
    expect(process.exitCode).toBe(2);
  });

  it.each([
    [['--port', 'x'], '--port must be 0-65535, got x'],
    [['--verbose'], "Unknown option '--verbose'"],
    [['--port'], "Option '--port <value>' argument missing"],
  ])('serve %j: the reason and the usage on stderr, exit code 2, nothing served', async (argv, reason) => {
    const p = captureProcess();
    await main(['serve', ...argv]);
    expect(p.err()).toMatch(new RegExp(`^interlock serve: ${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\n\n`));
    expect(p.err().endsWith(`\n\n${USAGE}`)).toBe(true);
    expect(process.exitCode).toBe(2);
    expect(p.handlers.size).toBe(0);
  });

  it('serve: a config that fails to load is thrown, not taken for a usage error', async () => {
    const p = captureProcess();
    await expect(main(['serve', '--port', '0', '--config', 'test/gateway/fixtures/no-such-config.ts'])).rejects.toThrow(/no-such-config/);
    expect(process.exitCode).toBeUndefined();
    expect(p.err()).toBe('');
  });

  it('serve: the first SIGINT drains and exits 0; a second signal exits 130 at once', async () => {
    const p = captureProcess();
    await main(['serve', '--port', '0', '--log-level', 'silent', '--drain-ms', '2000']);
    expect(p.err()).toMatch(/^interlock serve: listening on http:\/\/127\.0\.0\.1:\d+\n/);
    expect([...p.handlers.keys()].sort()).toEqual(['SIGINT', 'SIGTERM']);
    const url = /listening on (\S+)/.exec(p.err())![1]!;
    p.handlers.get('SIGINT')!('SIGINT');
    expect(p.err()).toContain('interlock serve: SIGINT: refusing new work, draining (up to 2000 ms)\n');
    p.handlers.get('SIGTERM')!('SIGTERM');
    expect(p.err()).toContain('interlock serve: second SIGTERM, exiting now\n');
    expect(p.exits).toEqual([130]);
    // The recorded process.exit returns, so the second handler runs on past its exit(130) into
    // the same drain (shutdown() is idempotent); the real one would have ended the process.
    await until(() => p.exits.includes(0), 'the drain');
    expect(new Set(p.exits)).toEqual(new Set([130, 0]));
    expect(p.exits[0]).toBe(130);
    expect(p.err().endsWith('interlock serve: drained, bye\n')).toBe(true);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('serve: a safety net is armed for the drain deadline + 5 s, unref\'d, and disarmed once drained; when it fires it closes connections and exits 1', async () => {
    const p = captureProcess();
    const timers: { fn: () => void; ms: number | undefined; handle: NodeJS.Timeout }[] = [];
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number, ...args: unknown[]) => {
      const handle = (realSetTimeout as (f: () => void, t?: number, ...a: unknown[]) => NodeJS.Timeout)(fn, ms, ...args);
      timers.push({ fn, ms, handle });
      return handle;
    }) as typeof setTimeout);
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    await main(['serve', '--port', '0', '--log-level', 'silent', '--drain-ms', '1234']);
    const before = timers.length;
    p.handlers.get('SIGINT')!('SIGINT');
    const net = timers.slice(before).find((t) => t.ms === 1234 + 5_000);
    expect(net, `timers armed by the signal: ${timers.slice(before).map((t) => t.ms).join(', ')}`).toBeDefined();
    expect(net!.handle.hasRef()).toBe(false);
    await until(() => p.exits.includes(0), 'the drain');
    expect(cleared.mock.calls.some(([h]) => h === net!.handle)).toBe(true);
    // What it does when a drain hangs past the deadline: run it by hand (the server is closed by now).
    net!.fn();
    expect(p.err().endsWith('interlock serve: drain did not finish in time; closing connections\n')).toBe(true);
    expect(p.exits).toEqual([0, 1]);
  });

  it('serve: SIGTERM alone drains and exits 0, once', async () => {
    const p = captureProcess();
    await main(['serve', '--port', '0', '--log-level', 'silent']);
    p.handlers.get('SIGTERM')!('SIGTERM');
    expect(p.err()).toContain('interlock serve: SIGTERM: refusing new work, draining (up to 10000 ms)\n');
    await until(() => p.exits.length > 0, 'the drain');
    expect(p.exits).toEqual([0]);
    expect(p.err()).not.toContain('second');
  });
});
