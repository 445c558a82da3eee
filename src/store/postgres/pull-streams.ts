import type { IngestItem } from '../ports/event-log.ts';
import type { PulledEvent, PullStreams } from '../ports/pull-streams.ts';
import { toStoredEvent, type EventRow } from '../rows.ts';
import type { Database, Sql } from './database.ts';

// Each stream's head is moved by an upsert that keeps its row locked until the ingest transaction
// commits, so a second transaction appending to the same stream (on any node) waits, then numbers
// its entries after the first's, which by then is committed and visible: a reader that sees entry N
// can never later find an entry below N appear. Rows are taken in id order, so that two batches
// appending to the same streams never deadlock. Only subscriptions that still exist as pull ones
// get entries: their rows are share-locked until the commit, so a delete waits for the ingest (and
// then removes what it appended), and an ingest after the delete finds no row.
const MOVE_HEADS = `
WITH live AS (
  SELECT id FROM subscriptions WHERE id = ANY($1::text[]) AND pull ORDER BY id FOR KEY SHARE
)
INSERT INTO pull_streams (subscription_id, head)
SELECT batch.subscription_id, batch.added
FROM unnest($1::text[], $2::bigint[]) AS batch (subscription_id, added) JOIN live ON live.id = batch.subscription_id
ORDER BY batch.subscription_id
ON CONFLICT (subscription_id) DO UPDATE SET head = pull_streams.head + excluded.head
RETURNING subscription_id, head`;

const INSERT_ENTRIES = `
INSERT INTO pull_entries (subscription_id, seq, event_id)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])`;

const READ = `
SELECT pull_entries.seq, events.event_json, events.raw_json, events.raw_body, events.raw_content_type, events.raw_query
FROM pull_entries JOIN events ON events.id = pull_entries.event_id
WHERE pull_entries.subscription_id = $1
  AND pull_entries.seq > coalesce($2::bigint, (SELECT acked FROM pull_acks WHERE subscription_id = $1), 0)
ORDER BY pull_entries.seq
LIMIT $3`;

// Reads the head without waiting for an ingest that holds it (MVCC): an acknowledgement is never
// held up by the stream's writers.
const ACK = `
INSERT INTO pull_acks (subscription_id, acked)
SELECT subscription_id, least($2::bigint, head) FROM pull_streams WHERE subscription_id = $1
ON CONFLICT (subscription_id) DO UPDATE SET acked = greatest(pull_acks.acked, excluded.acked)`;

/** Appends the stored events of a batch to the streams of the pull subscriptions they matched, in batch order. */
export async function appendPullEntries(tx: Sql, stored: IngestItem[]): Promise<void> {
  const added = new Map<string, number>();
  for (const item of stored) for (const id of item.pulls ?? []) added.set(id, (added.get(id) ?? 0) + 1);
  if (added.size === 0) return;
  const heads = await tx.rows<{ subscription_id: string; head: number }>(MOVE_HEADS, [[...added.keys()], [...added.values()]]);
  // The first entry of this batch in each stream comes right after the head as it was.
  const next = new Map(heads.map((row) => [row.subscription_id, row.head - (added.get(row.subscription_id) ?? 0) + 1]));
  const entries: [string, number, string][] = [];
  for (const item of stored) {
    for (const id of item.pulls ?? []) {
      const seq = next.get(id);
      if (seq === undefined) continue; // deleted, or no longer a pull subscription
      next.set(id, seq + 1);
      entries.push([id, seq, item.stored.event.id]);
    }
  }
  if (entries.length === 0) return;
  await tx.run(INSERT_ENTRIES, [entries.map((e) => e[0]), entries.map((e) => e[1]), entries.map((e) => e[2])]);
}

/**
 * Forgets the streams of these subscriptions, deleted earlier in the same transaction: separate
 * statements, so that each sees what an ingest the delete waited for had appended.
 */
export async function deletePullStreams(tx: Sql, subscriptionIds: string[]): Promise<void> {
  if (subscriptionIds.length === 0) return;
  for (const table of ['pull_streams', 'pull_acks', 'pull_entries']) {
    await tx.run(`DELETE FROM ${table} WHERE subscription_id = ANY($1::text[])`, [subscriptionIds]);
  }
}

export function postgresPullStreams(db: Database): PullStreams {
  return {
    async readPull(subscriptionId, after, limit): Promise<PulledEvent[]> {
      const rows = await db.rows<EventRow & { seq: number }>(READ, [subscriptionId, after === null ? null : Number(after), limit]);
      return rows.map((row) => ({ cursor: String(row.seq), stored: toStoredEvent(row) }));
    },

    async ackPull(subscriptionId, cursor) {
      await db.run(ACK, [subscriptionId, Number(cursor)]);
    },

    async pullState(subscriptionId) {
      const row = await db.one<{ head: number | null; acked: number | null }>(
        `SELECT (SELECT head FROM pull_streams WHERE subscription_id = $1) AS head,
                (SELECT acked FROM pull_acks WHERE subscription_id = $1) AS acked`,
        [subscriptionId],
      );
      return { acked: row?.acked ? String(row.acked) : null, head: row?.head === null || row?.head === undefined ? null : String(row.head) };
    },
  };
}
