/**
 * The exact wire of `POST /v1/chat/completions` streamed (src/gateway/chat.ts) over real
 * HTTP, and the log lines of a failed request (logFailure): the SSE headers, the
 * completion id `chatcmpl-<request id>`, `created` in seconds, the opening assistant frame,
 * the `request completed` line of a streamed reply (once), and 5xx logged as request_failed
 * (error) while 4xx is request_refused (info).
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InterlockError } from '../../src/errors.js';
import type { KindConfig } from '../../src/index.js';
import { waitUntil } from '../fixtures/upstream.js';
import { vaultKind } from '../transport/helpers.js';
import { closeAll, MODEL, ScriptedModel, startGateway, type LogLine, type TestGateway } from './helpers.js';

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

/** A chat request left open: what has arrived so far, and the client can hang up. */
class OpenChat {
  res: IncomingMessage | undefined;
  text = '';
  readonly ended: Promise<void>;
  private readonly req: ClientRequest;

  constructor(url: string, body: unknown, headers: Record<string, string> = {}) {
    let end!: () => void;
    this.ended = new Promise((resolve) => (end = resolve));
    this.req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      this.res = res;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (this.text += c));
      res.on('close', end);
    });
    this.req.on('error', end);
    this.req.on('close', () => {
      if (this.res === undefined) end();
    });
    this.req.end(JSON.stringify(body));
  }

  /** The client goes away. */
  hangUp(): void {
    this.req.destroy();
  }
}

const chatBody = (content: string | null, extra: Record<string, unknown> = {}) => ({ model: MODEL, messages: [{ role: 'user', content }], ...extra });

/** The JSON `data:` payloads of an SSE body, in order (`[DONE]` as is, comments skipped). */
const payloads = (text: string): unknown[] =>
  text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => (f === 'data: [DONE]' ? '[DONE]' : JSON.parse(f.slice(6))));

/** The log lines of one session, without Fastify's own request lines, as [msg, the fields named]. */
function sessionLines(gw: TestGateway, session: string, fields: string[]): unknown[][] {
  return gw.logs.filter((l: LogLine) => l.session === session).map((l) => [l.msg, ...fields.filter((f) => f in l).map((f) => `${f}=${String(l[f])}`)]);
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

describe('a non-streamed chat completion', () => {
  it('answers one chat.completion JSON: the whole text, finish_reason stop, and usage the gateway counts (prompt words, content chunks)', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider });
    const asked = rawPost(`${gw.url}/v1/chat/completions`, chatBody(' one  two\tthree '), { 'x-session-id': 'j1' });
    const call = await model.call(' one  two\tthree ');
    call.say('Hi', ' there', '!');
    call.finish();
    const { res, text } = await asked;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const requestId = res.headers['x-request-id'] as string;
    const body = JSON.parse(text) as { created: number };
    expect(body).toEqual({
      id: `chatcmpl-${requestId}`,
      object: 'chat.completion',
      created: body.created,
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there!' }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
    expect(Number.isInteger(body.created) && body.created <= Math.floor(Date.now() / 1000)).toBe(true);

    // A prompt with no words (null content) counts none.
    const empty = rawPost(`${gw.url}/v1/chat/completions`, chatBody(null), { 'x-session-id': 'j2' });
    const second = await model.call('');
    second.say('ok');
    second.finish();
    expect((JSON.parse((await empty).text) as { usage: unknown }).usage).toEqual({ prompt_tokens: 0, completion_tokens: 1, total_tokens: 1 });
  });
});

