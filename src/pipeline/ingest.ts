import type { NormalizedEvent } from '../core/event.ts';
import { newId } from '../core/ids.ts';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import type { ChannelAdapter, HttpReply, InboundRequest, IngestOptions } from '../platforms/_kit/adapter.ts';
import type { IngestItem, IngestOutcome, Store, StoredEvent } from '../store/store.ts';
import type { SubscriptionRegistry } from '../subscriptions/registry.ts';
import { buildUnifiedEvent } from './build-event.ts';
import type { CommitBatcher } from './commit-batcher.ts';

export interface IngestChannel {
  id: string;
  platform: string;
  adapter: ChannelAdapter;
}

export interface NewDelivery {
  id: string;
  subscriptionId: string;
  /** The event just stored, handed to the worker so that it need not read it back. */
  stored: StoredEvent;
}

export interface IngestResult {
  reply: HttpReply;
  /** What was stored or found to be a duplicate, for the request log. */
  outcomes: IngestOutcome[];
  /** The first event's sender and conversation, for the request log. */
  summary: { sender: string; conversationId: string } | null;
}

/**
 * The platform-agnostic inbound path: the adapter verifies, answers handshakes and normalizes; then
 * the events and their deliveries are committed together (deduplicated by the store's unique key),
 * and only then is the platform acknowledged and the delivery worker told.
 */
export class IngestPipeline {
  constructor(
    private readonly store: Store,
    private readonly batcher: CommitBatcher,
    private readonly subscriptions: SubscriptionRegistry,
    private readonly onStored: (deliveries: NewDelivery[]) => void,
    /** Events joined the streams of these pull subscriptions (after the commit). */
    private readonly onPulled: (subscriptionIds: string[]) => void,
    private readonly metrics: GatewayMetrics,
  ) {}

  async handleCallback(channel: IngestChannel, request: InboundRequest): Promise<IngestResult> {
    const outcome = await channel.adapter.handleCallback(request);
    if (outcome.kind === 'reply') return { reply: outcome.reply, outcomes: [], summary: null };
    const outcomes = await this.ingest(channel, outcome.events, request.rawBody, request.receivedAt);
    const first = outcome.events[0];
    return {
      reply: outcome.ack,
      outcomes,
      summary: first ? { sender: first.sender.id, conversationId: first.conversation.id } : null,
    };
  }

  /**
   * Stores events (from a callback, a long connection or a pull); resolves after the commit. With
   * a cursor (or values) the write skips the group commit: the cursor must land in the same transaction as
   * exactly these events, and pulls are few and already batched by the platform.
   */
  async ingest(
    channel: { id: string; platform: string },
    events: NormalizedEvent[],
    rawBody: Buffer,
    receivedAt: Date,
    options: IngestOptions = {},
  ): Promise<IngestOutcome[]> {
    const { cursor, targets } = options;
    const cursors = [...(cursor ? [cursor] : []), ...(options.values ?? [])].map((update) => ({ channel: channel.id, ...update }));
    if (events.length === 0 && cursors.length === 0) return [];
    const items = events.map((normalized): IngestItem => {
      const event = buildUnifiedEvent(normalized, channel, receivedAt);
      const subscriptions = targets
        ? targets.map((id) => this.subscriptions.get(id) ?? { id, ordering: 'none', pull: false })
        : this.subscriptions.matching(event);
      return {
        channel: channel.id,
        dedupKey: normalized.dedupKey,
        stored: { event, raw: normalized.raw, rawBody: normalized.rawBody ?? rawBody, rawRequest: normalized.rawRequest ?? null },
        deliveries: subscriptions
          .filter((sub) => !sub.pull)
          .map((sub) => ({
            id: newId('dlv'),
            subscriptionId: sub.id,
            orderKey: sub.ordering === 'conversation' ? event.conversation.id : null,
          })),
        pulls: subscriptions.filter((sub) => sub.pull).map((sub) => sub.id),
      };
    });
    const outcomes = cursors.length > 0 ? await this.store.ingestBatch(items, cursors) : await this.batcher.submit(items);
    this.metrics.ingested(channel.id, outcomes);
    const stored = items.filter((_item, index) => outcomes[index]?.status === 'stored');
    const deliveries = stored.flatMap((item) => item.deliveries.map((delivery) => ({ ...delivery, stored: item.stored })));
    if (deliveries.length > 0) this.onStored(deliveries);
    const pulled = stored.flatMap((item) => item.pulls ?? []);
    if (pulled.length > 0) this.onPulled(pulled);
    return outcomes;
  }
}
