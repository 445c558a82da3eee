import type { UnifiedEvent } from '../../core/event.ts';
import type { CursorUpdate, EventLog, IngestItem, IngestOutcome, StoredEvent } from '../ports/event-log.ts';
import { epochMs, toStoredEvent, type EventRow } from '../rows.ts';
import { nowMs, toJson, where, type SqliteConnection } from './connection.ts';
import { writeCursor } from './key-value.ts';
import { appendPullEntries } from './pull-streams.ts';

const EVENT_COLUMNS = 'event_json, raw_json, raw_body, raw_content_type, raw_query';

export function sqliteEventLog(sql: SqliteConnection): EventLog {
  function ingestOne(item: IngestItem, now: number): IngestOutcome {
    const { event, raw, rawBody, rawRequest } = item.stored;
    const inserted = sql.run(
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
      const existing = sql.one<{ id: string }>('SELECT id FROM events WHERE channel = ? AND dedup_key = ?', item.channel, item.dedupKey);
      if (existing === undefined) throw new Error(`no event with dedup key ${item.dedupKey} on channel ${item.channel}`);
      return { status: 'duplicate', eventId: existing.id };
    }
    for (const delivery of item.deliveries) {
      sql.run(
        `INSERT INTO deliveries (id, event_id, subscription_id, status, attempts, next_attempt_at, created_at, updated_at, order_key)
         VALUES (@id, @eventId, @subscriptionId, 'pending', 0, @now, @now, @now, @orderKey)`,
        { id: delivery.id, eventId: event.id, subscriptionId: delivery.subscriptionId, now, orderKey: delivery.orderKey ?? null },
      );
    }
    appendPullEntries(sql, item);
    return { status: 'stored', eventId: event.id, deliveryIds: item.deliveries.map((d) => d.id) };
  }

  return {
    async ingestBatch(items: IngestItem[], cursors: CursorUpdate[] = []): Promise<IngestOutcome[]> {
      const now = nowMs();
      return sql.transaction(() => {
        const outcomes = items.map((item) => ingestOne(item, now));
        for (const cursor of cursors) writeCursor(sql, cursor, now);
        return outcomes;
      });
    },

    async getEvent(id: string): Promise<StoredEvent | null> {
      const row = sql.one<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`, id);
      return row === undefined ? null : toStoredEvent(row);
    },

    async getEvents(ids: string[]): Promise<Map<string, StoredEvent>> {
      const rows = sql.many<EventRow & { id: string }>(
        `SELECT id, ${EVENT_COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each(?))`,
        JSON.stringify(ids),
      );
      return new Map(rows.map((row) => [row.id, toStoredEvent(row)]));
    },

    // The imgate id is tried first: a platform id could, in principle, look like one. Several events
    // may carry one platform message id (a message and its recall); the first received is the message.
    async findEventByMessageId(channel: string, messageId: string): Promise<StoredEvent | null> {
      const row =
        sql.one<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE channel = ? AND message_id = ?`, channel, messageId) ??
        sql.one<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE channel = ? AND dedup_key = ? AND platform_message_id = ?`,
          channel,
          messageId,
          messageId,
        ) ??
        // The condition repeats the partial index's, so that SQLite uses it.
        sql.one<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events
           WHERE channel = ? AND platform_message_id = ? AND platform_message_id <> dedup_key
           ORDER BY received_at, id LIMIT 1`,
          channel,
          messageId,
        );
      return row === undefined ? null : toStoredEvent(row);
    },

    async listEvents(query) {
      const filter = where([
        ['id < ?', query.before],
        ['channel = ?', query.channel],
        ["json_extract(event_json, '$.sender.id') = ?", query.sender],
        ["json_extract(event_json, '$.conversation.id') = ?", query.conversation],
        // instr, not LIKE: the text is matched as it is, `%` and `_` included.
        ["instr(lower(json_extract(event_json, '$.message.text')), lower(?)) > 0", query.text],
      ]);
      const rows = sql.many<{ event_json: string }>(
        `SELECT event_json FROM events ${filter.sql} ORDER BY id DESC LIMIT ?`,
        ...filter.params,
        query.limit,
      );
      return rows.map((row) => JSON.parse(row.event_json) as UnifiedEvent);
    },
  };
}

