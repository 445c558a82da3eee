import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { UnifiedEvent } from '../../core/event.ts';
import type {
  ApiKeyRecord,
  AttemptRecord,
  AttemptResolution,
  CursorUpdate,
  DeliveryRecord,
  DeliveryStatus,
  IdempotencyClaim,
  IngestItem,
  IngestOutcome,
  ListQuery,
  OutboundMessageRecord,
  PurgeResult,
  Store,
  StoredEvent,
  SubscriptionRecord,
} from '../store.ts';
import { migrate } from './migrate.ts';

interface EventRow {
  event_json: string;
  raw_json: string;
  raw_body: Buffer;
  raw_content_type: string | null;
  raw_query: string | null;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  subscription_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: number;
  latency_ms: number;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
}

interface SubscriptionRow {
  id: string;
  url: string;
  secrets: string;
  signing: SubscriptionRecord['signing'];
  format: SubscriptionRecord['format'];
  channels: string | null;
  message_types: string | null;
  include_self: number;
  groups: SubscriptionRecord['groups'];
  enabled: number;
  timeout_ms: number;
  retry_schedule: string;
  include_raw: number;
  source: SubscriptionRecord['source'];
  created_at: number;
  updated_at: number;
}

interface ApiKeyRow {
  id: string;
  token_hash: string;
  channels: string;
}

interface IdempotencyRow {
  request_hash: string;
  state: 'in_progress' | 'done';
  response_json: string | null;
  calling_since: number | null;
  created_at: number;
}

interface OutboundMessageRow {
  id: string;
  channel: string;
  recipient: string;
  platform_message_id: string | null;
  reply_to_event_id: string | null;
  created_at: number;
}

/** Old events deleted per purge transaction. */
const PURGE_CHUNK = 1000;

/**
 * The embedded store. better-sqlite3 is synchronous, so every method does its work at once inside
 * an async shell; one connection per process, writes serialized by SQLite.
 */
export class SqliteStore implements Store {
  private readonly statements = new Map<string, Database.Statement<unknown[], unknown>>();

