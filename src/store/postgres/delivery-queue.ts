import type {
  AttemptRecord,
  AttemptResolution,
  AttemptToRecord,
  ClaimedDelivery,
  DeliveryQueue,
  DeliveryRecord,
  RecordOutcome,
} from '../ports/delivery-queue.ts';
import { leaseLostError, oldestFirst, toAttempt, toClaimed, toDelivery, type AttemptRow, type DeliveryRow } from '../rows.ts';
import { storableText, where, WITH_NOW, type Database, type Sql } from './database.ts';

/** A delivery that may be claimed at `now.ms`: due, or its claimer's lease ran out (it died). */
const CLAIMABLE = `((status = 'pending' AND next_attempt_at <= now.ms) OR (status = 'in_flight' AND lease_until < now.ms))
  AND (order_key IS NULL OR NOT EXISTS (
    SELECT 1 FROM deliveries AS earlier
    WHERE earlier.subscription_id = deliveries.subscription_id AND earlier.order_key = deliveries.order_key
      AND earlier.seq < deliveries.seq AND earlier.status IN ('pending', 'in_flight')))`;

// SKIP LOCKED: a claimer passes over rows another is claiming at this moment instead of waiting
// for it, and the other's commit then makes them unclaimable anyway. The lock is taken before the
// condition is checked again on the row's latest version, so two claimers never both get one.
const CLAIM = `${WITH_NOW},
claimable AS (
  SELECT id FROM deliveries, now
  WHERE id = ANY($1::text[]) AND ${CLAIMABLE}
  FOR UPDATE OF deliveries SKIP LOCKED
)
UPDATE deliveries
SET status = 'in_flight', lease_until = now.ms + $2, lease_token = gen_random_uuid()::text, updated_at = now.ms
FROM claimable, now
WHERE deliveries.id = claimable.id
RETURNING deliveries.*`;

// One statement, so atomic: the delivery moves only if the token still holds its lease, and the
// attempt is logged either way (marked when the lease was lost).
const RECORD_ATTEMPT = `${WITH_NOW},
moved AS (
  UPDATE deliveries
  SET status = $3, attempts = attempts + 1, next_attempt_at = coalesce(now.ms + $4::bigint, next_attempt_at),
      lease_until = NULL, lease_token = NULL, last_error = $5, updated_at = now.ms
  FROM now
  WHERE id = $1 AND lease_token = $2 AND status = 'in_flight'
  RETURNING id
)
INSERT INTO delivery_attempts (delivery_id, attempt, started_at, latency_ms, status_code, response_body, error)
SELECT $1::text, $6::integer, $7::bigint, $8::integer, $9::integer, $10::text,
       CASE WHEN EXISTS (SELECT 1 FROM moved) THEN $11::text ELSE $12::text END
RETURNING EXISTS (SELECT 1 FROM moved) AS recorded`;

async function recordOne(sql: Sql, { leaseToken: token, attempt, resolution }: AttemptToRecord): Promise<RecordOutcome> {
  const error = storableText(attempt.error);
  const row = await sql.one<{ recorded: boolean }>(RECORD_ATTEMPT, [
    attempt.deliveryId,
    token,
    resolution.status,
    resolution.status === 'pending' ? resolution.delayMs : null,
    resolution.status === 'succeeded' ? null : storableText(resolution.error),
    attempt.attempt,
    attempt.startedAt,
    attempt.latencyMs,
    attempt.statusCode,
    storableText(attempt.responseBody),
    error,
    leaseLostError(error),
  ]);
  return row?.recorded === true ? 'recorded' : 'lease_lost';
}

export function postgresDeliveryQueue(db: Database): DeliveryQueue {
  return {
    async claimDeliveries(ids: string[], leaseMs: number): Promise<ClaimedDelivery[]> {
      if (ids.length === 0) return [];
      const rows = await db.rows<DeliveryRow>(CLAIM, [ids, leaseMs]);
      return rows.map(toClaimed).sort(oldestFirst);
    },

    async listDueDeliveries(limit: number, skipSubscriptions: string[]) {
      return db.rows<{ id: string; subscriptionId: string }>(
        `${WITH_NOW}
         SELECT id, subscription_id AS "subscriptionId" FROM deliveries, now
         WHERE ${CLAIMABLE} AND subscription_id <> ALL ($2::text[])
         ORDER BY next_attempt_at, id
         LIMIT $1`,
        [limit, skipSubscriptions],
      );
    },

    async recordAttempt(token: string, attempt: AttemptRecord, resolution: AttemptResolution): Promise<RecordOutcome> {
      return recordOne(db, { leaseToken: token, attempt, resolution });
    },

    // One transaction, so one commit (one WAL flush) for the lot.
    async recordAttempts(records: AttemptToRecord[]): Promise<RecordOutcome[]> {
      if (records.length === 0) return [];
      return db.transaction(async (tx) => {
        const outcomes: RecordOutcome[] = [];
        for (const record of records) outcomes.push(await recordOne(tx, record));
        return outcomes;
      });
    },

    async getDelivery(id: string): Promise<DeliveryRecord | null> {
      const row = await db.one<DeliveryRow>('SELECT * FROM deliveries WHERE id = $1', [id]);
      return row === undefined ? null : toDelivery(row);
    },

    async listDeliveries(query) {
      const filter = where([
        ['id < ?', query.before],
        ['event_id IN (SELECT id FROM events WHERE channel = ?)', query.channel],
        ['event_id = ?', query.eventId],
        ['status = ?', query.status],
      ]);
      const rows = await db.rows<DeliveryRow>(
        `SELECT * FROM deliveries ${filter.sql} ORDER BY id DESC LIMIT $${filter.params.length + 1}`,
        [...filter.params, query.limit],
      );
      return rows.map(toDelivery);
    },

    async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
      const rows = await db.rows<AttemptRow>(
        `SELECT delivery_id, attempt, started_at, latency_ms, status_code, response_body, error
         FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id`,
        [deliveryId],
      );
      return rows.map(toAttempt);
    },

    async replayDelivery(id: string) {
      const updated = await db.run(
        `${WITH_NOW}
         UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now.ms, lease_until = NULL, lease_token = NULL,
           updated_at = now.ms
         FROM now
         WHERE id = $1 AND status <> 'in_flight'`,
        [id],
      );
      if (updated > 0) return 'replayed';
      const exists = await db.one('SELECT 1 FROM deliveries WHERE id = $1', [id]);
      return exists === undefined ? 'not_found' : 'in_flight';
    },
  };
}

