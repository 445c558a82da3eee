import type { AttemptToRecord, DeliveryQueue, RecordOutcome } from '../store/store.ts';

interface Waiting {
  record: AttemptToRecord;
  resolve: (outcome: RecordOutcome) => void;
  reject: (error: unknown) => void;
}

/** Attempts recorded together at most. */
const MAX_BATCH = 256;

/**
 * Group commit for attempt results: attempts that finish while a commit is being written share the
 * next one, so a busy worker pays one transaction (one fsync) per batch instead of one per attempt.
 * A batch the store refuses is tried again one attempt at a time, so that one bad record does not
 * fail the others.
 */
export class AttemptRecorder {
  private queue: Waiting[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(private readonly store: DeliveryQueue) {}

  record(record: AttemptToRecord): Promise<RecordOutcome> {
    return new Promise<RecordOutcome>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    const batch = this.queue.splice(0, MAX_BATCH);
    try {
      const outcomes = await this.store.recordAttempts(batch.map((waiting) => waiting.record));
      batch.forEach((waiting, index) => waiting.resolve(outcomes[index] as RecordOutcome));
    } catch (error) {
      if (batch.length === 1) batch[0]?.reject(error);
      else {
        for (const waiting of batch) {
          const { leaseToken, attempt, resolution } = waiting.record;
          await this.store.recordAttempt(leaseToken, attempt, resolution).then(waiting.resolve, waiting.reject);
        }
      }
    } finally {
      this.flushing = false;
    }
    if (this.queue.length > 0) this.schedule();
  }
}
