/** Every record on the bus. `seq` is gapless per address within one activation epoch. */
export interface BusRecord<T = unknown> {
  readonly address: string;
  /** Identifies one activation of the address; a passivated and reactivated actor gets a new epoch. */
  readonly epoch: number;
  readonly seq: number;
  readonly ts: number;
  readonly type: RecordType;
  readonly data: T;
}

export type RecordType =
  | 'snapshot'
  | 'emitted'
  | 'mailbox.enqueued'
  | 'mailbox.postponed'
  | 'mailbox.delivered'
  | 'mailbox.rejected'
  | 'mailbox.dropped'
  | 'turn.replied'
  | 'task.started'
  | 'task.settled'
  | 'lifecycle.activated'
  | 'lifecycle.passivated'
  | 'lifecycle.crashed'
  | 'lifecycle.stalled'
  | 'lifecycle.restarted'
  | 'lifecycle.failed'
  | 'lifecycle.revived'
  | 'lifecycle.stopped'
  /** Only while the actor is inspected (see src/inspect/): the event that moved it, from which state to which. */
  | 'transition'
  /** Synthetic, never buffered: a resume point that the replay buffer can no longer serve. */
  | 'replay.gap';

export interface ResumePoint {
  epoch: number;
  seq: number;
}
