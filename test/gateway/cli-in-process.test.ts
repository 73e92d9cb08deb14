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

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
  process.exitCode = undefined;
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