  /** The connection itself, for diagnostics and the SQLite-specific tests. */
  readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`. */
  static open(path: string): SqliteStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // With WAL, FULL fsyncs the log at every commit: an acknowledged callback survives a power cut.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    return new SqliteStore(db);
  }

  async migrate(): Promise<void> {
    migrate(this.db);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  // Ingest

  async ingestBatch(items: IngestItem[], cursors: CursorUpdate[] = []): Promise<IngestOutcome[]> {
    const now = Date.now();
    return this.db
      .transaction(() => {
        const outcomes = items.map((item) => this.ingestOne(item, now));
        for (const cursor of cursors) this.writeCursor(cursor, now);
        return outcomes;
      })
      .immediate();
  }

  private ingestOne(item: IngestItem, now: number): IngestOutcome {
    const { event, raw, rawBody, rawRequest } = item.stored;
    const inserted = this.run(
      `INSERT INTO events (id, channel, dedup_key, message_id, platform_message_id, received_at, event_json, raw_json, raw_body,
                           raw_content_type, raw_query)
       VALUES (@id, @channel, @dedupKey, @messageId, @platformMessageId, @receivedAt, @eventJson, @rawJson, @rawBody,
               @rawContentType, @rawQuery)
       ON CONFLICT (channel, dedup_key) DO NOTHING`,
      {
        id: event.id,
        channel: item.channel,
        dedupKey: item.dedupKey,
        messageId: event.message.id,
        platformMessageId: event.message.platformId,
        receivedAt: epochMs(event.receivedAt),
        eventJson: JSON.stringify(event),
        rawJson: toJson(raw),
        rawBody,
        rawContentType: rawRequest?.contentType ?? null,
        rawQuery: rawRequest?.query ?? null,
      },
    );
    if (inserted.changes === 0) {
      return { status: 'duplicate', eventId: this.eventIdByDedupKey(item.channel, item.dedupKey) };
    }
    for (const delivery of item.deliveries) {
      this.insertPendingDelivery(delivery.id, event.id, delivery.subscriptionId, now);
    }
    return { status: 'stored', eventId: event.id, deliveryIds: item.deliveries.map((d) => d.id) };
  }

  private eventIdByDedupKey(channel: string, dedupKey: string): string {
    const row = this.one<{ id: string }>('SELECT id FROM events WHERE channel = ? AND dedup_key = ?', channel, dedupKey);
    if (row === undefined) throw new Error(`no event with dedup key ${dedupKey} on channel ${channel}`);
    return row.id;
  }

  async getEvent(id: string): Promise<StoredEvent | null> {
    const row = this.one<EventRow>('SELECT event_json, raw_json, raw_body, raw_content_type, raw_query FROM events WHERE id = ?', id);
    return row === undefined ? null : toStoredEvent(row);
  }

  // The imgate id is tried first: a platform id could, in principle, look like one. Several events
  // may carry one platform message id (a message and its recall); the first received is the message.
  async findEventByMessageId(channel: string, messageId: string): Promise<StoredEvent | null> {
    const row =
      this.one<EventRow>(
        'SELECT event_json, raw_json, raw_body, raw_content_type, raw_query FROM events WHERE channel = ? AND message_id = ?',
        channel,
        messageId,
      ) ??
      this.one<EventRow>(
        'SELECT event_json, raw_json, raw_body, raw_content_type, raw_query FROM events WHERE channel = ? AND dedup_key = ? AND platform_message_id = ?',
        channel,
        messageId,
        messageId,
      ) ??
      // The condition repeats the partial index's, so that SQLite uses it.
      this.one<EventRow>(
        `SELECT event_json, raw_json, raw_body, raw_content_type, raw_query FROM events
         WHERE channel = ? AND platform_message_id = ? AND platform_message_id <> dedup_key
         ORDER BY received_at, id LIMIT 1`,
        channel,
        messageId,
      );
    return row === undefined ? null : toStoredEvent(row);
  }

  async listEvents(query: ListQuery): Promise<UnifiedEvent[]> {
    const filter = where([
      ['id < ?', query.before],
      ['channel = ?', query.channel],
    ]);
    const rows = this.many<{ event_json: string }>(
      `SELECT event_json FROM events ${filter.sql} ORDER BY id DESC LIMIT ?`,
      ...filter.params,
      query.limit,
    );
    return rows.map((row) => JSON.parse(row.event_json) as UnifiedEvent);
  }

  // Subscriptions

  // created_at is kept on update: config subscriptions are upserted at every start.
  async upsertSubscription(sub: SubscriptionRecord): Promise<void> {
    this.run(
      `INSERT INTO subscriptions (id, url, secrets, signing, format, channels, message_types, include_self, groups,
                                  enabled, timeout_ms, retry_schedule, include_raw, source, created_at, updated_at)
       VALUES (@id, @url, @secrets, @signing, @format, @channels, @messageTypes, @includeSelf, @groups,
               @enabled, @timeoutMs, @retrySchedule, @includeRaw, @source, @createdAt, @updatedAt)
       ON CONFLICT (id) DO UPDATE SET
         url = excluded.url, secrets = excluded.secrets, signing = excluded.signing, format = excluded.format,
         channels = excluded.channels, message_types = excluded.message_types, include_self = excluded.include_self,
         groups = excluded.groups, enabled = excluded.enabled, timeout_ms = excluded.timeout_ms,
         retry_schedule = excluded.retry_schedule, include_raw = excluded.include_raw, source = excluded.source,
         updated_at = excluded.updated_at`,
      {
        ...sub,
        secrets: JSON.stringify(sub.secrets),
        channels: toJsonOrNull(sub.channels),
        messageTypes: toJsonOrNull(sub.messageTypes),
        includeSelf: Number(sub.includeSelf),
        enabled: Number(sub.enabled),
        retrySchedule: JSON.stringify(sub.retrySchedule),
        includeRaw: Number(sub.includeRaw),
      },
    );
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | null> {
    const row = this.one<SubscriptionRow>('SELECT * FROM subscriptions WHERE id = ?', id);
    return row === undefined ? null : toSubscription(row);
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.many<SubscriptionRow>('SELECT * FROM subscriptions ORDER BY id').map(toSubscription);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    return this.run('DELETE FROM subscriptions WHERE id = ?', id).changes > 0;
  }

  async pruneConfigSubscriptions(keepIds: string[]): Promise<void> {
    this.run(
      `DELETE FROM subscriptions WHERE source = 'config' AND id NOT IN (SELECT value FROM json_each(?))`,
      JSON.stringify(keepIds),
    );
  }

  async setSubscriptionEnabled(id: string, enabled: boolean): Promise<void> {
    this.run('UPDATE subscriptions SET enabled = ? WHERE id = ?', Number(enabled), id);
  }

  // Deliveries

  // One statement per id: an `id IN (…)` list lets the planner scan every pending row instead.
  async claimDeliveries(ids: string[], now: number, leaseUntil: number): Promise<DeliveryRecord[]> {
    const rows = this.db
      .transaction(() =>
        ids.flatMap((id) =>
          this.many<DeliveryRow>(
            `UPDATE deliveries SET status = 'in_flight', lease_until = ?, updated_at = ?
             WHERE id = ?
               AND ((status = 'pending' AND next_attempt_at <= ?) OR (status = 'in_flight' AND lease_until < ?))
             RETURNING *`,
            leaseUntil,
            now,
            id,
            now,
            now,
          ),
        ),
      )
      .immediate();
    return oldestFirst(rows.map(toDelivery));
  }

  async listDueDeliveries(
    now: number,
    limit: number,
    skipSubscriptions: string[],
  ): Promise<{ id: string; subscriptionId: string }[]> {
    return this.many<{ id: string; subscriptionId: string }>(
      `SELECT id, subscription_id AS subscriptionId FROM deliveries
       WHERE ((status = 'pending' AND next_attempt_at <= @now) OR (status = 'in_flight' AND lease_until < @now))
         AND subscription_id NOT IN (SELECT value FROM json_each(@skip))
       ORDER BY next_attempt_at, id
       LIMIT @limit`,
      { now, limit, skip: JSON.stringify(skipSubscriptions) },
    );
  }

  async recordAttempt(attempt: AttemptRecord, resolution: AttemptResolution, now: number): Promise<void> {
    this.db
      .transaction(() => {
        this.run(
          `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, latency_ms, status_code, response_body, error)
           VALUES (@deliveryId, @attempt, @startedAt, @latencyMs, @statusCode, @responseBody, @error)`,
          attempt,
        );
        this.run(
          `UPDATE deliveries SET status = @status, attempts = attempts + 1,
             next_attempt_at = coalesce(@nextAttemptAt, next_attempt_at), lease_until = NULL,
             last_error = @lastError, updated_at = @now
           WHERE id = @id`,
          { id: attempt.deliveryId, now, ...resolutionColumns(resolution) },
        );
      })
      .immediate();
  }

  async getDelivery(id: string): Promise<DeliveryRecord | null> {
    const row = this.one<DeliveryRow>('SELECT * FROM deliveries WHERE id = ?', id);
    return row === undefined ? null : toDelivery(row);
  }

  async listDeliveries(
    query: ListQuery & { eventId?: string; status?: DeliveryStatus },
  ): Promise<DeliveryRecord[]> {
    const filter = where([
      ['id < ?', query.before],
      ['event_id IN (SELECT id FROM events WHERE channel = ?)', query.channel],
      ['event_id = ?', query.eventId],
      ['status = ?', query.status],
    ]);
    const rows = this.many<DeliveryRow>(
      `SELECT * FROM deliveries ${filter.sql} ORDER BY id DESC LIMIT ?`,
      ...filter.params,
      query.limit,
    );
    return rows.map(toDelivery);
  }

  async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    const rows = this.many<AttemptRow>(
      `SELECT delivery_id, attempt, started_at, latency_ms, status_code, response_body, error
       FROM delivery_attempts WHERE delivery_id = ? ORDER BY id`,
      deliveryId,
    );
    return rows.map(toAttempt);
  }

  async replayDelivery(id: string, now: number): Promise<'replayed' | 'in_flight' | 'not_found'> {
    const updated = this.run(
      `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL, updated_at = ?
       WHERE id = ? AND status <> 'in_flight'`,
      now,
      now,
      id,
    );
    if (updated.changes > 0) return 'replayed';
    return this.one<{ id: string }>('SELECT id FROM deliveries WHERE id = ?', id) ? 'in_flight' : 'not_found';
  }

  private insertPendingDelivery(id: string, eventId: string, subscriptionId: string, now: number): void {
    this.run(
      `INSERT INTO deliveries (id, event_id, subscription_id, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES (@id, @eventId, @subscriptionId, 'pending', 0, @now, @now, @now)`,
      { id, eventId, subscriptionId, now },
    );
  }

  // API keys

  async replaceApiKeys(keys: ApiKeyRecord[]): Promise<void> {
    this.db
      .transaction(() => {
        this.run('DELETE FROM api_keys');
        for (const key of keys) {
          this.run(
            'INSERT INTO api_keys (id, token_hash, channels) VALUES (?, ?, ?)',
            key.id,
            key.tokenHash,
            JSON.stringify(key.channels),
          );
        }
      })
      .immediate();
  }

  async findApiKeyByHash(tokenHash: string): Promise<ApiKeyRecord | null> {
    const row = this.one<ApiKeyRow>('SELECT id, token_hash, channels FROM api_keys WHERE token_hash = ?', tokenHash);
    if (row === undefined) return null;
    return { id: row.id, tokenHash: row.token_hash, channels: JSON.parse(row.channels) as string[] };
  }

  // Idempotency

  async claimIdempotencyKey(
    scope: string,
    key: string,
    requestHash: string,
    now: number,
    abandonedBefore: number,
  ): Promise<IdempotencyClaim> {
    return this.db
      .transaction((): IdempotencyClaim => {
        const takenOver = this.run(
          `UPDATE idempotency_keys SET created_at = ?
           WHERE scope = ? AND key = ? AND state = 'in_progress' AND request_hash = ? AND created_at < ?
             AND calling_since IS NULL`,
          now,
          scope,
          key,
          requestHash,
          abandonedBefore,
        );
        if (takenOver.changes > 0) return { state: 'new' };
        const inserted = this.run(
          `INSERT INTO idempotency_keys (scope, key, request_hash, state, created_at)
           VALUES (?, ?, ?, 'in_progress', ?)
           ON CONFLICT (scope, key) DO NOTHING`,
          scope,
          key,
          requestHash,
          now,
        );
        if (inserted.changes > 0) return { state: 'new' };
        const row = this.one<IdempotencyRow>(
          'SELECT request_hash, state, response_json, calling_since, created_at FROM idempotency_keys WHERE scope = ? AND key = ?',
          scope,
          key,
        );
        if (row === undefined) throw new Error(`idempotency key ${scope}/${key} vanished inside its transaction`);
        return existingClaim(row, requestHash, abandonedBefore);
      })
      .immediate();
  }

  async markIdempotencyCalling(scope: string, key: string, now: number): Promise<void> {
    this.run(
      `UPDATE idempotency_keys SET calling_since = ? WHERE scope = ? AND key = ? AND state = 'in_progress'`,
      now,
      scope,
      key,
    );
  }

  async completeIdempotencyKey(scope: string, key: string, response: unknown): Promise<void> {
    this.run(
      `UPDATE idempotency_keys SET state = 'done', response_json = ? WHERE scope = ? AND key = ?`,
      toJson(response),
      scope,
      key,
    );
  }

  async releaseIdempotencyKey(scope: string, key: string): Promise<void> {
    this.run('DELETE FROM idempotency_keys WHERE scope = ? AND key = ?', scope, key);
  }

  // Outbound messages

  async insertOutboundMessage(message: OutboundMessageRecord): Promise<void> {
    this.run(
      `INSERT INTO outbound_messages (id, channel, recipient, platform_message_id, reply_to_event_id, created_at)
       VALUES (@id, @channel, @to, @platformMessageId, @replyToEventId, @createdAt)`,
      message,
    );
  }

  async getOutboundMessage(id: string): Promise<OutboundMessageRecord | null> {
    const row = this.one<OutboundMessageRow>('SELECT * FROM outbound_messages WHERE id = ?', id);
    if (row === undefined) return null;
    return {
      id: row.id,
      channel: row.channel,
      to: row.recipient,
      platformMessageId: row.platform_message_id,
      replyToEventId: row.reply_to_event_id,
      createdAt: row.created_at,
    };
  }

  // Tokens and cursors

  async getToken(key: string): Promise<{ value: string; expiresAt: number } | null> {
    const row = this.one<{ value: string; expires_at: number }>(
      'SELECT value, expires_at FROM tokens WHERE key = ?',
      key,
    );
    return row === undefined ? null : { value: row.value, expiresAt: row.expires_at };
  }

  async putToken(key: string, value: string, expiresAt: number): Promise<void> {
    this.run(
      `INSERT INTO tokens (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      key,
      value,
      expiresAt,
    );
  }

  async deleteToken(key: string, onlyValue?: string): Promise<void> {
    if (onlyValue === undefined) this.run('DELETE FROM tokens WHERE key = ?', key);
    else this.run('DELETE FROM tokens WHERE key = ? AND value = ?', key, onlyValue);
  }

  async getCursor(channel: string, key: string): Promise<string | null> {
    const row = this.one<{ value: string }>('SELECT value FROM cursors WHERE channel = ? AND key = ?', channel, key);
    return row === undefined ? null : row.value;
  }

  async putCursor(channel: string, key: string, value: string): Promise<void> {
    this.writeCursor({ channel, key, value }, Date.now());
  }

  async listCursorKeys(channel: string): Promise<string[]> {
    return this.many<{ key: string }>('SELECT key FROM cursors WHERE channel = ? ORDER BY key', channel).map((row) => row.key);
  }

  private writeCursor(cursor: CursorUpdate, now: number): void {
    this.run(
      `INSERT INTO cursors (channel, key, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (channel, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      cursor.channel,
      cursor.key,
      cursor.value,
      now,
    );
  }

  // Counters

  async nextCounter(channel: string, key: string, now: number): Promise<number> {
    const row = this.one<{ value: number }>(
      `INSERT INTO counters (channel, key, value, updated_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (channel, key) DO UPDATE SET value = value + 1, updated_at = excluded.updated_at
       RETURNING value`,
      channel,
      key,
      now,
    );
    return (row as { value: number }).value;
  }

  // Retention

  async purgeOlderThan(cutoff: number): Promise<PurgeResult> {
    const total: PurgeResult = { events: 0, deliveries: 0, attempts: 0, idempotency: 0, outbound: 0, counters: 0 };
    // Events go in chunks, each its own transaction, with the event loop let go in between: a
    // single transaction over a long backlog (the first purge after a long stop) held up every
    // callback for seconds.
    for (;;) {
      const chunk = this.db.transaction(() => this.purgeEventChunk(cutoff)).immediate();
      total.events += chunk.events;
      total.deliveries += chunk.deliveries;
      total.attempts += chunk.attempts;
      if (chunk.events < PURGE_CHUNK) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.db
      .transaction(() => {
        total.idempotency = this.run('DELETE FROM idempotency_keys WHERE created_at < ?', cutoff).changes;
        total.outbound = this.run('DELETE FROM outbound_messages WHERE created_at < ?', cutoff).changes;
        total.counters = this.run('DELETE FROM counters WHERE updated_at < ?', cutoff).changes;
      })
      .immediate();
    return total;
  }

  /**
   * Up to PURGE_CHUNK old events with their deliveries and attempts. An event with a delivery still
   * pending or in flight stays, however old, until that delivery succeeds or is dead-lettered: a
   * long retry schedule (or a subscriber's Retry-After) can outlast the retention.
   */
  private purgeEventChunk(cutoff: number): Pick<PurgeResult, 'events' | 'deliveries' | 'attempts'> {
    const ids = this.many<{ id: string }>(
      `SELECT id FROM events WHERE received_at < ? AND NOT EXISTS (
         SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id AND deliveries.status IN ('pending', 'in_flight'))
       LIMIT ?`,
      cutoff,
      PURGE_CHUNK,
    );
    if (ids.length === 0) return { events: 0, deliveries: 0, attempts: 0 };
    const list = JSON.stringify(ids.map((row) => row.id));
    const attempts = this.run(
      `DELETE FROM delivery_attempts WHERE delivery_id IN (
         SELECT id FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?)))`,
      list,
    ).changes;
    const deliveries = this.run('DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?))', list).changes;
    const events = this.run('DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))', list).changes;
    return { events, deliveries, attempts };
  }

  // Statements are prepared on first use (the tables may not exist before migrate) and then reused.
  private statement(sql: string): Database.Statement<unknown[], unknown> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private one<Row>(sql: string, ...params: unknown[]): Row | undefined {
    return this.statement(sql).get(...params) as Row | undefined;
  }

  private many<Row>(sql: string, ...params: unknown[]): Row[] {
    return this.statement(sql).all(...params) as Row[];
  }

  private run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.statement(sql).run(...params);
  }
}

/** A WHERE clause of the conditions whose value is given. */
function where(conditions: [sql: string, value: unknown][]): { sql: string; params: unknown[] } {
  const given = conditions.filter(([, value]) => value !== undefined);
  return {
    sql: given.length === 0 ? '' : `WHERE ${given.map(([sql]) => sql).join(' AND ')}`,
    params: given.map(([, value]) => value),
  };
}

function epochMs(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`event receivedAt is not a valid time: ${iso}`);
  return ms;
}

function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function toJsonOrNull(value: string[] | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function fromJsonOrNull(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    event: JSON.parse(row.event_json) as UnifiedEvent,
    raw: JSON.parse(row.raw_json) as unknown,
    rawBody: row.raw_body,
    rawRequest: row.raw_content_type === null ? null : { contentType: row.raw_content_type, query: row.raw_query ?? '' },
  };
}

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    eventId: row.event_id,
    subscriptionId: row.subscription_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function oldestFirst(deliveries: DeliveryRecord[]): DeliveryRecord[] {
  return deliveries.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || (a.id < b.id ? -1 : 1));
}

function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    startedAt: row.started_at,
    latencyMs: row.latency_ms,
    statusCode: row.status_code,
    responseBody: row.response_body,
    error: row.error,
  };
}

function resolutionColumns(resolution: AttemptResolution): {
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  lastError: string | null;
} {
  switch (resolution.status) {
    case 'succeeded':
      return { status: 'succeeded', nextAttemptAt: null, lastError: null };
    case 'pending':
      return { status: 'pending', nextAttemptAt: resolution.nextAttemptAt, lastError: resolution.error };
    case 'dead':
      return { status: 'dead', nextAttemptAt: null, lastError: resolution.error };
  }
}

function toSubscription(row: SubscriptionRow): SubscriptionRecord {
  return {
    id: row.id,
    url: row.url,
    secrets: JSON.parse(row.secrets) as string[],
    signing: row.signing,
    format: row.format,
    channels: fromJsonOrNull(row.channels),
    messageTypes: fromJsonOrNull(row.message_types),
    includeSelf: row.include_self === 1,
    groups: row.groups,
    enabled: row.enabled === 1,
    timeoutMs: row.timeout_ms,
    retrySchedule: JSON.parse(row.retry_schedule) as number[],
    includeRaw: row.include_raw === 1,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function existingClaim(row: IdempotencyRow, requestHash: string, abandonedBefore: number): IdempotencyClaim {
  if (row.request_hash !== requestHash) return { state: 'conflict' };
  if (row.state === 'in_progress') {
    return row.calling_since !== null && row.created_at < abandonedBefore ? { state: 'interrupted' } : { state: 'in_progress' };
  }
  return { state: 'done', response: JSON.parse(row.response_json ?? 'null') as unknown };
}
