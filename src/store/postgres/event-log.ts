import type { UnifiedEvent } from '../../core/event.ts';
import type { CursorUpdate, EventLog, IngestItem, IngestOutcome, StoredEvent } from '../ports/event-log.ts';
import { epochMs, toStoredEvent, type EventRow } from '../rows.ts';
import { storableText, toJson, where, WITH_NOW, type Database, type Sql } from './database.ts';
import { writeCursors } from './key-value.ts';
import { appendPullEntries } from './pull-streams.ts';

const EVENT_COLUMNS = 'event_json, raw_json, raw_body, raw_content_type, raw_query';

// The stored event as jsonb, for filters. jsonb refuses the escape `\u0000` (JSON.stringify writes a NUL
// so), and one such event would fail every search: it reads as U+FFFD, as storableText stores NULs.
const EVENT_JSONB = "replace(event_json, '\\u0000', '\\ufffd')::jsonb";

// A batch is a few statements whatever its size: the events in one multi-row insert (unnest of
// one array per column), a duplicate's existing id in one lookup, the deliveries in one insert.
// ON CONFLICT DO NOTHING on (channel, dedup_key) waits for a concurrent insert of the same key
// (another node's) and then skips the row, so a key is stored once cluster-wide.
const INSERT_EVENTS = `
INSERT INTO events (id, channel, dedup_key, message_id, platform_message_id, received_at, event_json, raw_json, raw_body,
                    raw_content_type, raw_query)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
                     $9::bytea[], $10::text[], $11::text[])
ON CONFLICT (channel, dedup_key) DO NOTHING
RETURNING id`;

const EXISTING_EVENTS = `
SELECT wanted.n, events.id
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS wanted (channel, dedup_key, n)
JOIN events USING (channel, dedup_key)`;

const INSERT_DELIVERIES = `${WITH_NOW}
INSERT INTO deliveries (id, event_id, subscription_id, status, attempts, next_attempt_at, created_at, updated_at, order_key)
SELECT d.id, d.event_id, d.subscription_id, 'pending', 0, now.ms, now.ms, now.ms, d.order_key
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS d (id, event_id, subscription_id, order_key, n), now
ORDER BY d.n`;

export function postgresEventLog(db: Database): EventLog {
  return {
    async ingestBatch(items: IngestItem[], cursors: CursorUpdate[] = []): Promise<IngestOutcome[]> {
      if (items.length === 0 && cursors.length === 0) return [];
      return db.transaction(async (tx) => {
        const outcomes = await ingestEvents(tx, items);
        await writeCursors(tx, cursors);
        return outcomes;
      });
    },

    async getEvent(id: string): Promise<StoredEvent | null> {
      const row = await db.one<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1`, [id]);
      return row === undefined ? null : toStoredEvent(row);
    },

    async getEvents(ids: string[]): Promise<Map<string, StoredEvent>> {
      if (ids.length === 0) return new Map();
      const rows = await db.rows<EventRow & { id: string }>(`SELECT id, ${EVENT_COLUMNS} FROM events WHERE id = ANY($1::text[])`, [ids]);
      return new Map(rows.map((row) => [row.id, toStoredEvent(row)]));
    },

    // The imgate id is tried first: a platform id could, in principle, look like one. Several events
    // may carry one platform message id (a message and its recall); the first received is the message.
    async findEventByMessageId(channel: string, messageId: string): Promise<StoredEvent | null> {
      const platformId = storableText(messageId);
      const row =
        (await db.one<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE channel = $1 AND message_id = $2`, [channel, messageId])) ??
        (await db.one<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE channel = $1 AND dedup_key = $2 AND platform_message_id = $2`,
          [channel, platformId],
        )) ??
        // The condition repeats the partial index's, so that the planner can use it.
        (await db.one<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events
           WHERE channel = $1 AND platform_message_id = $2 AND platform_message_id <> dedup_key
           ORDER BY received_at, id LIMIT 1`,
          [channel, platformId],
        ));
      return row === undefined ? null : toStoredEvent(row);
    },

    async listEvents(query) {
      const filter = where([
        ['id < ?', query.before],
        ['channel = ?', query.channel],
        [`${EVENT_JSONB} #>> '{sender,id}' = ?`, storable(query.sender)],
        [`${EVENT_JSONB} #>> '{conversation,id}' = ?`, storable(query.conversation)],
        // strpos, not LIKE: the text is matched as it is, `%` and `_` included.
        [`strpos(lower(${EVENT_JSONB} #>> '{message,text}'), lower(?)) > 0`, storable(query.text)],
      ]);
      const rows = await db.rows<{ event_json: string }>(
        `SELECT event_json FROM events ${filter.sql} ORDER BY id DESC LIMIT $${filter.params.length + 1}`,
        [...filter.params, query.limit],
      );
      return rows.map((row) => JSON.parse(row.event_json) as UnifiedEvent);
    },
  };
}

