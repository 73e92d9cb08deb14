/**
 * `interlock serve` as a newcomer runs it: a child process started with `node
 * bin/interlock.mjs serve` from the clone (TypeScript through tsx, no build). SIGTERM in
 * the middle of a stream lets the stream finish within the drain deadline and exits 0.
 * The flags themselves (--upstream on a real OpenAI-compatible fixture, --on-busy,
 * --on-disconnect, --config) are checked in this process by cli-in-process.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const children = new Set<ChildProcess>();

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

interface Started {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, ['bin/interlock.mjs', 'serve', ...args], {
    cwd: root,
    env: { ...process.env, INTERLOCK_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume(); // pino's JSON lines; not asserted here
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url: '', stderr: () => err, exited };
}

/** Resolves with the URL once the server printed it (bounded). */
async function listening(s: Started, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The banner ends with the auth line.
    const m = /listening on (http:\/\/\S+)[\s\S]*\n  auth /.exec(s.stderr());
    if (m) return m[1]!;
    if (Date.now() > deadline || s.child.exitCode !== null) throw new Error(`server did not start:\n${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('interlock serve (child process)', { timeout: 60_000 }, () => {
  it('serves the simulated model on a fresh clone, and SIGTERM mid-stream drains the stream and exits 0', async () => {
    const s = start(['--port', '0', '--drain-ms', '5000']);
    const url = await listening(s);
    expect(s.stderr()).toMatch(/auth\s+none: no token set, so bound to loopback only/);
    // The inspector page, built from the sources on the first request (nothing prebuilt in a clone).
    const page = /inspector (http:\/\/\S+)/.exec(s.stderr())?.[1];
    expect(page).toBe(`${url}/inspector/`);
    const html = await fetch(page!);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('<script type="module" src="app.js">');
    const js = await fetch(`${page}app.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    // ELK, most of the code, is a chunk app.js loads with the first chart.
    const chunks = [...new Set((await js.text()).match(/chunk-[A-Za-z0-9]+\.js/g))];
    expect(chunks.length).toBeGreaterThan(0);
    const sizes = await Promise.all(chunks.map(async (c) => (await (await fetch(`${page}${c}`)).text()).length));
    expect(Math.max(...sizes)).toBeGreaterThan(1_000_000);

    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'interlock-simulated', stream: true, messages: [{ role: 'user', content: 'tell me something' }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let body = '';
    // Read until the first content chunk, then signal the server.
    while (!body.includes('"content":"You"')) {
      const { value, done } = await reader.read();
      if (done) break;
      body += decoder.decode(value, { stream: true });
    }
    s.child.kill('SIGTERM');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      body += decoder.decode(value, { stream: true });
    }
    expect(body).toContain('"finish_reason":"stop"');
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toMatch(/SIGTERM: refusing new work, draining/);
    expect(s.stderr()).toMatch(/drained, bye/);
  });

  it('refuses to bind a non-loopback address without a token, naming the missing token', async () => {
    const s = start(['--host', '0.0.0.0', '--port', '0']);
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/refusing to listen on 0\.0\.0\.0 without a token.*--token <T> or INTERLOCK_TOKEN/);
  });

  it("runs a team's own kinds from --config, behind the token", async () => {
    const s = start(['--port', '0', '--config', 'test/gateway/fixtures/counter-config.ts'], { INTERLOCK_TOKEN: 'tok' });
    const url = await listening(s);
    expect(s.stderr()).toMatch(/kinds: session, agent, counter/);
    expect(s.stderr()).toMatch(/Bearer token required/);
    expect(s.stderr()).toContain(`inspector ${url}/inspector/?token=tok`);
    const ask = (auth: string) =>
      fetch(`${url}/v1/actors/counter/c1/ask`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify({ event: { type: 'add', by: 2 } }),
      });
    expect((await ask('Bearer nope')).status).toBe(401);
    const ok = await ask('Bearer tok');
    expect(await ok.json()).toEqual({ address: 'counter/c1', reply: 2 });
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
  });
});
