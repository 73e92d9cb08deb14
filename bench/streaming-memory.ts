/**
 * The stream suite's memory rows (bench/streaming.ts): heap per idle session after one
 * 250-token reply, and per streaming session, each beside its bare baseline.
 */
import { Subject } from 'rxjs';
import { check, gc, int, type Case } from './harness.js';
import { streamApi, type StreamApi } from './streaming-api.js';
import { bareLaunch, bareTimerTokens, interlockLaunch, lazyTokens, QUICK, RATE, replyText, SIDE, sleep, tokenize, Tracker, waitFor, type Launch } from './streaming-fleet.js';

export const MEM_SESSIONS = QUICK ? 100 : 1_000;
export const REPLY_TOKENS = 250;
export const MEM_IDLE_ID = `stream memory idle after one ${REPLY_TOKENS}-token reply`;
export const MEM_STREAM_ID = 'stream memory streaming';
const QUICK_REPS = QUICK ? { reps: 1 } : {};

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** simulated() with every inter-token delay replaced by one macrotask turn: a 250-token reply without 5 s of waiting. */
const immediateClock = {
  now: () => Date.now(),
  setTimeout: (fn: () => void) => setImmediate(fn),
  clearTimeout: (h: unknown) => clearImmediate(h as NodeJS.Immediate),
};

function memCase(id: string, side: string, size: string, measure: (api: StreamApi) => Promise<number>): Case {
  return {
    id: `${id}/${side}`,
    size,
    metrics: [{ key: 'heap', unit: 'B/session' }],
    ...QUICK_REPS,
    async run() {
      return { heap: await measure(await streamApi()) };
    },
  };
}

export function memGroups(): Case[][] {
  const n = MEM_SESSIONS;
  const text = replyText(REPLY_TOKENS);
  const idleSize = `${int(n)} sessions, 1 prompt + 1 reply of ${REPLY_TOKENS} tokens (${text.length} chars)`;
  const idle = [
    memCase(MEM_IDLE_ID, SIDE.memIdle, idleSize, async (api) => {
      const tr = new Tracker(n, tokenize(text));
      const h0 = heapUsed();
      const rt = api.createRuntime({ kinds: { session: { machine: api.sessionMachine({ provider: api.simulated({ text, clock: immediateClock }) }), cancelEvent: 'cancel' } } });
      for (let i = 0; i < n; i++) {
        rt.ref(`session/s${i}`)
          .stream({ type: 'prompt', text: `hello ${i}` })
          .subscribe({
            next: (e) => {
              if (e.type === 'chunk') tr.token(i, (e as { text: string }).text);
            },
            complete: () => tr.completed++,
            error: (err) => tr.fail(err),
          });
      }
      await waitFor(() => tr.completed === n || tr.failed !== undefined, 'every reply complete', 60_000);
      await waitFor(() => rt.snapshot(`session/s${n - 1}`)?.value === 'idle', 'sessions idle');
      const h1 = heapUsed();
      // Checked after the measurement: comparing strings flattens the reply ropes.
      tr.verify({ everySessionExactly: REPLY_TOKENS, completed: n });
      check(rt.size === n, `live sessions ${rt.size} != ${n}`);
      for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 50))) {
        const s = rt.snapshot(`session/s${i}`)!;
        const h = s.context.history as { role: string; content: string }[];
        check(s.value === 'idle' && h.length === 2 && h[0]!.content === `hello ${i}` && h[1]!.content === text, `session ${i}: idle with its prompt and reply in history`);
      }
      await rt.shutdown();
      return (h1 - h0) / n;
    }),
    memCase(MEM_IDLE_ID, SIDE.memIdleBare, idleSize, async () => {
      const tr = new Tracker(n, tokenize(text));
      const h0 = heapUsed();
      const sessions = new Map<string, { history: { role: string; content: string }[] }>();
      const stop = { stopped: false };
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const history = [{ role: 'user', content: `hello ${i}` }];
          sessions.set(`session/s${i}`, { history });
          const subject = new Subject<string>();
          const parts: string[] = [];
          subject.subscribe((t) => {
            tr.token(i, t);
            parts.push(t);
          });
          for await (const t of immediateTokens(text, stop)) subject.next(t);
          subject.complete();
          history.push({ role: 'assistant', content: parts.join('') });
          tr.completed++;
        }),
      );
      const h1 = heapUsed();
      tr.verify({ everySessionExactly: REPLY_TOKENS, completed: n });
      check(sessions.size === n && sessions.get(`session/s${n - 1}`)!.history[1]!.content === text, 'bare history');
      return (h1 - h0) / n;
    }),
    memCase(MEM_IDLE_ID, SIDE.memText, idleSize, async () => {
      const texts: string[] = new Array(2 * n).fill('');
      const h0 = heapUsed();
      // Each session's prompt and reply as flat strings of their own (fresh copies, nothing shared).
      for (let i = 0; i < n; i++) {
        texts[2 * i] = `hello ${i}`;
        texts[2 * i + 1] = Buffer.from(text, 'latin1').toString('latin1');
      }
      const h1 = heapUsed();
      check(texts[2 * n - 1] === text && texts[2 * n - 2] === `hello ${n - 1}`, 'history texts');
      return (h1 - h0) / n;
    }),
  ];
  const streamText = replyText(REPLY_TOKENS);
  const streamSize = `${int(n)} sessions × ${RATE} tok/s, measured ~1 s into a ${REPLY_TOKENS}-token reply`;
  const streaming = [
    memCase(MEM_STREAM_ID, SIDE.memStream, streamSize, (api) => streamingHeap(interlockLaunch(api, () => api.simulated({ tokensPerSecond: RATE, text: streamText })), n, streamText)),
    memCase(MEM_STREAM_ID, SIDE.memStreamBare, streamSize, () => streamingHeap(bareLaunch((stop) => bareTimerTokens(streamText, stop)), n, streamText)),
  ];
  return [idle, streaming];
}

async function* immediateTokens(text: string, stop: { stopped: boolean }): AsyncGenerator<string> {
  for (const token of lazyTokens(text)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (stop.stopped) return;
    yield token;
  }
}

async function streamingHeap(launch: Launch, n: number, text: string): Promise<number> {
  const tr = new Tracker(n, tokenize(text));
  const h0 = heapUsed();
  const fleet = await launch(n, tr);
  try {
    await sleep(QUICK ? 150 : 1_000);
    const h1 = heapUsed();
    const completed = tr.completed;
    await fleet.stop();
    tr.verify({ everySessionAtLeast: 1 });
    check(completed === 0, 'a stream ended before the heap was measured');
    return (h1 - h0) / n;
  } catch (err) {
    await fleet.stop().catch(() => undefined);
    throw err;
  }
}

