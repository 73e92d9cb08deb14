/**
 * Benchmark 9 (issue 10): fan-out over the interlock.v1 WebSocket, against a raw `ws`
 * broadcast of the same messages, in the same process and run (interleaved repetitions).
 *
 * - Records/s delivered to N subscribers (1, 10, 100, 1,000), each its own WebSocket
 *   connection, all in one client process (bench/fanout-clients.ts) so their CPU is not
 *   the server's. The records are `emitted` records of one actor, produced on the
 *   runtime's data plane (a task's `emit`, no transition per record), each a `next` of
 *   ~200 B (one such actor per Interlock mode, so a record goes to one client process). Interlock: `attachWebSocket` on a node:http server, every client subscribed to
 *   the address; once with one frame per record, once with batched frames (clients that
 *   sent `batch: true`). Raw ws: a `WebSocketServer` whose broadcast JSON.stringifies the
 *   same `next` message once and `ws.send`s it to every client.
 * - Both sides are paced alike, as a server must be: after every 100 records, the producer
 *   waits while any client socket holds more than 1 MiB unwritten.
 * - Figure: deliveries (records x subscribers) / time from the first record produced to
 *   the clients having counted all of them; server CPU per delivery (`process.cpuUsage()`).
 * - Resume: a client reconnects and subscribes with `since` 1,000 records back: time from
 *   sending `subscribe` to holding all 1,000, in order (one frame per record, and batched).
 *
 * Measures src/ through tsx (the transport is not part of the index bundle). `BENCH_QUICK=1`
 * shrinks every size (a smoke run, numbers meaningless).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setup } from 'xstate';
import { WebSocketServer, WebSocket } from 'ws';
import { createRuntime, reply, runTask, type KindConfig, type TaskContext } from '../src/index.js';
import type { Runtime } from '../src/runtime/Runtime.js';
import { attachWebSocket } from '../src/transport/attachWebSocket.js';
import { bootEpoch, toWireEpoch } from '../src/transport/wireRecord.js';
import { check, msSince, now, tick, type Case, type Metric } from './harness.js';

export const QUICK = process.env.BENCH_QUICK === '1';
export const SUBSCRIBERS = QUICK ? [1, 10] : [1, 10, 100, 1_000];
/** Deliveries per repetition (records = DELIVERIES / subscribers). */
export const DELIVERIES = QUICK ? 4_000 : 300_000;
export const RESUME_MISSED = QUICK ? 100 : 1_000;
export const CHUNK = 100;
const PACE_BYTES = 1024 * 1024;
const REPS = QUICK ? { reps: 1 } : {};

export type Mode = 'raw ws' | 'interlock, one frame per record' | 'interlock, batched frames';
export const MODES: Mode[] = ['raw ws', 'interlock, one frame per record', 'interlock, batched frames'];
const FEED = { 'interlock, one frame per record': 'feed/one', 'interlock, batched frames': 'feed/batch' } as const;
export const fanoutId = (n: number) => `fanout ${n.toLocaleString('en-US')} subscriber${n === 1 ? '' : 's'}`;
export const RESUME_ID = `resume ${RESUME_MISSED.toLocaleString('en-US')} missed records`;

const METRICS: Metric[] = [
  { key: 'rps', unit: 'records/s', higherIsBetter: true },
  { key: 'cpu', unit: 'µs/delivery', label: 'server CPU per delivery' },
];

// ---- the servers ---------------------------------------------------------------------

type Emit = TaskContext['emit'];
/** What the feed actor's task runs: set per repetition. */
let produce: (emit: Emit) => Promise<void> = async () => undefined;

const feedMachine = setup({}).createMachine({
  initial: 'idle',
  states: {
    idle: { on: { run: 'running' } },
    running: {
      entry: runTask(({ emit }) => produce(emit), { done: () => ({ type: '@feed.done' }), error: () => ({ type: '@feed.done' }) }),
      on: { '@feed.done': { target: 'idle', actions: reply(() => 'done') } },
    },
  },
});

