/**
 * The subscribers of the fan-out suite (bench/fanout.ts), in their own process so their
 * CPU is not the server's: `fork(this, [url, mode, n, address])` opens `n` WebSocket
 * connections, for `interlock` / `interlock-batch` speaks interlock.v1 (init, with `batch:
 * true` for the latter, and subscribes to `address`), for `raw` just listens. It sends `{ ready }` over IPC
 * once every connection is set, then on `{ target }` replies `{ reached, count }` as soon
 * as the messages received (over all connections) reach that total.
 *
 * Messages are counted without parsing (parsing is the client's cost, not the server's): a
 * frame is one message, or for array frames the occurrences of `{"type":"next"` in it.
 */
import WebSocket from 'ws';

const [url = '', mode = 'raw', nText = '1', address = 'feed/1'] = process.argv.slice(2);
const n = Number(nText);
const NEXT = Buffer.from('{"type":"next"');
let count = 0;
let target = Infinity;

function countFrame(data: Buffer): number {
  if (data[0] !== 0x5b /* [ */) return 1;
  let c = 0;
  for (let at = data.indexOf(NEXT); at >= 0; at = data.indexOf(NEXT, at + NEXT.length)) c++;
  return c;
}

function onFrame(data: Buffer, ack: { ok: boolean }): void {
  if (!ack.ok) {
    // The first frame of an interlock connection is its connection_ack.
    ack.ok = true;
    return;
  }
  count += countFrame(data);
  if (count >= target) {
    target = Infinity;
    process.send?.({ reached: true, count });
  }
}

async function open(): Promise<WebSocket> {
  const ws = new WebSocket(url, mode === 'raw' ? [] : ['interlock.v1'], { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const ack = { ok: mode === 'raw' };
  const acked = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      const first = !ack.ok;
      onFrame(data, ack);
      if (first) resolve();
    });
  });
  if (mode !== 'raw') {
    ws.send(JSON.stringify({ type: 'connection_init', payload: { batch: mode === 'interlock-batch' } }));
    await acked;
    ws.send(JSON.stringify({ type: 'subscribe', id: 's', payload: { address } }));
  }
  return ws;
}

const sockets: WebSocket[] = [];
// In waves: a thousand simultaneous handshakes would overflow the listen backlog.
for (let i = 0; i < n; i += 100) sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, open))));
if (mode !== 'raw') {
  // A round trip on every connection, so each subscription is in place before `ready`.
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          const onPong = (data: Buffer) => {
            // Alone, or in an array frame with the subscription's first snapshot.
            if (data.includes('{"type":"pong"}')) {
              ws.off('message', onPong);
              resolve();
            }
          };
          ws.on('message', onPong);
          ws.send('{"type":"ping"}');
        }),
    ),
  );
}
count = 0; // the subscriptions' first snapshots and the pongs are not records of the run
process.send?.({ ready: true, count });
process.on('message', (m: { target?: number; report?: boolean }) => {
  if (m.report) process.send?.({ count });
  if (m.target === undefined) return;
  target = m.target;
  if (count >= target) {
    target = Infinity;
    process.send?.({ reached: true, count });
  }
});
process.on('disconnect', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
