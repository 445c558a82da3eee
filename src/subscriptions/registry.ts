import type { Logger } from '../core/logger.ts';
import type { Store, SubscriptionRecord } from '../store/store.ts';
import type { UnifiedEvent } from '../core/event.ts';
import { subscriptionMatches } from './match.ts';

/**
 * The subscriptions, cached in memory for the hot path (every inbound event is matched against
 * them). Reloaded after every change made through this process, and every `refreshMs` for changes
 * other nodes made.
 */
export class SubscriptionRegistry {
  private subscriptions: SubscriptionRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private loads = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<void> {
    // Loads can overlap (a refresh and a change); only the one started last may set the list.
    const load = ++this.loads;
    const subscriptions = await this.store.listSubscriptions();
    if (load === this.loads) this.subscriptions = subscriptions;
  }

  startRefreshing(refreshMs: number): void {
    this.timer = setInterval(
      () => void this.load().catch((error: unknown) => this.logger.error({ err: error }, 'refreshing subscriptions failed')),
      refreshMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get(id: string): SubscriptionRecord | undefined {
    return this.subscriptions.find((sub) => sub.id === id);
  }

  all(): SubscriptionRecord[] {
    return this.subscriptions;
  }

  /** Puppet subscriptions are left out: they get only what is addressed to them (`targets`). */
  matching(event: UnifiedEvent): SubscriptionRecord[] {
    return this.subscriptions.filter((sub) => sub.source !== 'puppet' && subscriptionMatches(sub, event));
  }
}