describe('the stream lines of the log', () => {
  it("carry the stream's generation: stream_start, stream_fenced (a call that ignores its abort), stream_detached (its client left under detach)", async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider, session: { cleanupDeadlineMs: 20 } });
    const url = gw.url;
    const first = new OpenChat(url, chatBody('p1', { stream: true }), { 'x-session-id': 'g' });
    const p1 = await model.call('p1');
    p1.say('a');
    p1.finish();
    await first.ended;

    model.ignoreAbort = true;
    const second = new OpenChat(url, chatBody('p2', { stream: true }), { 'x-session-id': 'g' });
    const p2 = await model.call('p2');
    model.ignoreAbort = false;
    // p3 interrupts p2, whose call ignores the abort: fenced at the cleanup deadline.
    const third = new OpenChat(url, chatBody('p3', { stream: true }), { 'x-session-id': 'g', 'x-interlock-on-disconnect': 'detach' });
    const p3 = await model.call('p3');
    await second.ended;
    p3.say('b');
    await waitUntil(() => third.text.includes('"b"'), 'the third client read its chunk');
    third.hangUp();
    await waitUntil(() => gw.logs.some((l) => l.msg === 'stream_detached'), 'the session detached the third stream');
    p3.say('c');
    p3.finish();
    p2.finish();
    await waitUntil(() => gw.rt.view('session/g')?.state === 'idle', 'the session is idle');

    expect(sessionLines(gw, 'g', ['gen', 'reason', 'chunks', 'policy', 'started', 'code'])).toEqual([
      ['stream_start', 'gen=1'],
      ['stream_end', 'reason=done', 'chunks=1'],
      ['stream_start', 'gen=2'],
      ['stream_fenced', 'gen=2'],
      ['stream_end', 'reason=fenced', 'chunks=0'],
      ['request_refused', 'code=INTERLOCK_CANCELLED'],
      ['stream_start', 'gen=3'],
      ['client_disconnect', 'policy=detach', 'started=true'],
      ['stream_detached', 'gen=3'],
      ['stream_end', 'reason=done', 'chunks=2'],
    ]);
    // Each chat counted once, by how it ended for its client: the detached one as the hang-up, not again when its stream completed.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics.split('\n').filter((l) => l.startsWith('interlock_chat_requests_total{')).sort()).toEqual([
      'interlock_chat_requests_total{status="200"} 1',
      'interlock_chat_requests_total{status="409"} 1',
      'interlock_chat_requests_total{status="499"} 1',
    ]);
  });

  it('a stream its model call failed ends with reason error and no stream_cancelled line; the client gets the error event, the log the failure', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider });
    const chat = new OpenChat(gw.url, chatBody('boom', { stream: true }), { 'x-session-id': 'e' });
    const call = await model.call('boom');
    call.say('part');
    call.fail(new InterlockError('INTERLOCK_UPSTREAM_FAILED', 'Model server at http://10.0.0.7 answered 500'));
    await chat.ended;
    const frames = payloads(chat.text) as { choices?: unknown[]; error?: { code: string } }[];
    expect(frames.map((f) => (f === ('[DONE]' as never) ? '[DONE]' : (f.error?.code ?? 'chunk')))).toEqual(['chunk', 'chunk', 'INTERLOCK_UPSTREAM_FAILED', '[DONE]']);
    expect(sessionLines(gw, 'e', ['gen', 'reason', 'chunks', 'code', 'status'])).toEqual([
      ['stream_start', 'gen=1'],
      ['stream_end', 'reason=error', 'chunks=1'],
      ['request_failed', 'code=INTERLOCK_UPSTREAM_FAILED', 'status=502'],
    ]);
    expect(gw.logs.find((l) => l.msg === 'request_failed')!.err).toMatchObject({ code: 'INTERLOCK_UPSTREAM_FAILED', message: "The model call of session 'e' failed after its stream started.", address: 'session/e' });
  });
});

