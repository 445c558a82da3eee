import type { PurgeResult, Retention } from '../ports/retention.ts';
import type { Database, Sql } from './database.ts';

/** Old events deleted per purge transaction. */
const PURGE_CHUNK = 1000;

// SKIP LOCKED: events another node is purging at this moment are left to it.
const PICK_OLD_EVENTS = `
SELECT id FROM events
WHERE received_at < $1 AND NOT EXISTS (
  SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id AND deliveries.status IN ('pending', 'in_flight'))
LIMIT $2
FOR UPDATE SKIP LOCKED`;

// The rows' latest versions, locked: a replay that committed after the pick above shows here, and
// one that comes later waits until the delivery is gone.
const LOCK_DELIVERIES = `
SELECT event_id, status FROM deliveries WHERE event_id = ANY($1::text[]) FOR UPDATE`;

// One statement: foreign keys are checked at its end, after all three deletes.
const DELETE_EVENTS = `
WITH gone_attempts AS (
  DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ANY($1::text[])) RETURNING 1
), gone_deliveries AS (
  DELETE FROM deliveries WHERE event_id = ANY($1::text[]) RETURNING 1
), gone_pull_entries AS (
  DELETE FROM pull_entries WHERE event_id = ANY($1::text[])
), gone_events AS (
  DELETE FROM events WHERE id = ANY($1::text[]) RETURNING 1
)
SELECT (SELECT count(*) FROM gone_events) AS events,
       (SELECT count(*) FROM gone_deliveries) AS deliveries,
       (SELECT count(*) FROM gone_attempts) AS attempts`;

const DELETE_SENDS_AND_COUNTERS = `
WITH idempotency AS (
  DELETE FROM idempotency_keys WHERE created_at < $1 RETURNING 1
), outbound AS (
  DELETE FROM outbound_messages WHERE created_at < $1 RETURNING 1
), counters AS (
  DELETE FROM counters WHERE updated_at < $1 RETURNING 1
)
SELECT (SELECT count(*) FROM idempotency) AS idempotency,
       (SELECT count(*) FROM outbound) AS outbound,
       (SELECT count(*) FROM counters) AS counters`;

type EventCounts = Pick<PurgeResult, 'events' | 'deliveries' | 'attempts'>;

export function postgresRetention(db: Database): Retention {
  return {
    async purgeOlderThan(cutoff) {
      const total: PurgeResult = { events: 0, deliveries: 0, attempts: 0, idempotency: 0, outbound: 0, counters: 0 };
      // Events go in chunks, each its own short transaction, so that a long backlog (the first purge
      // after a long stop) never holds locks for long.
      for (;;) {
        const { picked, counts } = await db.transaction((tx) => purgeEventChunk(tx, cutoff));
        total.events += counts.events;
        total.deliveries += counts.deliveries;
        total.attempts += counts.attempts;
        // A chunk that deleted nothing (every event picked was replayed meanwhile) ends the run too.
        if (picked < PURGE_CHUNK || counts.events === 0) break;
      }
      const rest = await db.one<Pick<PurgeResult, 'idempotency' | 'outbound' | 'counters'>>(DELETE_SENDS_AND_COUNTERS, [cutoff]);
      return { ...total, ...rest };
    },
  };
}

/**
 * Up to PURGE_CHUNK old events with their deliveries, attempts and pull entries. An event with a delivery still
 * pending or in flight stays, however old, until that delivery succeeds or is dead-lettered: a long
 * retry schedule (or a subscriber's Retry-After) can outlast the retention.
 */
async function purgeEventChunk(tx: Sql, cutoff: number): Promise<{ picked: number; counts: EventCounts }> {
  const picked = (await tx.rows<{ id: string }>(PICK_OLD_EVENTS, [cutoff, PURGE_CHUNK])).map((row) => row.id);
  if (picked.length === 0) return { picked: 0, counts: { events: 0, deliveries: 0, attempts: 0 } };
  const deliveries = await tx.rows<{ event_id: string; status: string }>(LOCK_DELIVERIES, [picked]);
  const active = new Set(deliveries.filter((d) => d.status === 'pending' || d.status === 'in_flight').map((d) => d.event_id));
  const doomed = picked.filter((id) => !active.has(id));
  const counts = await tx.one<EventCounts>(DELETE_EVENTS, [doomed]);
  return { picked: picked.length, counts: counts ?? { events: 0, deliveries: 0, attempts: 0 } };
}
