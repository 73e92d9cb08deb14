/**
 * The write side of one connection: batching and backpressure.
 *
 * - **Batching** (only for a client that asked, `connection_init{ batch: true }`): messages
 *   queued in one event-loop turn go out as one frame, a JSON array, up to `maxBatchBytes`
 *   per frame: one write syscall for many records instead of one each. Otherwise every
 *   message is its own frame, written at once.
 * - **Backpressure**: past `highWaterBytes` of unsent bytes (`ws.bufferedAmount`) messages
 *   are held here instead of written, and a snapshot record replaces a held snapshot of the
 *   same subscription and address (latest wins; it goes out flagged `coalesced`). When the
 *   socket drains below half the mark, what is held is written in order. Past
 *   `hardLimitBytes` (unsent plus held) the connection is given up: `onOverflow` closes it
 *   with 1013 and everything held is dropped, so a reader that stopped costs at most the
 *   hard limit.
 */
import type { WebSocket } from 'ws';

interface Held {
  text: string;
  key: string | undefined;
  coalesced: boolean;
}

export interface OutboxLimits {
  highWaterBytes: number;
  hardLimitBytes: number;
  maxBatchBytes: number;
}

/** The flag the held snapshot gets when it replaced older ones: spliced in before the payload's closing brace. */
const COALESCED = ',"coalesced":true}}';

export class Outbox {
  /** Set once the client asked for array frames. */
  batching = false;
  private batch: string[] = [];
  private batchBytes = 0;
  private scheduled = false;
  private held: Held[] | undefined;
  private heldBytes = 0;
  private readonly heldKeys = new Map<string, Held>();
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: OutboxLimits,
    private readonly onOverflow: (buffered: number) => void,
  ) {}

  /**
   * Queues one message (its JSON text). `coalesceKey`: for a `next` of a snapshot record,
   * subscription id + address; while holding, a later message with the same key replaces it.
   */
  push(text: string, coalesceKey?: string): void {
    if (this.closed) return;
    if (this.held) return this.hold(text, coalesceKey);
    if (!this.batching) return this.write(text);
    this.batch.push(text);
    this.batchBytes += text.length;
    if (this.batchBytes >= this.limits.maxBatchBytes) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
  }

  /** Drops everything queued or held; nothing more is written. */
  close(): void {
    this.closed = true;
    // Stryker disable next-line ArrayDeclaration: the batch is read only by flush(), whose loop stops once closed, and push() returns when closed; emptying it here only lets the strings go one turn early (a non-empty batch always has its flushLater pending, which empties it)
    this.batch = [];
    this.held = undefined;
    this.heldKeys.clear();
    this.heldBytes = 0;
  }

  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Writes the batch as frames of at most maxBatchBytes (a lone message as itself). */
  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    let from = 0;
    while (from < batch.length && !this.closed) {
      let to = from + 1;
      let bytes = batch[from]!.length;
      while (to < batch.length && bytes + batch[to]!.length < this.limits.maxBatchBytes) bytes += batch[to++]!.length;
      if (this.held) {
        // The socket filled up during this flush: the rest waits with what is held, in order.
        for (let i = from; i < batch.length; i++) this.hold(batch[i]!, undefined);
        return;
      }
      this.write(to - from === 1 ? batch[from]! : `[${batch.slice(from, to).join(',')}]`);
      from = to;
    }
  }

  private write(frame: string): void {
    // The write callback is only needed to learn when a socket past the mark drains (and a
    // callback on every write costs as much as the rest of the write path): it goes on every
    // frame that could take the socket past the mark. A UTF-16 unit is at most 3 UTF-8 bytes,
    // and a frame's header at most 14. Only called while not holding (push() and flush() hold
    // instead), so nothing is held here.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: '→ true' and '>=' only pass the callback on more writes (on every write; on one whose worst case lands exactly on the mark, so cannot pass it). Such a callback finds nothing held, or releases what is held on the same condition as the later callback of the write that passed the mark; while holding nothing else is written, so the frames and their order are the same: performance only. '→ false' and '<=' are killed by transport-outbox.test.ts
    if (this.ws.bufferedAmount + 3 * frame.length + 14 > this.limits.highWaterBytes) this.ws.send(frame, this.onWritten);
    else this.ws.send(frame);
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.limits.hardLimitBytes) return this.overflow(buffered);
    if (buffered > this.limits.highWaterBytes) this.held = [];
  }

  private hold(text: string, key: string | undefined): void {
    const h: Held = { text, key, coalesced: false };
    if (key !== undefined) {
      const older = this.heldKeys.get(key);
      if (older) {
        this.heldBytes -= older.text.length;
        older.text = '';
        h.coalesced = true;
      }
      this.heldKeys.set(key, h);
    }
    this.held!.push(h);
    this.heldBytes += text.length;
    const total = this.ws.bufferedAmount + this.heldBytes;
    if (total > this.limits.hardLimitBytes) this.overflow(total);
  }

  /** A frame reached the kernel: once the socket has drained below half the mark, write what is held. */
  private readonly onWritten = (err?: Error): void => {
    if (err || this.closed || !this.held) return;
    if (this.ws.bufferedAmount > this.limits.highWaterBytes / 2) return;
    const held = this.held;
    this.held = undefined;
    this.heldKeys.clear();
    this.heldBytes = 0;
    for (const h of held) {
      if (h.text === '') continue;
      // A frame of our own making ends with the payload's '}' and the message's '}'.
      this.push(h.coalesced ? h.text.slice(0, -2) + COALESCED : h.text, h.key);
    }
  };

  private overflow(buffered: number): void {
    this.close();
    this.onOverflow(buffered);
  }
}