interface Servers {
  rt: Runtime;
  interlock: { url: string; sockets: Set<Socket>; server: Server };
  raw: { url: string; clients: Set<WebSocket>; server: Server; wss: WebSocketServer };
}
let servers: Promise<Servers> | undefined;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2_048 }, resolve));
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function startServers(): Promise<Servers> {
  return (servers ??= (async () => {
    const rt = createRuntime({ kinds: { feed: { machine: feedMachine, mailbox: { capacity: 10 } } as KindConfig } }) as unknown as Runtime;
    // Live before anyone subscribes; one actor per Interlock mode, so each record goes to one client process.
    for (const a of Object.values(FEED)) await rt.ask(a, { type: 'run' } as never);
    const ilServer = createServer();
    const sockets = new Set<Socket>();
    ilServer.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    // The producer paces itself (as the raw side does), so the server's own slow-consumer
    // handling (holding, coalescing snapshot records, 1013) never has to step in.
    attachWebSocket(ilServer, rt, { rateLimit: false, maxSubscriptions: 10, highWaterBytes: 64 * 1024 * 1024, hardLimitBytes: 128 * 1024 * 1024 });
    const rawServer = createServer();
    const wss = new WebSocketServer({ server: rawServer, perMessageDeflate: false, maxPayload: 64 * 1024 });
    const clients = new Set<WebSocket>();
    wss.on('connection', (ws) => {
      clients.add(ws);
      ws.once('close', () => clients.delete(ws));
    });
    return {
      rt,
      interlock: { url: `${await listen(ilServer)}/ws`, sockets, server: ilServer },
      raw: { url: await listen(rawServer), clients, server: rawServer, wss },
    };
  })());
}

/** Waits while any of these sockets holds more than PACE_BYTES unwritten. */
async function pace(writable: () => number): Promise<void> {
  while (writable() > PACE_BYTES) await tick();
}

const maxOf = <T>(xs: Iterable<T>, f: (x: T) => number) => {
  let m = 0;
  for (const x of xs) m = Math.max(m, f(x));
  return m;
};

// ---- the subscribers -------------------------------------------------------------------

interface Clients {
  child: ChildProcess;
  count: number;
}

