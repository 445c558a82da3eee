import type { StoredEvent } from './event-log.ts';

/**
 * The events of pull subscriptions (`pull: true`), which clients read over SSE, WebSocket or long
 * polling instead of receiving webhooks. Each pull subscription has a stream: the events it matched,
 * numbered 1, 2, 3… in the order their transactions committed (the cursor), written in the ingest
 * transaction itself. A reader that has seen cursor N has seen every entry up to N: no entry with a
 * smaller number can commit later. Entries go with their events at the retention purge.
 */

export interface PulledEvent {
  /** The entry's number in its stream, as a decimal string. */
  cursor: string;
  stored: StoredEvent;
}

export interface PullState {
  /** The last cursor a client acknowledged; null before the first acknowledgement. */
  acked: string | null;
  /** The newest entry's cursor; null while the stream is empty. */
  head: string | null;
}

export interface PullStreams {
  /**
   * Up to `limit` entries after `after` (null: after the last acknowledged cursor), oldest first.
   */
  readPull(subscriptionId: string, after: string | null, limit: number): Promise<PulledEvent[]>;
  /** Moves the acknowledged cursor up to `cursor`; never back (an older acknowledgement changes nothing). */
  ackPull(subscriptionId: string, cursor: string): Promise<void>;
  pullState(subscriptionId: string): Promise<PullState>;
}
