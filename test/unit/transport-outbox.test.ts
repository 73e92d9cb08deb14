/**
 * The write side of one connection (src/transport/Outbox.ts) over a scripted socket: the
 * test sees every frame written, in order, sets `bufferedAmount` and fires the write
 * callbacks itself (the kernel taking a frame). Each write adds what ws would add to its
 * `bufferedAmount` when the kernel takes nothing: the frame's UTF-8 bytes and its header
 * (2, 4 or 10 bytes for a server frame). Batching, the exact byte boundaries of the batch,
 * the high-water mark, half the mark and the hard limit, coalescing, close() and
 * onOverflow. The same paths over a real socket, coarser: test/transport/slow-consumer.test.ts
 * and the batching test of test/transport/operations.test.ts.
 */
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxLimits } from '../../src/transport/Outbox.js';

/** What one frame adds to ws's bufferedAmount while unsent: payload bytes plus an unmasked header. */
const wire = (frame: string): number => {
  const n = Buffer.byteLength(frame);
  return n + (n < 126 ? 2 : n < 65_536 ? 4 : 10);
};

class ScriptedSocket {
  bufferedAmount = 0;
  readonly frames: string[] = [];
  /** Write callbacks not fired yet, in write order. */
  readonly pending: ((err?: Error) => void)[] = [];

  send(frame: string, cb?: (err?: Error) => void): void {
    this.frames.push(frame);
    if (cb) this.pending.push(cb);
    this.bufferedAmount += wire(frame);
  }

  /** The kernel took the oldest frame that asked for a callback: `left` bytes are still unsent when it fires. */
  complete(left: number, err?: Error): void {
    const cb = this.pending.shift();
    if (!cb) throw new Error('no write is waiting for its callback');
    this.bufferedAmount = left;
    cb(err);
  }
}

function setup(limits: Partial<OutboxLimits> = {}, batching = false) {
  const ws = new ScriptedSocket();
  const overflows: number[] = [];
  const outbox = new Outbox(ws as unknown as WebSocket, { highWaterBytes: 100, hardLimitBytes: 1_000, maxBatchBytes: 1_000, ...limits }, (b) => overflows.push(b));
  // Left alone unless the test batches: a new outbox must not batch.
  if (batching) outbox.batching = true;
  return { ws, outbox, overflows };
}

const turn = () => new Promise((r) => setImmediate(r));
/** A message of `n` UTF-16 units (a JSON string). */
const msg = (n: number, c = 'x') => `"${c.repeat(n - 2)}"`;
/** A `next` message as Operations writes it (the payload's '}' then the message's '}'). */
const next = (id: string, seq: number) => `{"type":"next","id":"${id}","payload":{"seq":${seq}}}`;

describe('Outbox without batching', () => {
  it('writes each message as its own frame at once (batching is off until the client asks for it)', () => {
    const { ws, outbox } = setup();
    outbox.push('{"type":"connection_ack"}');
    expect(ws.frames).toEqual(['{"type":"connection_ack"}']);
    outbox.push('{"type":"pong"}');
    expect(ws.frames).toEqual(['{"type":"connection_ack"}', '{"type":"pong"}']);
  });

  it('writes nothing after close()', async () => {
    const { ws, outbox } = setup();
    outbox.push('1');
    outbox.close();
    outbox.push('2');
    await turn();
    expect(ws.frames).toEqual(['1']);
  });
});