describe('a streamed chat completion, frame by frame', () => {
  it('role, one chunk per delta, stop, then with include_usage a usage chunk with no choices, then [DONE]; without it no usage chunk', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider });
    const frames = async (prompt: string, extra: Record<string, unknown>) => {
      const chat = new OpenChat(gw.url, chatBody(prompt, { stream: true, ...extra }), { 'x-session-id': 'f' });
      const call = await model.call(prompt);
      call.say('x', ' y');
      call.finish();
      await chat.ended;
      return { id: `chatcmpl-${chat.res!.headers['x-request-id'] as string}`, payloads: payloads(chat.text) as { created?: number }[] };
    };
    const withUsage = await frames('two words', { stream_options: { include_usage: true } });
    const head = { id: withUsage.id, object: 'chat.completion.chunk', created: withUsage.payloads[0]!.created, model: MODEL };
    expect(withUsage.payloads).toEqual([
      { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: { content: ' y' }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...head, choices: [], usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 } },
      '[DONE]',
    ]);
    for (const extra of [{}, { stream_options: null }, { stream_options: { include_usage: false } }]) {
      const plain = await frames(`no usage ${JSON.stringify(extra)}`, extra);
      expect(plain.payloads.map((p) => (p === ('[DONE]' as never) ? p : Object.keys(p).join()))).toEqual([
        'id,object,created,model,choices',
        'id,object,created,model,choices',
        'id,object,created,model,choices',
        'id,object,created,model,choices',
        '[DONE]',
      ]);
    }
  });
});

describe('a streamed chat cut off after it started', () => {
  it('gets the error event of why (interrupted, cancelled, rolled back, session closed), and the log says so in the seed\'s words', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider });
    const open = async (prompt: string, headers: Record<string, string> = {}) => {
      const chat = new OpenChat(gw.url, chatBody(prompt, { stream: true }), { 'x-session-id': 'x', ...headers });
      const call = await model.call(prompt);
      call.say(`${prompt}!`);
      await waitUntil(() => chat.text.includes(`${prompt}!`), `${prompt} streams`);
      return chat;
    };
    const errorOf = async (chat: OpenChat) => {
      await chat.ended;
      const all = payloads(chat.text);
      expect(all.at(-1)).toBe('[DONE]');
      return all.at(-2);
    };
    const a = await open('a');
    const b = await open('b');
    expect(await errorOf(a)).toEqual({
      error: { message: "The stream of session 'x' was interrupted by a newer prompt (policy 'interrupt').", type: 'invalid_request_error', param: null, code: 'INTERLOCK_SUPERSEDED' },
    });
    gw.rt.tell('session/x' as never, { type: 'cancel' } as never);
    expect(await errorOf(b)).toEqual({ error: { message: "The stream of session 'x' ended early (cancelled).", type: 'invalid_request_error', param: null, code: 'INTERLOCK_CANCELLED' } });
    const c = await open('c');
    const d = await open('d', { 'x-interlock-on-busy': 'rollback' });
    expect(await errorOf(c)).toEqual({
      error: { message: "The stream of session 'x' was interrupted by a newer prompt (policy 'rollback': its turn left the history).", type: 'invalid_request_error', param: null, code: 'INTERLOCK_SUPERSEDED' },
    });
    gw.rt.tell('session/x' as never, { type: 'close' } as never);
    expect(await errorOf(d)).toEqual({ error: { message: "The stream of session 'x' ended early (closed).", type: 'invalid_request_error', param: null, code: 'INTERLOCK_CANCELLED' } });

    const traces = new Map([a, b, c, d].map((chat, i) => [chat.res!.headers['x-request-id'] as string, 'abcd'[i]!]));
    const lines = gw.logs
      .filter((l) => l.session === 'x' && l.msg !== 'stream_start')
      .map((l) => [traces.get(l.trace ?? '') ?? l.trace, l.msg, ...['reason', 'code', 'status'].filter((f) => f in l).map((f) => `${f}=${String(l[f])}`)].join(' '));
    expect(lines).toEqual([
      'a stream_cancelled reason=new_stream',
      'a prev_stream_finished_cleanly',
      'a stream_end reason=interrupted',
      'a request_refused code=INTERLOCK_SUPERSEDED status=409',
      'b stream_cancelled reason=cancelled',
      'b stream_end reason=cancelled',
      'b request_refused code=INTERLOCK_CANCELLED status=409',
      'c stream_cancelled reason=rolledback',
      'c stream_end reason=rolledback',
      'c request_refused code=INTERLOCK_SUPERSEDED status=409',
      'd stream_cancelled reason=session_closed',
      'd stream_end reason=closed',
      'd request_refused code=INTERLOCK_CANCELLED status=409',
    ]);
    // The full error, with the session's address, goes to the log only.
    expect(gw.logs.filter((l) => l.msg === 'request_refused').map((l) => (l.err as { address?: string }).address)).toEqual(['session/x', 'session/x', 'session/x', 'session/x']);
  });
});

