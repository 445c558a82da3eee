import type { RawRequestShape, UnifiedEvent } from '../core/event.ts';

/**
 * Everything imgate keeps. SQLite (embedded default) and PostgreSQL (scale-out) implement this one
 * interface and pass one conformance suite (`test/store/conformance.ts`). All methods are async so
 * that both engines fit; the SQLite implementation does its work synchronously inside them.
 * Times are epoch milliseconds.
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
}

export interface IngestItem {
  channel: string;
  dedupKey: string;
  stored: StoredEvent;
  /** One delivery row each, created in the same transaction as the event. */
  deliveries: { id: string; subscriptionId: string }[];
}

export type IngestOutcome =
  | { status: 'stored'; eventId: string; deliveryIds: string[] }
  | { status: 'duplicate'; eventId: string };

export interface SubscriptionRecord {
  id: string;
  url: string;
  /** One secret, or two while a secret is being rotated. */
  secrets: string[];
  signing: 'standard' | 'abot' | 'padpro';
  format: 'unified' | 'raw';
  channels: string[] | null;
  messageTypes: string[] | null;
  includeSelf: boolean;
  groups: 'all' | 'mention' | 'none';
  enabled: boolean;
  timeoutMs: number;
  retrySchedule: number[];
  includeRaw: boolean;
  /**
   * `config` subscriptions are rewritten from the config file at every start; `puppet` ones are
   * registered WeCom KF puppets, which receive only the callbacks addressed to them.
   */
  source: 'config' | 'api' | 'puppet';
  createdAt: number;
  updatedAt: number;
}

export type DeliveryStatus = 'pending' | 'in_flight' | 'succeeded' | 'dead';

export interface DeliveryRecord {
  id: string;
  eventId: string;
  subscriptionId: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  nextAttemptAt: number;
  /** While in flight: until when the claim holds; after that another worker may take it. */
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  startedAt: number;
  latencyMs: number;
  statusCode: number | null;
  /** The response body, truncated to 1 KiB. */
  responseBody: string | null;
  error: string | null;
}

/** What the worker decided after an attempt. */
export type AttemptResolution =
  | { status: 'succeeded' }
  | { status: 'pending'; nextAttemptAt: number; error: string }
  | { status: 'dead'; error: string };

export interface ApiKeyRecord {
  id: string;
  /** sha256 hex of the token; the token itself is never stored. */
  tokenHash: string;
  channels: string[];
}

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

export interface ListQuery {
  limit: number;
  /** Return records whose id sorts before this one (ids sort by time). */
  before?: string;
  channel?: string;
}

export interface PurgeResult {
  events: number;
  deliveries: number;
  attempts: number;
  idempotency: number;
  outbound: number;
  counters: number;
}

export interface Store {
  /** Applies pending migrations. Safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Ingest: one transaction for the whole batch (and the cursors that go with it); a duplicate
  // (channel, dedupKey) stores nothing.
  ingestBatch(items: IngestItem[], cursors?: CursorUpdate[]): Promise<IngestOutcome[]>;
  getEvent(id: string): Promise<StoredEvent | null>;
  /** By imgate message id (`msg_…`) or the platform's message id. */
  findEventByMessageId(channel: string, messageId: string): Promise<StoredEvent | null>;
  listEvents(query: ListQuery): Promise<UnifiedEvent[]>;

  // Subscriptions
  upsertSubscription(sub: SubscriptionRecord): Promise<void>;
  getSubscription(id: string): Promise<SubscriptionRecord | null>;
  listSubscriptions(): Promise<SubscriptionRecord[]>;
  deleteSubscription(id: string): Promise<boolean>;
  /** Removes `config` subscriptions whose id is not in `keepIds`. */
  pruneConfigSubscriptions(keepIds: string[]): Promise<void>;
  setSubscriptionEnabled(id: string, enabled: boolean): Promise<void>;