function startClients(url: string, mode: Mode, n: number): Promise<Clients> {
  const wire = mode === 'raw ws' ? 'raw' : mode === 'interlock, batched frames' ? 'interlock-batch' : 'interlock';
  return new Promise((resolve, reject) => {
    const address = mode === 'raw ws' ? '' : FEED[mode];
    const child = fork(fileURLToPath(new URL('./fanout-clients.ts', import.meta.url)), [url, wire, String(n), address], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve({ child, count: (m as { count: number }).count }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fan-out clients exited with code ${code}`)));
  });
}

/** Resolves with the clients' count once it reaches `target`; rejects (with the count) after 120 s. */
function reached(c: Clients, target: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.child.send({ report: true });
      c.child.once('message', (m) => reject(new Error(`the clients counted ${(m as { count: number }).count} of ${target} messages in 120 s`)));
    }, 120_000);
    const on = (m: { reached?: boolean; count: number }) => {
      if (!m.reached) return;
      clearTimeout(timer);
      c.child.off('message', on);
      resolve(m.count);
    };
    c.child.on('message', on);
    c.child.send({ target });
  });
}

function stopClients(c: Clients | undefined): Promise<void> {
  if (!c || c.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.child.once('exit', () => resolve());
    c.child.disconnect();
  });
}

// ---- one repetition ----------------------------------------------------------------------

async function produceRaw(s: Servers, records: number): Promise<void> {
  const base = bootEpoch(s.rt);
  for (let i = 0; i < records; i++) {
    const text = JSON.stringify({
      type: 'next',
      id: 's',
      payload: { address: 'feed/one', epoch: toWireEpoch(base, 1), seq: i, ts: Date.now(), type: 'emitted', data: { event: { type: 'tick', i }, requestId: 'r' } },
    });
    for (const ws of s.raw.clients) ws.send(text);
    if ((i + 1) % CHUNK === 0) await pace(() => maxOf(s.raw.clients, (ws) => ws.bufferedAmount));
  }
}

async function produceInterlock(s: Servers, address: string, records: number): Promise<void> {
  produce = async (emit) => {
    for (let i = 0; i < records; i++) {
      emit({ type: 'tick', i });
      if ((i + 1) % CHUNK === 0) await pace(() => maxOf(s.interlock.sockets, (x) => x.writableLength));
    }
  };
  await s.rt.ask(address, { type: 'run' } as never, { timeoutMs: 600_000 });
}

function fanoutCase(mode: Mode, n: number): Case {
  const records = Math.max(1, Math.round(DELIVERIES / n));
  let clients: Clients | undefined;
  return {
    id: `${fanoutId(n)}/${mode}`,
    size: `${records.toLocaleString('en-US')} records x ${n.toLocaleString('en-US')}`,
    metrics: METRICS,
    ...REPS,
    async run() {
      const s = await startServers();
      clients ??= await startClients(mode === 'raw ws' ? s.raw.url : s.interlock.url, mode, n);
      const address = mode === 'raw ws' ? undefined : FEED[mode];
      const before = address === undefined ? 0 : s.rt.view(address)!.seq;
      const c0 = process.cpuUsage();
      const t0 = now();
      await (address === undefined ? produceRaw(s, records) : produceInterlock(s, address, records));
      // Interlock's run also publishes the turn's own records (mailbox, task, snapshot): they count too.
      const published = address === undefined ? records : s.rt.view(address)!.seq - before;
      const target = clients.count + published * n;
      const count = await reached(clients, target);
      const ms = msSince(t0);
      const cpu = process.cpuUsage(c0);
      check(count === target, `the clients counted ${count} messages, expected ${target}`);
      clients.count = count;
      return { rps: (published * n) / (ms / 1e3), cpu: (cpu.user + cpu.system) / (published * n) };
    },
    async dispose() {
      await stopClients(clients);
      clients = undefined;
    },
  };
}

/** An in-process interlock.v1 client for the resume rows: its frames, and a wait for a condition on them. */
async function connect(url: string, batch: boolean) {
  const ws = new WebSocket(url, ['interlock.v1'], { perMessageDeflate: false });
  const frames: string[] = [];
  let wake: () => void = () => undefined;
  ws.on('message', (d: Buffer) => {
    frames.push(d.toString());
    wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((r) => (wake = r));
  };
  ws.send(JSON.stringify({ type: 'connection_init', payload: { batch } }));
  await until(() => frames.length > 0);
  frames.length = 0;
  return { ws, frames, until };
}

interface Next {
  payload: { epoch: number; seq: number };
}

function resumeCase(batch: boolean): Case {
  const address = `feed/resume-${batch ? 'batch' : 'one'}`;
  return {
    id: `${RESUME_ID}/${batch ? 'batched frames' : 'one frame per record'}`,
    size: `${RESUME_MISSED.toLocaleString('en-US')} records`,
    metrics: [{ key: 'ms', unit: 'ms', label: 'subscribe with since → all missed records received' }],
    ...REPS,
    async run() {
      const s = await startServers();
      produce = async (emit) => {
        for (let i = 0; i < RESUME_MISSED; i++) emit({ type: 'tick', i });
      };
      // A client watches (its first record is its resume point), goes away, and misses a run.
      const first = await connect(s.interlock.url, batch);
      await s.rt.ask(address, { type: 'run' } as never);
      first.ws.send(JSON.stringify({ type: 'subscribe', id: 'r', payload: { address } }));
      await first.until(() => first.frames.length > 0);
      const frame = JSON.parse(first.frames[0]!) as Next | Next[];
      const at = Array.isArray(frame) ? frame[0]! : frame;
      first.ws.terminate();
      await s.rt.ask(address, { type: 'run' } as never);
      const again = await connect(s.interlock.url, batch);
      const countIn = (f: string) => (f.startsWith('[') ? f.split('{"type":"next"').length - 1 : 1);
      let got = 0;
      const t0 = now();
      again.ws.send(JSON.stringify({ type: 'subscribe', id: 'r', payload: { address, since: { epoch: at.payload.epoch, seq: at.payload.seq } } }));
      await again.until(() => (got = again.frames.reduce((a, f) => a + countIn(f), 0)) >= RESUME_MISSED);
      const ms = msSince(t0);
      const seqs = again.frames.flatMap((f) => [...f.matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1])));
      // The run publishes its emits and its turn's own records; the first 1,000 after the resume point, in order.
      check(!again.frames.join('').includes('"recovered":false'), 'the resume point was no longer buffered');
      check(seqs.slice(0, RESUME_MISSED).every((q, i) => q === at.payload.seq + 1 + i), `resumed records out of order or with a gap (${got})`);
      again.ws.terminate();
      return { ms };
    },
  };
}

export function fanoutGroups(): Case[][] {
  return [...SUBSCRIBERS.map((n) => MODES.map((m) => fanoutCase(m, n))), [resumeCase(false), resumeCase(true)]];
}