describe('a chat client that cannot be written to', () => {
  /** One trace's lines as `msg field=value…`, with the level when it is not info. */
  const traceLines = (gw: TestGateway, trace: string, fields: string[]) =>
    gw.logs
      .filter((l) => l.trace === trace)
      .map((l) => [l.level === 30 ? '' : `(${l.level}) `, l.msg, ...fields.filter((f) => f in l).map((f) => ` ${f}=${String(l[f])}`)].join(''));

  it('is dropped once more than maxBufferedBytes wait for it (slow_client_dropped, a warning), and its hang-up cancels the stream', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider, gateway: { maxBufferedBytes: 65_536 } });
    const chat = new OpenChat(gw.url, chatBody('big', { stream: true }), { 'x-session-id': 'slow' });
    const call = await model.call('big');
    call.say('small');
    await waitUntil(() => chat.text.includes('small'), 'the first chunk arrived');
    // One write far beyond what the sockets take at once: the rest waits in the server's buffer.
    // And one more right behind it, before the hang-up is noticed: nothing is written to the dropped client.
    call.say('x'.repeat(4 * 1_048_576), 'after');
    await waitUntil(() => gw.logs.some((l) => l.msg === 'stream_end'), 'the stream ended');
    await chat.ended;
    const trace = chat.res!.headers['x-request-id'] as string;
    const dropped = gw.logs.find((l) => l.msg === 'slow_client_dropped')!;
    expect(dropped.buffered as number).toBeGreaterThan(65_536);
    expect(traceLines(gw, trace, ['session', 'policy', 'started', 'reason', 'chunks'])).toEqual([
      'stream_start session=slow',
      '(40) slow_client_dropped session=slow',
      'client_disconnect session=slow policy=cancel started=true',
      'stream_cancelled session=slow reason=client_disconnect',
      'stream_end session=slow reason=client_disconnect chunks=3',
    ]);
  });

  it("whose session's mailbox is full when it hangs up: the disconnect becomes the runtime's cancel for its request (disconnect_not_queued, a warning)", async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider, session: { mailboxCapacity: 1 } });
    const headers = { 'x-session-id': 'full', 'x-interlock-on-busy': 'enqueue' };
    const a = new OpenChat(gw.url, chatBody('a', { stream: true }), headers);
    const callA = await model.call('a');
    callA.say('1');
    await waitUntil(() => a.text.includes('"1"'), 'a streams');
    const b = new OpenChat(gw.url, chatBody('b', { stream: true }), headers);
    await waitUntil(() => gw.rt.view('session/full')?.postponed === 1, 'b waits behind a, filling the mailbox');
    a.hangUp();
    // The runtime's cancel reaches a's stream: the session moves on to b.
    const callB = await model.call('b');
    callB.say('2');
    callB.finish();
    await b.ended;
    expect(payloads(b.text).at(-1)).toBe('[DONE]');
    const trace = a.res!.headers['x-request-id'] as string;
    expect(traceLines(gw, trace, ['session', 'policy', 'started'])).toEqual([
      'stream_start session=full',
      'client_disconnect session=full policy=cancel started=true',
      '(40) disconnect_not_queued session=full',
    ]);
    expect((gw.logs.find((l) => l.msg === 'disconnect_not_queued')!.err as { code: string }).code).toBe('INTERLOCK_MAILBOX_FULL');
  });
});

