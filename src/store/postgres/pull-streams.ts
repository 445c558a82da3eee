import type { IngestItem } from '../ports/event-log.ts';
import type { PulledEvent, PullStreams } from '../ports/pull-streams.ts';
import { toStoredEvent, type EventRow } from '../rows.ts';
import type { Database, Sql } from './database.ts';

// Each stream's head is moved by an upsert that keeps its row locked until the ingest transaction
// commits, so a second transaction appending to the same stream (on any node) waits, then numbers
// its entries after the first's, which by then is committed and visible: a reader that sees entry N
// can never later find an entry below N appear. Rows are taken in id order, so that two batches
// appending to the same streams never deadlock.
const MOVE_HEADS = `
INSERT INTO pull_streams (subscription_id, head, acked)
SELECT subscription_id, added, 0 FROM unnest($1::text[], $2::bigint[]) AS batch (subscription_id, added) ORDER BY subscription_id
ON CONFLICT (subscription_id) DO UPDATE SET head = pull_streams.head + excluded.head
RETURNING subscription_id, head`;

const INSERT_ENTRIES = `
INSERT INTO pull_entries (subscription_id, seq, event_id)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])`;

const READ = `
SELECT pull_entries.seq, events.event_json, events.raw_json, events.raw_body, events.raw_content_type, events.raw_query
FROM pull_entries JOIN events ON events.id = pull_entries.event_id
WHERE pull_entries.subscription_id = $1
  AND pull_entries.seq > coalesce($2::bigint, (SELECT acked FROM pull_streams WHERE subscription_id = $1), 0)
ORDER BY pull_entries.seq
LIMIT $3`;

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
      const seq = next.get(id) ?? 1;
      next.set(id, seq + 1);
      entries.push([id, seq, item.stored.event.id]);
    }
  }
  await tx.run(INSERT_ENTRIES, [entries.map((e) => e[0]), entries.map((e) => e[1]), entries.map((e) => e[2])]);
}

export function postgresPullStreams(db: Database): PullStreams {
  return {
    async readPull(subscriptionId, after, limit): Promise<PulledEvent[]> {
      const rows = await db.rows<EventRow & { seq: number }>(READ, [subscriptionId, after === null ? null : Number(after), limit]);
      return rows.map((row) => ({ cursor: String(row.seq), stored: toStoredEvent(row) }));
    },

    async ackPull(subscriptionId, cursor) {
      // Never past the head: a cursor from the future would otherwise skip what comes next.
      await db.run('UPDATE pull_streams SET acked = greatest(acked, least($2::bigint, head)) WHERE subscription_id = $1', [
        subscriptionId,
        Number(cursor),
      ]);
    },

    async pullState(subscriptionId) {
      const row = await db.one<{ head: number; acked: number }>('SELECT head, acked FROM pull_streams WHERE subscription_id = $1', [subscriptionId]);
      return { acked: row && row.acked > 0 ? String(row.acked) : null, head: row ? String(row.head) : null };
    },
  };
}
