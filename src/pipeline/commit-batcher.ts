import { ImgateError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { StoreFullError, type IngestItem, type IngestOutcome, type Store } from '../store/store.ts';

interface Waiting {
  item: IngestItem;
  resolve: (outcome: IngestOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit. Callbacks that arrive while a commit is being prepared or written share the next
 * one, so N concurrent requests pay for one disk sync instead of N. The first item schedules a
 * flush on `setImmediate`, which lets every request already parsed in this turn of the event loop
 * join the batch; a slow commit makes the next batch larger by itself.
 */
export class CommitBatcher {
  private queue: Waiting[] = [];
  private flushing = false;
  private scheduled = false;
  private idle: (() => void)[] = [];
  /** The last commit failed on a full disk: said once in the log, and again once writes succeed. */
  private diskFull = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: { maxBatch: number; maxPending: number },
  ) {}

  /** Resolves once the items are committed (or found to be duplicates). */
  submit(items: IngestItem[]): Promise<IngestOutcome[]> {
    if (this.queue.length + items.length > this.options.maxPending) {
      return Promise.reject(new ImgateError('IMG_ERR_OVERLOADED'));
    }
    const promises = items.map(
      (item) => new Promise<IngestOutcome>((resolve, reject) => this.queue.push({ item, resolve, reject })),
    );
    this.schedule();
    return Promise.all(promises);
  }

  /** Resolves when everything submitted so far is committed. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    const batch = this.queue.splice(0, this.options.maxBatch);
    try {
      await this.commit(batch);
    } catch (error) {
      // Nothing of the batch is stored. A full disk refuses every event alike: all are answered 503
      // and their platforms retry. Otherwise one event the store refuses must not fail the callbacks
      // that only shared its commit, so each is tried again on its own.
      if (error instanceof StoreFullError) this.refuseOnFullDisk(batch, error);
      else {
        this.logger.error({ err: error, batch: batch.length }, 'ingest commit failed');
        if (batch.length > 1) await this.commitEach(batch);
        else batch.forEach((waiting) => waiting.reject(overloaded(error)));
      }
    } finally {
      this.flushing = false;
    }
    if (this.queue.length > 0) this.schedule();
    else this.idle.splice(0).forEach((resolve) => resolve());
  }

  private async commit(batch: Waiting[]): Promise<void> {
    const outcomes = await this.store.ingestBatch(batch.map((w) => w.item));
    if (this.diskFull) {
      this.diskFull = false;
      this.logger.info('the store takes writes again: callbacks are stored and acknowledged');
    }
    batch.forEach((waiting, index) => waiting.resolve(outcomes[index] as IngestOutcome));
  }

  private refuseOnFullDisk(batch: Waiting[], error: StoreFullError): void {
    if (!this.diskFull) {
      this.diskFull = true;
      this.logger.error(
        { reason: error.cause instanceof Error ? error.cause.message : error.message },
        "the store's disk is full: callbacks are answered 503 (IMG_ERR_STORE_FULL) until space is freed; nothing of them is stored",
      );
    }
    batch.forEach((waiting) => waiting.reject(new ImgateError('IMG_ERR_STORE_FULL', { cause: error })));
  }

  private async commitEach(batch: Waiting[]): Promise<void> {
    for (const waiting of batch) {
      try {
        await this.commit([waiting]);
      } catch (error) {
        // This caller answers 503 so that its platform retries; its batch-mates are stored.
        if (error instanceof StoreFullError) this.refuseOnFullDisk([waiting], error);
        else {
          this.logger.error({ err: error, channel: waiting.item.channel }, 'ingest commit of one event failed');
          waiting.reject(overloaded(error));
        }
      }
    }
  }
}

function overloaded(cause: unknown): ImgateError {
  return new ImgateError('IMG_ERR_OVERLOADED', { cause });
}
