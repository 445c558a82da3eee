/**
 * What went out: idempotency keys of sends (one key cluster-wide) and the messages sent.
 */

export type IdempotencyClaim =
  | { state: 'new' }
  | { state: 'in_progress' }
  /** Abandoned after its send began calling the platform: the message may have been sent. */
  | { state: 'interrupted' }
  | { state: 'conflict' }
  | { state: 'done'; response: unknown };

export interface OutboundMessageRecord {
  id: string;
  channel: string;
  to: string;
  platformMessageId: string | null;
  replyToEventId: string | null;
  createdAt: number;
}

export interface SendLog {
  /**
   * Claims a key for a send; of two racing claims one gets `new`. A claim still in progress after
   * `abandonAfterMs` by the database's clock (the node that made it died mid-send) is taken over if
   * its send never called the platform, and answered `interrupted` if it did, so a key is never
   * stuck and a message never sent twice.
   */
  claimIdempotencyKey(scope: string, key: string, requestHash: string, abandonAfterMs: number): Promise<IdempotencyClaim>;
  /** Notes that the send holding this claim is about to call its platform (see `claimIdempotencyKey`). */
  markIdempotencyCalling(scope: string, key: string): Promise<void>;
  completeIdempotencyKey(scope: string, key: string, response: unknown): Promise<void>;
  /** Forgets a claim whose send failed, so the caller may try again with the same key. */
  releaseIdempotencyKey(scope: string, key: string): Promise<void>;

  insertOutboundMessage(message: OutboundMessageRecord): Promise<void>;
  getOutboundMessage(id: string): Promise<OutboundMessageRecord | null>;
}