describe('Outbox batching', () => {
  it('writes a lone message as itself, and what one turn queued as one array frame, on the next immediate', async () => {
    const { ws, outbox } = setup({}, true);
    outbox.push('1');
    expect(ws.frames).toEqual([]);
    await turn();
    expect(ws.frames).toEqual(['1']);
    outbox.push('2');
    outbox.push('3');
    outbox.push('4');
    await turn();
    expect(ws.frames).toEqual(['1', '[2,3,4]']);
  });

  it('writes a batch that reaches maxBatchBytes exactly at once, no frame of it reaching the limit', async () => {
    const { ws, outbox } = setup({ maxBatchBytes: 10 }, true);
    outbox.push('11111');
    expect(ws.frames).toEqual([]);
    outbox.push('22222');
    // 5 + 5 is not under 10: two frames, each message as itself.
    expect(ws.frames).toEqual(['11111', '22222']);
    await turn();
    expect(ws.frames).toEqual(['11111', '22222']);
  });

  it('writes a batch past maxBatchBytes as the messages under the limit in one frame, then the rest', () => {
    const { ws, outbox } = setup({ maxBatchBytes: 10 }, true);
    outbox.push('1111');
    outbox.push('2222');
    expect(ws.frames).toEqual([]);
    outbox.push('3333');
    expect(ws.frames).toEqual(['[1111,2222]', '3333']);
  });

  it('schedules one flush at a time: messages queued by later immediates of the same turn share the next frame', async () => {
    const { ws, outbox } = setup({}, true);
    outbox.push('a');
    setImmediate(() => outbox.push('c'));
    outbox.push('b');
    setImmediate(() => outbox.push('d'));
    await turn();
    await turn();
    expect(ws.frames).toEqual(['[a,b]', '[c,d]']);
  });

  it('drops the queued batch on close()', async () => {
    const { ws, outbox } = setup({}, true);
    outbox.push('1');
    outbox.close();
    outbox.push('2');
    await turn();
    await turn();
    expect(ws.frames).toEqual([]);
  });

  it('holds the rest of a batch when one of its frames takes the socket past the mark, and writes it after the drain, in order', async () => {
    const { ws, outbox } = setup({ highWaterBytes: 10, maxBatchBytes: 10 }, true);
    outbox.push('1111');
    outbox.push('2222');
    outbox.push('3333');
    // '[1111,2222]' is 11 bytes and 2 of header: past the mark of 10, so '3333' waits.
    expect(ws.frames).toEqual(['[1111,2222]']);
    outbox.push('4444');
    await turn();
    expect(ws.frames).toEqual(['[1111,2222]']);
    ws.complete(0);
    await turn();
    expect(ws.frames).toEqual(['[1111,2222]', '[3333,4444]']);
  });
});

describe('Outbox backpressure', () => {
  it('keeps writing while the socket is filled exactly to highWaterBytes, and holds from one byte past it', () => {
    const { ws, outbox } = setup({ highWaterBytes: 100 });
    ws.bufferedAmount = 100 - wire(msg(20));
    outbox.push(msg(20));
    expect(ws.bufferedAmount).toBe(100);
    outbox.push('1');
    expect(ws.frames).toEqual([msg(20), '1']);
    outbox.push('2');
    expect(ws.frames).toEqual([msg(20), '1']);
  });

  it('writes what is held, in order, once a write callback finds the socket at half the mark, not one byte above it', () => {
    const { ws, outbox } = setup({ highWaterBytes: 100 });
    outbox.push(msg(40));
    expect(ws.bufferedAmount).toBe(42);
    outbox.push(msg(60));
    expect(ws.bufferedAmount).toBe(104);
    outbox.push('1');
    outbox.push('2');
    expect(ws.frames).toEqual([msg(40), msg(60)]);
    // Both writes could pass the mark (3 bytes a unit), so both carry a callback.
    ws.complete(51);
    expect(ws.frames).toEqual([msg(40), msg(60)]);
    ws.complete(50);
    expect(ws.frames).toEqual([msg(40), msg(60), '1', '2']);
    outbox.push('3');
    expect(ws.frames).toEqual([msg(40), msg(60), '1', '2', '3']);
  });

  it('releases nothing when the write failed (the socket is going away)', () => {
    const { ws, outbox } = setup({ highWaterBytes: 100 });
    outbox.push(msg(120));
    outbox.push('1');
    ws.complete(0, new Error('write EPIPE'));
    expect(ws.frames).toEqual([msg(120)]);
  });

  it('ignores the callback of a write near the mark that did not pass it', () => {
    const { ws, outbox } = setup({ highWaterBytes: 100 });
    outbox.push(msg(40));
    expect(ws.pending).toHaveLength(1);
    ws.complete(0);
    outbox.push('1');
    expect(ws.frames).toEqual([msg(40), '1']);
  });

  it('counts a frame as up to 3 bytes a unit and 14 of header when deciding whether to learn of its drain', () => {
    const { ws, outbox } = setup({ highWaterBytes: 100 });
    // 30 units, 88 bytes on the wire (28 three-byte characters, 2 quotes, a 2-byte header):
    // from 20 buffered that is 108, past the mark, although 20 + 3 × 30 − 14 is not.
    const euros = msg(30, '€');
    expect(wire(euros)).toBe(88);
    ws.bufferedAmount = 20;
    outbox.push(euros);
    expect(ws.bufferedAmount).toBe(108);
    outbox.push('1');
    expect(ws.frames).toEqual([euros]);
    ws.complete(0);
    expect(ws.frames).toEqual([euros, '1']);
  });

  it('replaces a held message by a later one with the same coalesce key, which goes out last and flagged coalesced', () => {
    const { ws, outbox } = setup({ highWaterBytes: 100 });
    outbox.push(msg(120));
    outbox.push(next('s', 1), 's\nvault/a');
    outbox.push(next('s', 2), 's\nvault/b');
    outbox.push('{"type":"complete","id":"t"}');
    outbox.push(next('s', 3), 's\nvault/a');
    ws.complete(0);
    expect(ws.frames).toEqual([
      msg(120),
      next('s', 2),
      '{"type":"complete","id":"t"}',
      '{"type":"next","id":"s","payload":{"seq":3,"coalesced":true}}',
    ]);
  });

  it('keeps the coalesce key of a message held again while what was held is written', () => {
    const { ws, outbox } = setup({ highWaterBytes: 100 });
    outbox.push(msg(120));
    outbox.push(msg(150));
    outbox.push(next('s', 1), 's\nvault/a');
    ws.complete(0);
    // msg(150) took the socket past the mark again, so next 1 is held again, under its key.
    expect(ws.frames).toEqual([msg(120), msg(150)]);
    outbox.push(next('s', 2), 's\nvault/a');
    ws.complete(0);
    expect(ws.frames).toEqual([msg(120), msg(150), '{"type":"next","id":"s","payload":{"seq":2,"coalesced":true}}']);
  });

  it('starts afresh when it holds again after writing what was held: no key or byte count carried over', () => {
    const { ws, outbox, overflows } = setup({ highWaterBytes: 100, hardLimitBytes: 400 });
    outbox.push(msg(120));
    outbox.push(next('s', 1), 's\nvault/a');
    outbox.push(msg(150));
    ws.complete(0);
    expect(ws.frames).toEqual([msg(120), next('s', 1), msg(150)]);
    expect(ws.bufferedAmount).toBe(wire(next('s', 1)) + wire(msg(150)));
    // Held again: the same key is not a replacement of the message already written, and
    // only what is held now counts towards the hard limit (with the old count it would pass 400).
    outbox.push(next('s', 2), 's\nvault/a');
    expect(overflows).toEqual([]);
    ws.complete(0);
    expect(ws.frames).toEqual([msg(120), next('s', 1), msg(150), next('s', 2)]);
  });

  it('never coalesces held messages without a key', () => {
    const { ws, outbox } = setup({ highWaterBytes: 100 });
    outbox.push(msg(120));
    outbox.push(next('s', 1));
    outbox.push(next('s', 2));
    ws.complete(0);
    expect(ws.frames).toEqual([msg(120), next('s', 1), next('s', 2)]);
  });
});