  // Deliveries (the outbox)
  /**
   * Moves these deliveries to in_flight with a lease, if they are due and pending, or in flight
   * with a lease that ran out (the process that held it died); returns the ones it got.
   */
  claimDeliveries(ids: string[], now: number, leaseUntil: number): Promise<DeliveryRecord[]>;
  /**
   * Deliveries `claimDeliveries` would take now, oldest first, leaving out those of
   * `skipSubscriptions` (whose lanes are full, so that one backlog cannot fill every poll); claims nothing.
   */
  listDueDeliveries(now: number, limit: number, skipSubscriptions: string[]): Promise<{ id: string; subscriptionId: string }[]>;
  /** Records an attempt and the delivery's new state together. */
  recordAttempt(attempt: AttemptRecord, resolution: AttemptResolution, now: number): Promise<void>;
  getDelivery(id: string): Promise<DeliveryRecord | null>;
  listDeliveries(query: ListQuery & { eventId?: string; status?: DeliveryStatus }): Promise<DeliveryRecord[]>;
  /** In the order they were made (attempt numbers start again after a replay). */
  listAttempts(deliveryId: string): Promise<AttemptRecord[]>;
  /**
   * Puts a delivery back to pending, due now, with a fresh retry schedule (its attempt log is kept).
   * A delivery in flight is left alone: replaying it would send it twice at once.
   */
  replayDelivery(id: string, now: number): Promise<'replayed' | 'in_flight' | 'not_found'>;

  // API keys
  replaceApiKeys(keys: ApiKeyRecord[]): Promise<void>;
  findApiKeyByHash(tokenHash: string): Promise<ApiKeyRecord | null>;

  // Idempotency of sends
  /**
   * Claims a key for a send. A claim still in progress that was made before `abandonedBefore` (the
   * process that made it died mid-send) is taken over if its send never called the platform, and
   * answered `interrupted` if it did, so a key is never stuck and a message never sent twice.
   */
  claimIdempotencyKey(
    scope: string,
    key: string,
    requestHash: string,
    now: number,
    abandonedBefore: number,
  ): Promise<IdempotencyClaim>;
  /** Notes that the send holding this claim is about to call its platform (see `claimIdempotencyKey`). */
  markIdempotencyCalling(scope: string, key: string, now: number): Promise<void>;
  completeIdempotencyKey(scope: string, key: string, response: unknown): Promise<void>;
  /** Forgets a claim whose send failed, so the caller may try again with the same key. */
  releaseIdempotencyKey(scope: string, key: string): Promise<void>;

  // Outbound messages
  insertOutboundMessage(message: OutboundMessageRecord): Promise<void>;
  getOutboundMessage(id: string): Promise<OutboundMessageRecord | null>;

  // Access-token cache and per-channel cursors
  getToken(key: string): Promise<{ value: string; expiresAt: number } | null>;
  putToken(key: string, value: string, expiresAt: number): Promise<void>;
  /** Deletes the token, or with `onlyValue` only while it still has that value. */
  deleteToken(key: string, onlyValue?: string): Promise<void>;
  getCursor(channel: string, key: string): Promise<string | null>;
  putCursor(channel: string, key: string, value: string): Promise<void>;
  /** The keys this channel has cursors for (e.g. the KF accounts it has pulled before). */
  listCursorKeys(channel: string): Promise<string[]>;

  // Per-channel counters (e.g. QQ's msg_seq, the replies to one message)
  /**
   * Adds one to this channel's counter `key` (a new counter starts at 1) and answers the new value,
   * atomically: concurrent calls, from any process, each get their own number.
   */
  nextCounter(channel: string, key: string, now: number): Promise<number>;

  /**
   * Deletes events (with their deliveries and attempts), sends, and counters last counted, older
   * than `cutoff`. An event with a delivery still pending or in flight is kept until that delivery
   * has succeeded or been dead-lettered.
   */
  purgeOlderThan(cutoff: number): Promise<PurgeResult>;
}
