import type { Envelope } from '../mailbox/envelope.js';
import { SmallMap } from './SmallMap.js';

/** An answer a machine gave during a transition, delivered after it commits. */
export interface Answer {
  to: string | undefined;
  ok: boolean;
  value: unknown;
}

/**
 * The requests an actor is answering: the open turns (delivered asks and streams not yet
 * answered), the current one (the last delivered still open), and the answers queued
 * during the transition in progress. Both are created on first use; the table of open
 * turns holds one turn without a Map (an actor answers one request at a time, mostly).
 * @internal
 */
export class Turns {
  current: Envelope | undefined;
  private open: SmallMap<string, Envelope> | undefined;
  private answers: Answer[] | undefined;

  get size(): number {
    return this.open?.size ?? 0;
  }

  /** The open turn `id` (none for an undefined id: turn ids are strings). */
  get(id: string | undefined): Envelope | undefined {
    return this.open?.get(id as string); // an undefined key matches no entry
  }

  /** `env` must have been begun (the table exists from the first begin() on). */
  isOpen(env: Envelope): boolean {
    return this.open!.get(env.id) === env;
  }

  /** Opens `env`'s turn and makes it current; returns the previous current turn. */
  begin(env: Envelope): Envelope | undefined {
    const previous = this.current;
    (this.open ??= new SmallMap()).set(env.id, env);
    this.current = env;
    return previous;
  }

  /** Takes back a turn opened for a delivery the machine did not accept. */
  undo(env: Envelope, previous: Envelope | undefined): void {
    this.open!.delete(env.id);
    this.current = previous;
  }

  /** Ends `env`'s turn (an open one). */
  end(env: Envelope): void {
    this.open!.delete(env.id);
    if (this.current === env) this.current = undefined;
  }

  /** `to` absent: the current turn; `{ id: undefined }`: nobody. */
  queueAnswer(to: { id: string | undefined } | undefined, ok: boolean, value: unknown): void {
    // Stryker disable next-line ArrayDeclaration: flushAnswers(), the only reader, skips an entry whose `to` names no open turn (a string has no `to`)
    (this.answers ??= []).push({ to: to ? to.id : this.current?.id, ok, value });
  }

  get hasAnswers(): boolean {
    return this.answers !== undefined;
  }

  takeAnswers(): Answer[] {
    // Stryker disable next-line ArrayDeclaration: called only when hasAnswers (Activation.onSnapshot), and flushAnswers() skips a non-answer anyway
    const answers = this.answers ?? [];
    this.answers = undefined;
    return answers;
  }

  /** The open turns, oldest first (for inspection). */
  openTurns(): Envelope[] {
    return this.open ? [...this.open.values()] : [];
  }

  /** Ends every turn at once (the actor is torn down) and returns them. */
  takeAll(): Envelope[] {
    // Stryker disable next-line ArrayDeclaration: no table means no turn ever opened, and the only caller (Delivery.endTurns) discards the result then
    const all = this.open?.values() ?? [];
    this.open?.clear();
    this.answers = undefined;
    this.current = undefined;
    return all;
  }
}
