import type { IngestItem } from '../ports/event-log.ts';
import type { PulledEvent, PullStreams } from '../ports/pull-streams.ts';
import { toStoredEvent, type EventRow } from '../rows.ts';
import type { SqliteConnection } from './connection.ts';

/**
 * Appends a stored event to the streams of the pull subscriptions it matched; called inside the
 * ingest transaction, whose write lock (one writer at a time, whichever process) keeps the
 * numbers in commit order.
 */
export function appendPullEntries(sql: SqliteConnection, item: IngestItem): void {
  for (const subscriptionId of item.pulls ?? []) {
    const stream = sql.one<{ head: number }>(
      `INSERT INTO pull_streams (subscription_id, head, acked) VALUES (?, 1, 0)
       ON CONFLICT (subscription_id) DO UPDATE SET head = head + 1
       RETURNING head`,
      subscriptionId,
    );
    sql.run('INSERT INTO pull_entries (subscription_id, seq, event_id) VALUES (?, ?, ?)', subscriptionId, stream?.head, item.stored.event.id);
  }
}

export function sqlitePullStreams(sql: SqliteConnection): PullStreams {
  const state = (subscriptionId: string) =>
    sql.one<{ head: number; acked: number }>('SELECT head, acked FROM pull_streams WHERE subscription_id = ?', subscriptionId);

  return {
    async readPull(subscriptionId, after, limit): Promise<PulledEvent[]> {
      const from = after === null ? (state(subscriptionId)?.acked ?? 0) : Number(after);
      const rows = sql.many<EventRow & { seq: number }>(
        `SELECT pull_entries.seq, events.event_json, events.raw_json, events.raw_body, events.raw_content_type, events.raw_query
         FROM pull_entries JOIN events ON events.id = pull_entries.event_id
         WHERE pull_entries.subscription_id = ? AND pull_entries.seq > ?
         ORDER BY pull_entries.seq LIMIT ?`,
        subscriptionId,
        from,
        limit,
      );
      return rows.map((row) => ({ cursor: String(row.seq), stored: toStoredEvent(row) }));
    },

    async ackPull(subscriptionId, cursor) {
      // Never past the head: a cursor from the future would otherwise skip what comes next.
      sql.run('UPDATE pull_streams SET acked = max(acked, min(?, head)) WHERE subscription_id = ?', Number(cursor), subscriptionId);
    },

    async pullState(subscriptionId) {
      const row = state(subscriptionId);
      return { acked: row && row.acked > 0 ? String(row.acked) : null, head: row ? String(row.head) : null };
    },
  };
}
