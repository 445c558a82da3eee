import type { RawRequestShape, UnifiedEvent } from '../../core/event.ts';

/**
 * What came in: each event stored once per (channel, dedup key), with the deliveries it starts, in
 * one transaction. Times are epoch milliseconds.
 */

export interface StoredEvent {
  event: UnifiedEvent;
  /** The platform payload as parsed/decrypted, JSON-serializable. */
  raw: unknown;
  /** The exact bytes the platform sent. */
  rawBody: Buffer;
  /** Content type and query of the platform's request, where they matter (see NormalizedEvent). */
  rawRequest: RawRequestShape | null;
}

/** A per-channel cursor (e.g. WeCom KF's `next_cursor`) written with the events it produced. */
export interface CursorUpdate {
  channel: string;
  key: string;
  value: string;
  /**
   * When given, the cursor the writer started from (null: none stored yet): if another writer (on
   * another node) moved the cursor meanwhile, the whole batch is refused with CursorMovedError, so
   * two pulls of one account never store a cursor behind the other's.
   */
  expected?: string | null;
}

/** `ingestBatch` refused a batch because a cursor it carried was moved by another writer; nothing was stored. */
export class CursorMovedError extends Error {
  constructor(readonly channel: string, readonly key: string) {
    super(`cursor ${key} of channel ${channel} was moved by another writer`);
    this.name = 'CursorMovedError';
  }
}

export interface IngestItem {
  channel: string;
  dedupKey: string;
  stored: StoredEvent;
  /**
   * One delivery row each, created in the same transaction as the event, due at once. With an
   * `orderKey` (the conversation, for a subscription with `ordering: conversation`) a delivery is
   * claimable only once the earlier deliveries with that key to that subscription are done.
   */
  deliveries: { id: string; subscriptionId: string; orderKey?: string | null }[];
  /** The pull subscriptions whose streams the event joins, in the same transaction (see PullStreams). */
  pulls?: string[];
}

export type IngestOutcome =
  | { status: 'stored'; eventId: string; deliveryIds: string[] }
  | { status: 'duplicate'; eventId: string };

export interface ListQuery {
  limit: number;
  /** Return records whose id sorts before this one (ids sort by time). */
  before?: string;
  channel?: string;
}

/** Events also by sender id, conversation id, or a piece of their text (case-insensitive for ASCII letters). */
export interface EventListQuery extends ListQuery {
  sender?: string;
  conversation?: string;
  text?: string;
}

export interface EventLog {
  /**
   * One transaction for the whole batch and the cursors that go with it; a duplicate
   * (channel, dedupKey), also one stored by another node a moment earlier, stores nothing.
   */
  ingestBatch(items: IngestItem[], cursors?: CursorUpdate[]): Promise<IngestOutcome[]>;
  getEvent(id: string): Promise<StoredEvent | null>;
  /** The events of these ids that are stored, by id (one query, for a batch of deliveries). */
  getEvents(ids: string[]): Promise<Map<string, StoredEvent>>;
  /** By imgate message id (`msg_…`) or the platform's message id. */
  findEventByMessageId(channel: string, messageId: string): Promise<StoredEvent | null>;
  /**
   * Newest first. The sender, conversation and text filters read the stored event's JSON, unindexed:
   * they are for an operator looking for a message (the console), not for a bot's hot path.
   */
  listEvents(query: EventListQuery): Promise<UnifiedEvent[]>;
}