describe('a waiting chat whose client left', () => {
  it('under detach, then superseded while it waits: prompt_dropped, and nothing more is answered or counted for it', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider });
    model.ignoreAbort = true;
    const a = new OpenChat(gw.url, chatBody('a', { stream: true }), { 'x-session-id': 'p' });
    const callA = await model.call('a');
    model.ignoreAbort = false;
    callA.say('a!');
    await waitUntil(() => a.text.includes('a!'), 'a streams');
    // b interrupts a, whose call ignores the abort: b waits while the session cancels a.
    const b = new OpenChat(gw.url, chatBody('b', { stream: true }), { 'x-session-id': 'p', 'x-interlock-on-disconnect': 'detach' });
    await waitUntil(() => (gw.rt.view('session/p')?.context as { pending?: string } | undefined)?.pending !== undefined, 'b waits');
    b.hangUp();
    await waitUntil(() => gw.logs.some((l) => l.msg === 'client_disconnect'), "the gateway saw b's client leave");
    const bTrace = gw.logs.find((l) => l.msg === 'client_disconnect')!.trace!;
    const c = new OpenChat(gw.url, chatBody('c', { stream: true }), { 'x-session-id': 'p' });
    await waitUntil(() => gw.logs.some((l) => l.msg === 'prompt_dropped'), 'c superseded b');
    callA.finish();
    const callC = await model.call('c');
    callC.say('c!');
    callC.finish();
    await Promise.all([a.ended, c.ended]);
    expect(gw.logs.filter((l) => l.trace === bTrace).map((l) => [l.msg, ...['policy', 'started', 'reason'].filter((f) => f in l).map((f) => `${f}=${String(l[f])}`)].join(' '))).toEqual([
      'client_disconnect policy=detach started=false',
      'prompt_dropped reason=superseded',
    ]);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics.split('\n').filter((l) => l.startsWith('interlock_chat_requests_total{')).sort()).toEqual([
      'interlock_chat_requests_total{status="200"} 1',
      'interlock_chat_requests_total{status="409"} 1',
      'interlock_chat_requests_total{status="499"} 1',
    ]);
  });
});

describe('a gateway without metrics', () => {
  it('answers, refuses and loses chats as one with them does', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider, gateway: { metrics: false } });
    const done = new OpenChat(gw.url, chatBody('a', { stream: true }), { 'x-session-id': 'm' });
    const callA = await model.call('a');
    callA.say('a!');
    callA.finish();
    await done.ended;
    expect(payloads(done.text).at(-1)).toBe('[DONE]');
    const left = new OpenChat(gw.url, chatBody('b', { stream: true }), { 'x-session-id': 'm' });
    const callB = await model.call('b');
    callB.say('b!');
    await waitUntil(() => left.text.includes('b!'), 'b streams');
    const refused = await rawPost(`${gw.url}/v1/chat/completions`, chatBody('c'), { 'x-session-id': 'm', 'x-interlock-on-busy': 'reject' });
    expect([refused.res.statusCode, (JSON.parse(refused.text) as { error: { code: string } }).error.code]).toEqual([409, 'INTERLOCK_BUSY']);
    left.hangUp();
    await waitUntil(() => gw.logs.some((l) => l.msg === 'stream_end' && l.reason === 'client_disconnect'), "b's stream ended with its client");
    expect(gw.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});

describe('maxBufferedBytes', () => {
  it('drops a client only when more than that many bytes wait for it: exactly that many is fine', async () => {
    // How many bytes the first write (headers and the role chunk) leaves waiting: a gateway that allows 1 drops the client at once and says.
    const model = new ScriptedModel();
    const probe = await startGateway({ provider: model.provider, gateway: { maxBufferedBytes: 1 } });
    const dropped = new OpenChat(probe.url, chatBody('a', { stream: true }), { 'x-session-id': 'q' });
    await dropped.ended;
    const first = probe.logs.find((l) => l.msg === 'slow_client_dropped')!.buffered as number;
    expect(first).toBeGreaterThan(1);

    const gw = await startGateway({ provider: model.provider, gateway: { maxBufferedBytes: first } });
    const chat = new OpenChat(gw.url, chatBody('b', { stream: true }), { 'x-session-id': 'q' });
    const call = await model.call('b');
    call.say('b!');
    call.finish();
    await chat.ended;
    expect(payloads(chat.text).at(-1)).toBe('[DONE]');
    expect(gw.logs.filter((l) => l.msg === 'slow_client_dropped')).toEqual([]);
  });
});

