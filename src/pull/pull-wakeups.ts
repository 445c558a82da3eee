import type { Logger } from '../core/logger.ts';
import type { Coordination } from '../store/store.ts';

/** A payload that names every subscription (a wake-up whose ids did not fit in one notification). */
const EVERY_SUBSCRIPTION = '*';
/** PostgreSQL's NOTIFY payloads stay well under its 8,000-byte limit; the port promises 1 KiB. */
const MAX_PAYLOAD = 1024;

/**
 * Wakes the readers of pull subscriptions (SSE, WebSocket, long polling) on this node when an
 * event was appended to their stream on any node, through the store's `pulls` notifications.
 * Each subscription has a counter that every wake-up moves on: a reader notes it before reading
 * the store and waits only if it has not moved since, so a wake-up between the read and the wait
 * is never lost. Notifications are best effort, so every wait also ends after a while and the
 * reader looks again.
 */
export class PullWakeups {
  private readonly versions = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private stopListening: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: Coordination,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.stopListening = await this.store.listen('pulls', (payload) => this.wakeLocal(payload === EVERY_SUBSCRIPTION ? null : payload.split(',')));
  }

  async stop(): Promise<void> {
    await this.stopListening?.();
    this.wakeLocal(null);
  }

  /** Tells every node (this one included) that these subscriptions' streams grew; after the commit. */
  announce(subscriptionIds: string[]): void {
    const joined = [...new Set(subscriptionIds)].join(',');
    const payload = joined.length <= MAX_PAYLOAD ? joined : EVERY_SUBSCRIPTION;
    this.store.notify('pulls', payload).catch((error: unknown) => this.logger.warn({ err: error }, 'could not announce new pull events'));
  }

  /** The subscription's wake-up counter, to note before reading the store. */
  version(subscriptionId: string): number {
    let version = this.versions.get(subscriptionId);
    if (version === undefined) {
      // Known from now on, so that a wake-up of every subscription counts for it too.
      version = 0;
      this.versions.set(subscriptionId, version);
    }
    return version;
  }

  /**
   * Resolves once the subscription is woken after `version`, at once if it was already, or after
   * `timeoutMs`, or when `signal` aborts.
   */
  wait(subscriptionId: string, version: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.version(subscriptionId) !== version || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.get(subscriptionId)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done);
      let set = this.waiters.get(subscriptionId);
      if (!set) {
        set = new Set();
        this.waiters.set(subscriptionId, set);
      }
      set.add(done);
    });
  }

  /** null: every subscription. */
  private wakeLocal(subscriptionIds: string[] | null): void {
    for (const id of subscriptionIds ?? [...this.versions.keys()]) {
      this.versions.set(id, this.version(id) + 1);
      const set = this.waiters.get(id);
      if (!set) continue;
      this.waiters.delete(id);
      for (const wake of set) wake();
    }
  }
}
