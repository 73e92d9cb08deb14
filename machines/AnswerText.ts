/**
 * The answer a stream has produced so far, held compactly while it grows. Every token is a
 * string of its own (~24 B of header and padding for 4 characters, plus an 8 B array slot),
 * so holding them one by one cost ~32 B per token: 8 KB for a 250-token reply, most of a
 * streaming session's memory. `text += token` is worse (a rope: one cons cell per token).
 * Here the pieces are joined into one flat string every {@link BLOCK} tokens, so what is
 * held is about the text's own size plus at most BLOCK loose pieces. Joining copies each
 * character twice in all (once into its block, once into the final text).
 */
const BLOCK = 16;

export class AnswerText {
  /** Flat strings of BLOCK tokens each. */
  private blocks: string[] | undefined = undefined;
  /** Tokens since the last block. */
  private loose: string[] = [];

  push(piece: string): void {
    const loose = this.loose;
    loose.push(piece);
    if (loose.length === BLOCK) {
      (this.blocks ??= []).push(loose.join(''));
      loose.length = 0;
    }
  }

  /** The whole answer as one flat string (a history entry must not be a rope). */
  toString(): string {
    const blocks = this.blocks;
    if (blocks === undefined) return this.loose.join('');
    if (this.loose.length > 0) blocks.push(this.loose.join(''));
    this.loose.length = 0;
    return blocks.join(''); // one block: the same string
  }
}