/** A filter value as the stored text has it (U+0000 is stored as U+FFFD). */
function storable(value: string | undefined): string | undefined {
  return value === undefined ? undefined : storableText(value);
}

/**
 * Within one batch the first of two items with one (channel, dedup key) is the one stored; the
 * later one is its duplicate, as it would be in a later batch.
 */
async function ingestEvents(tx: Sql, items: IngestItem[]): Promise<IngestOutcome[]> {
  const firstByKey = new Map<string, IngestItem>();
  for (const item of items) {
    const key = dedupIdentity(item);
    if (!firstByKey.has(key)) firstByKey.set(key, item);
  }
  const candidates = [...firstByKey.values()];
  if (candidates.length === 0) return [];

  const inserted = await tx.rows<{ id: string }>(INSERT_EVENTS, eventColumns(candidates));
  const insertedIds = new Set(inserted.map((row) => row.id));
  const isStored = (item: IngestItem): boolean => insertedIds.has(item.stored.event.id);

  const skipped = candidates.filter((item) => !isStored(item));
  const existingIds = new Map<IngestItem, string>();
  if (skipped.length > 0) {
    const rows = await tx.rows<{ n: number; id: string }>(EXISTING_EVENTS, [
      skipped.map((item) => item.channel),
      skipped.map((item) => storableText(item.dedupKey)),
    ]);
    for (const row of rows) existingIds.set(skipped[row.n - 1] as IngestItem, row.id);
  }

  const stored = candidates.filter(isStored);
  const deliveries = stored.flatMap((item) => item.deliveries.map((delivery) => ({ ...delivery, eventId: item.stored.event.id })));
  if (deliveries.length > 0) {
    // In batch order, so that `seq` is the order stored (ordering: conversation).
    await tx.run(INSERT_DELIVERIES, [
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.eventId),
      deliveries.map((d) => d.subscriptionId),
      deliveries.map((d) => (d.orderKey === undefined || d.orderKey === null ? null : storableText(d.orderKey))),
    ]);
  }
  await appendPullEntries(tx, stored);

  return items.map((item): IngestOutcome => {
    const first = firstByKey.get(dedupIdentity(item)) as IngestItem;
    if (isStored(first)) {
      return item === first
        ? { status: 'stored', eventId: item.stored.event.id, deliveryIds: item.deliveries.map((d) => d.id) }
        : { status: 'duplicate', eventId: first.stored.event.id };
    }
    const eventId = existingIds.get(first);
    if (eventId === undefined) throw new Error(`no event with dedup key ${item.dedupKey} on channel ${item.channel}`);
    return { status: 'duplicate', eventId };
  });
}

function dedupIdentity(item: IngestItem): string {
  return JSON.stringify([item.channel, storableText(item.dedupKey)]);
}

/** The batch as one array per column, in INSERT_EVENTS's order. */
function eventColumns(items: IngestItem[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 11 }, () => []);
  for (const item of items) {
    const { event, raw, rawBody, rawRequest } = item.stored;
    const values = [
      event.id,
      item.channel,
      storableText(item.dedupKey),
      event.message.id,
      storableText(event.message.platformId),
      epochMs(event.receivedAt),
      JSON.stringify(event),
      toJson(raw),
      rawBody,
      rawRequest?.contentType ?? null,
      rawRequest?.query ?? null,
    ];
    values.forEach((value, index) => columns[index]?.push(value));
  }
  return columns;
}

