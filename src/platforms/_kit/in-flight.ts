/**
 * Work still running (events being stored from a long connection), to wait for before the
 * connection is reported closed: a shutdown lets it finish before the store closes.
 */
export class InFlight {
  private readonly running = new Set<Promise<void>>();

  /** Tracks `work` and hands it back unchanged; its failure stays the caller's to handle. */
  track<T>(work: Promise<T>): Promise<T> {
    const entry: Promise<void> = work.then(
      () => void this.running.delete(entry),
      () => void this.running.delete(entry),
    );
    this.running.add(entry);
    return work;
  }

  /** Resolves once everything tracked so far has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.running);
  }
}
