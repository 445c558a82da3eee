/**
 * The Gateway's sequence numbers in the order their dispatches arrived, and which are stored. A
 * dispatch is done once its event is committed (or once it is known to be no event); `committed`
 * moves to the last number up to which every dispatch is done. That number, not the last one
 * received, is what a RESUME names: Discord then replays whatever was received but not yet stored
 * when the connection dropped, and the store's dedup absorbs what had been stored after all.
 */
export class SequenceCommits {
  private readonly pending: { seq: number; done: boolean }[] = [];

  constructor(private readonly onCommitted: (seq: number) => void) {}

  /** Notes a dispatch; call the returned function once it is done. */
  begin(seq: number): () => void {
    const entry = { seq, done: false };
    this.pending.push(entry);
    return () => {
      entry.done = true;
      this.advance();
    };
  }

  private advance(): void {
    let last: number | null = null;
    while (this.pending[0]?.done === true) last = (this.pending.shift() as { seq: number }).seq;
    if (last !== null) this.onCommitted(last);
  }
}