/**
 * Interval timers under the test's hand (the gateway's keep-alive is one): none runs by
 * itself; `tick()` runs every one still set, once. `delays` are the periods asked for.
 */
function handIntervals(): { tick(): void; delays: number[] } {
  const live = new Map<object, () => void>();
  const delays: number[] = [];
  vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: () => void, ms: number) => {
    const handle = { unref: () => handle, ref: () => handle, hasRef: () => false, refresh: () => handle };
    live.set(handle, fn);
    delays.push(ms);
    return handle;
  }) as never);
  vi.spyOn(globalThis, 'clearInterval').mockImplementation(((handle: object) => void live.delete(handle)) as never);
  return { tick: () => [...live.values()].forEach((fn) => fn()), delays };
}

describe('keep-alive comments', () => {
  afterEach(() => void vi.restoreAllMocks());

  it('go every keepAliveMs to a streamed prompt that waits; a non-streamed one waiting beside it gets none, and its JSON', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider, gateway: { keepAliveMs: 20 } });
    const timers = handIntervals();
    const headers = { 'x-session-id': 'k', 'x-interlock-on-busy': 'enqueue' };
    const first = new OpenChat(gw.url, chatBody('a', { stream: true }), headers);
    const a = await model.call('a');
    const streamed = new OpenChat(gw.url, chatBody('b', { stream: true }), headers);
    const plain = new OpenChat(gw.url, chatBody('c'), headers);
    await waitUntil(() => gw.rt.view('session/k')?.postponed === 2, 'b and c wait behind a');
    timers.tick();
    timers.tick();
    await waitUntil(() => streamed.text === ': keep-alive\n\n: keep-alive\n\n', 'the waiting streamed chat got two keep-alives');
    a.finish();
    await first.ended;
    const b = await model.call('b');
    b.say('x');
    b.finish();
    await streamed.ended;
    const c = await model.call('c');
    c.say('y');
    c.finish();
    await waitUntil(() => plain.res !== undefined, 'the non-streamed chat was answered');
    expect(plain.res!.headers['content-type']).toBe('application/json; charset=utf-8');
    await plain.ended;
    expect(timers.delays).toEqual([20, 20]);
    expect(streamed.text.startsWith(': keep-alive\n\n: keep-alive\n\ndata: ')).toBe(true);
    expect(streamed.text.split(': keep-alive').length).toBe(3);
    expect((JSON.parse(plain.text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('y');
  });

  it('are off with keepAliveMs 0: a streamed prompt that waits gets its stream and nothing before it', async () => {
    const model = new ScriptedModel();
    const gw = await startGateway({ provider: model.provider, gateway: { keepAliveMs: 0 } });
    const timers = handIntervals();
    const headers = { 'x-session-id': 'k0', 'x-interlock-on-busy': 'enqueue' };
    const first = new OpenChat(gw.url, chatBody('a', { stream: true }), headers);
    const a = await model.call('a');
    const waiting = new OpenChat(gw.url, chatBody('b', { stream: true }), headers);
    await waitUntil(() => gw.rt.view('session/k0')?.postponed === 1, 'b waits behind a');
    timers.tick();
    a.finish();
    await first.ended;
    const b = await model.call('b');
    b.say('x');
    b.finish();
    await waiting.ended;
    expect(timers.delays).toEqual([]);
    expect(waiting.text.startsWith('data: ')).toBe(true);
    expect(waiting.text).not.toContain('keep-alive');
  });
});
