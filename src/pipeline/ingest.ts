import type { NormalizedEvent } from '../core/event.ts';
import { newId } from '../core/ids.ts';
import type { ChannelAdapter, HttpReply, InboundRequest } from '../platforms/_kit/adapter.ts';
import type { IngestItem, IngestOutcome } from '../store/store.ts';
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
    private readonly batcher: CommitBatcher,
    private readonly subscriptions: SubscriptionRegistry,
    private readonly onStored: (deliveries: NewDelivery[]) => void,
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

  /** Stores events (from a callback or a long connection); resolves after the commit. */
  async ingest(
    channel: { id: string; platform: string },
    events: NormalizedEvent[],
    rawBody: Buffer,
    receivedAt: Date,
  ): Promise<IngestOutcome[]> {
    if (events.length === 0) return [];
    const items = events.map((normalized): IngestItem => {
      const event = buildUnifiedEvent(normalized, channel, receivedAt);
      return {
        channel: channel.id,
        dedupKey: normalized.dedupKey,
        stored: { event, raw: normalized.raw, rawBody },
        deliveries: this.subscriptions.matching(event).map((sub) => ({ id: newId('dlv'), subscriptionId: sub.id })),
      };
    });
    const outcomes = await this.batcher.submit(items);
    const deliveries = outcomes.flatMap((outcome, index) =>
      outcome.status === 'stored' ? (items[index] as IngestItem).deliveries : [],
    );
    if (deliveries.length > 0) this.onStored(deliveries);
    return outcomes;
  }
}