describe('Outbox hard limit', () => {
  it('gives up when a write takes the unsent bytes past hardLimitBytes, not when it reaches them: onOverflow gets them, nothing more is written', () => {
    const at = setup({ highWaterBytes: 100, hardLimitBytes: 200 });
    at.ws.bufferedAmount = 200 - wire(msg(20));
    at.outbox.push(msg(20));
    expect(at.ws.bufferedAmount).toBe(200);
    expect(at.overflows).toEqual([]);

    const past = setup({ highWaterBytes: 100, hardLimitBytes: 200 });
    past.ws.bufferedAmount = 201 - wire(msg(20));
    past.outbox.push(msg(20));
    expect(past.overflows).toEqual([201]);
    past.outbox.push('1');
    past.ws.complete(0);
    past.outbox.push('2');
    expect(past.ws.frames).toEqual([msg(20)]);
  });

  it('gives up in the middle of a batch whose frame passes hardLimitBytes: the rest is not written', () => {
    const { ws, outbox, overflows } = setup({ highWaterBytes: 10, hardLimitBytes: 12, maxBatchBytes: 10 }, true);
    outbox.push('1111');
    outbox.push('2222');
    outbox.push('3333');
    expect(ws.frames).toEqual(['[1111,2222]']);
    expect(overflows).toEqual([wire('[1111,2222]')]);
  });

  it('gives up when unsent plus held bytes pass hardLimitBytes, not when they reach them, and drops what is held', () => {
    const { ws, outbox, overflows } = setup({ highWaterBytes: 100, hardLimitBytes: 200 });
    ws.bufferedAmount = 101 - wire(msg(20));
    outbox.push(msg(20));
    expect(ws.bufferedAmount).toBe(101);
    outbox.push(msg(99));
    expect(overflows).toEqual([]);
    outbox.push('1');
    expect(overflows).toEqual([201]);
    ws.complete(0);
    outbox.push('2');
    expect(ws.frames).toEqual([msg(20)]);
  });

  it('counts a coalesced message once towards the hard limit', () => {
    const { ws, outbox, overflows } = setup({ highWaterBytes: 100, hardLimitBytes: 200 });
    ws.bufferedAmount = 101 - wire(msg(20));
    outbox.push(msg(20));
    const a = `{"p":{"y":"${'x'.repeat(75)}"}}`;
    expect(a).toHaveLength(89);
    outbox.push(a, 'k');
    outbox.push(a, 'k');
    outbox.push('1234567890');
    expect(overflows).toEqual([]);
    outbox.push('1');
    expect(overflows).toEqual([201]);
  });
});
