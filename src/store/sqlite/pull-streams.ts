import type { IngestItem } from '../ports/event-log.ts';
import type { PulledEvent, PullStreams } from '../ports/pull-streams.ts';
import { toStoredEvent, type EventRow } from '../rows.ts';
import type { SqliteConnection } from './connection.ts';

/**
 * Appends a stored event to the streams of the pull subscriptions it matched that still exist (a
 * subscription deleted a moment ago gets nothing); called inside the ingest transaction, whose
 * write lock (one writer at a time, whichever process) keeps the numbers in commit order.
 */
export function appendPullEntries(sql: SqliteConnection, item: IngestItem): void {
  for (const subscriptionId of item.pulls ?? []) {
    if (sql.one('SELECT 1 FROM subscriptions WHERE id = ? AND pull = 1', subscriptionId) === undefined) continue;
    const stream = sql.one<{ head: number }>(
      `INSERT INTO pull_streams (subscription_id, head) VALUES (?, 1)
       ON CONFLICT (subscription_id) DO UPDATE SET head = head + 1
       RETURNING head`,
      subscriptionId,
    );
    sql.run('INSERT INTO pull_entries (subscription_id, seq, event_id) VALUES (?, ?, ?)', subscriptionId, stream?.head, item.stored.event.id);
  }
}

/** Forgets the streams of these (deleted) subscriptions; inside the transaction that deleted them. */
export function deletePullStreams(sql: SqliteConnection, subscriptionIds: string[]): void {
  for (const table of ['pull_entries', 'pull_streams', 'pull_acks']) {
    sql.run(`DELETE FROM ${table} WHERE subscription_id IN (SELECT value FROM json_each(?))`, JSON.stringify(subscriptionIds));
  }
}

export function sqlitePullStreams(sql: SqliteConnection): PullStreams {
  const acked = (subscriptionId: string) => sql.one<{ acked: number }>('SELECT acked FROM pull_acks WHERE subscription_id = ?', subscriptionId)?.acked;

  return {
    async readPull(subscriptionId, after, limit): Promise<PulledEvent[]> {
      const rows = sql.many<EventRow & { seq: number }>(
        `SELECT pull_entries.seq, events.event_json, events.raw_json, events.raw_body, events.raw_content_type, events.raw_query
         FROM pull_entries JOIN events ON events.id = pull_entries.event_id
         WHERE pull_entries.subscription_id = ? AND pull_entries.seq > ?
         ORDER BY pull_entries.seq LIMIT ?`,
        subscriptionId,
        after === null ? (acked(subscriptionId) ?? 0) : Number(after),
        limit,
      );
      return rows.map((row) => ({ cursor: String(row.seq), stored: toStoredEvent(row) }));
    },

    async ackPull(subscriptionId, cursor) {
      // Never past the head: a cursor from the future would otherwise skip what comes next.
      sql.run(
        `INSERT INTO pull_acks (subscription_id, acked)
         SELECT subscription_id, min(?, head) FROM pull_streams WHERE subscription_id = ?
         ON CONFLICT (subscription_id) DO UPDATE SET acked = max(acked, excluded.acked)`,
        Number(cursor),
        subscriptionId,
      );
    },

    async pullState(subscriptionId) {
      const head = sql.one<{ head: number }>('SELECT head FROM pull_streams WHERE subscription_id = ?', subscriptionId)?.head;
      const last = acked(subscriptionId);
      return { acked: last ? String(last) : null, head: head === undefined ? null : String(head) };
    },
  };
}
