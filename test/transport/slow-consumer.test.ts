/**
 * Slow consumers, with a real client that stops reading (its socket paused): past the
 * high-water mark snapshot records coalesce to the latest per address and the client,
 * once it reads again, still gets every other record and the newest state; past the hard
 * mark it is closed with 1013 and the server's memory returns to its baseline (measured in
 * a child process with --expose-gc: heapUsed + external, after the client is gone).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusRecord } from '../../src/index.js';
import { CloseCode, type NextMessage } from '../../src/transport/protocol.js';
import { closeAllServers, RawClient, startServer, until } from './helpers.js';

afterEach(closeAllServers);

const paused = (c: RawClient) => (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

describe('a client that stops reading', () => {
  it('gets snapshot records coalesced to the latest past the high-water mark, and every other record, in order', async () => {
    const s = await startServer({ rateLimit: false });
    const truth: BusRecord[] = [];
    s.rt.events$.subscribe((r) => truth.push(r));
    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'hot', payload: { address: 'vault/hot' } });
    c.send({ type: 'ping' });
    await c.until((m) => m.type === 'pong');
    paused(c).pause();
    // 300 snapshots of ~100 KB (30 MB) to a reader that does not read: more than the hard mark unless they coalesce.
    for (let i = 0; i < 300; i++) {
      s.rt.tell('vault/hot', { type: 'big', size: 100_000 } as never);
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    const last = s.rt.view('vault/hot')!;
    expect(s.logs.filter((l) => l.msg === 'ws_slow_consumer')).toEqual([]);
    paused(c).resume();
    await c.until((m) => m.type === 'next' && m.payload.seq === last.seq, 30_000);
    const got = c.messages.filter((m): m is NextMessage => m.type === 'next').map((m) => m.payload);
    const bySeq = new Map(truth.filter((r) => r.address === 'vault/hot').map((r) => [r.seq, r]));
    const skipped: number[] = [];
    for (let i = 1; i < got.length; i++) for (let q = got[i - 1]!.seq + 1; q < got[i]!.seq; q++) skipped.push(q);
    expect(skipped.length).toBeGreaterThan(0);
    // Only snapshot records are skipped, and the next snapshot the client gets says it replaced them.
    for (const q of skipped) {
      expect(bySeq.get(q)!.type, `seq ${q}`).toBe('snapshot');
      expect(got.find((p) => p.seq > q && p.type === 'snapshot'), `after seq ${q}`).toMatchObject({ coalesced: true });
    }
    expect(got.filter((p) => p.coalesced).every((p) => p.type === 'snapshot')).toBe(true);
    expect(got.map((p) => p.seq)).toEqual([...got.map((p) => p.seq)].sort((a, b) => a - b));
    expect(got.filter((p) => p.type === 'mailbox.delivered')).toHaveLength(300);
    expect((got.at(-1)!.data as { context: { n: number } }).context.n).toBe(300);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  }, 60_000);

  it('never coalesces away a recovered:false snapshot: the flag that says records were missed reaches the client', async () => {
    let first: RawClient;
    // The authorize hook tells the test when the server has taken the resubscription (it is asked first, synchronously).
    let resubscribed = false;
    const authorize = ({ address }: { address: string }) => (resubscribed ||= address === 'vault/r' && first.ws.readyState === first.ws.CLOSED) || true;
    const s = await startServer({ rateLimit: false, replay: 8, highWaterBytes: 64 * 1024, authorize });
    // A resume point that will have left the ring of 8 by the time the client comes back.
    s.rt.tell('vault/r', { type: 'inc' } as never);
    first = await RawClient.connect(s);
    first.send({ type: 'subscribe', id: 'a', payload: { address: 'vault/r' } });
    await first.until((m) => m.type === 'next');
    const point = (first.messages.find((m) => m.type === 'next') as NextMessage).payload;
    first.ws.close();
    for (let i = 0; i < 20; i++) s.rt.tell('vault/r', { type: 'inc' } as never);
    await new Promise((r) => setImmediate(r));

    const c = await RawClient.connect(s);
    c.send({ type: 'subscribe', id: 'big', payload: { address: 'vault/big' } });
    c.send({ type: 'ping' });
    await c.until((m) => m.type === 'pong');
    paused(c).pause();
    // Past the high-water mark, so what follows is held (and snapshots may coalesce).
    for (let i = 0; i < 100; i++) {
      s.rt.tell('vault/big', { type: 'big', size: 100_000 } as never);
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    c.send({ type: 'subscribe', id: 'r', payload: { address: 'vault/r', since: { epoch: point.epoch, seq: point.seq } } });
    await until(() => resubscribed);
    // A later snapshot of the same address, while the recovered one is still held.
    s.rt.tell('vault/r', { type: 'inc' } as never);
    await new Promise((r) => setImmediate(r));
    const last = s.rt.view('vault/r')!;
    paused(c).resume();
    await c.until((m) => m.type === 'next' && m.id === 'r' && m.payload.seq === last.seq, 30_000);
    const got = c.messages.filter((m): m is NextMessage => m.type === 'next' && m.id === 'r').map((m) => m.payload);
    expect(got[0]).toMatchObject({ type: 'snapshot', recovered: false });
    // The later snapshot replaced nothing it may not: after the recovered one, every record of the inc, the snapshot last.
    expect(got.slice(1).map((p) => p.seq)).toEqual(Array.from({ length: last.seq - got[0]!.seq }, (_, i) => got[0]!.seq + 1 + i));
    expect(got.at(-1)).toMatchObject({ type: 'snapshot', seq: last.seq });
  }, 60_000);

  it('is closed with 1013 past the hard mark, and the server memory returns to its baseline', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/transport/fixtures/slow-consumer-heap.ts', '300'], {
      timeout: 90_000,
      maxBuffer: 1024 * 1024,
    });
    const r = JSON.parse(stdout) as { code: number; decided: { buffered: number; hardLimitBytes: number }; baseline: number; peak: number; after: number; rss: number };
    console.log(`slow consumer: baseline ${(r.baseline / 2 ** 20).toFixed(1)} MiB, after 1013 ${(r.peak / 2 ** 20).toFixed(1)} MiB, after the client left ${(r.after / 2 ** 20).toFixed(1)} MiB (rss ${(r.rss / 2 ** 20).toFixed(0)} MiB)`);
    expect(r.code).toBe(CloseCode.TryAgainLater);
    expect(r.decided.buffered).toBeGreaterThan(r.decided.hardLimitBytes);
    expect(r.decided.buffered).toBeLessThan(r.decided.hardLimitBytes + 2 * 1024 * 1024);
    expect(r.after - r.baseline).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});
