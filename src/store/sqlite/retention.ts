import type { PurgeResult, Retention } from '../ports/retention.ts';
import type { SqliteConnection } from './connection.ts';

/** Old events deleted per purge transaction. */
const PURGE_CHUNK = 1000;

export function sqliteRetention(sql: SqliteConnection): Retention {
  /**
   * Up to PURGE_CHUNK old events with their deliveries, attempts and pull entries. An event with a delivery still
   * pending or in flight stays, however old, until that delivery succeeds or is dead-lettered: a
   * long retry schedule (or a subscriber's Retry-After) can outlast the retention.
   */
  const purgeEventChunk = (cutoff: number): Pick<PurgeResult, 'events' | 'deliveries' | 'attempts'> => {
    const ids = sql.many<{ id: string }>(
      `SELECT id FROM events WHERE received_at < ? AND NOT EXISTS (
         SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id AND deliveries.status IN ('pending', 'in_flight'))
       LIMIT ?`,
      cutoff,
      PURGE_CHUNK,
    );
    if (ids.length === 0) return { events: 0, deliveries: 0, attempts: 0 };
    const list = JSON.stringify(ids.map((row) => row.id));
    const attempts = sql.run(
      `DELETE FROM delivery_attempts WHERE delivery_id IN (
         SELECT id FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?)))`,
      list,
    ).changes;
    const deliveries = sql.run('DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?))', list).changes;
    sql.run('DELETE FROM pull_entries WHERE event_id IN (SELECT value FROM json_each(?))', list);
    const events = sql.run('DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))', list).changes;
    return { events, deliveries, attempts };
  };

  return {
    async purgeOlderThan(cutoff) {
      const total: PurgeResult = { events: 0, deliveries: 0, attempts: 0, idempotency: 0, outbound: 0, counters: 0 };
      // Events go in chunks, each its own transaction, with the event loop let go in between: a
      // single transaction over a long backlog (the first purge after a long stop) held up every
      // callback for seconds.
      for (;;) {
        const chunk = sql.transaction(() => purgeEventChunk(cutoff));
        total.events += chunk.events;
        total.deliveries += chunk.deliveries;
        total.attempts += chunk.attempts;
        if (chunk.events < PURGE_CHUNK) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      sql.transaction(() => {
        total.idempotency = sql.run('DELETE FROM idempotency_keys WHERE created_at < ?', cutoff).changes;
        total.outbound = sql.run('DELETE FROM outbound_messages WHERE created_at < ?', cutoff).changes;
        total.counters = sql.run('DELETE FROM counters WHERE updated_at < ?', cutoff).changes;
      });
      return total;
    },
  };
}
