import type { Subscriber } from 'rxjs';
import type { EventObject } from 'xstate';
import type { ReplyChannel } from '../mailbox/envelope.js';

/**
 * How a `stream` request's caller hears back: its RxJS subscriber. A class rather than an
 * object of three arrow functions, which cost ~250 B more for every live stream.
 * @internal
 */
export class StreamReply implements ReplyChannel {
  readonly mode = 'stream';

  constructor(private readonly subscriber: Subscriber<EventObject>) {}

  resolve(): void {
    this.subscriber.complete();
  }

  reject(error: unknown): void {
    this.subscriber.error(error);
  }

  next(event: EventObject): void {
    this.subscriber.next(event);
  }
}
