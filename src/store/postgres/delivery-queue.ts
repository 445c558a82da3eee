import type {
  AttemptRecord,
  AttemptResolution,
  AttemptToRecord,
  ClaimedDelivery,
  DeliveryQueue,
  DeliveryRecord,
  OpenDeliveryCount,
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

// One statement for a batch of attempts, so one round trip and one commit (one WAL flush) for the
// lot, and atomic: each delivery moves only if its token still holds the lease, and every attempt
// is logged either way (marked when the lease was lost). `ord` keeps the batch's order, for the
// attempts' ids and for the answer.
const RECORD_ATTEMPTS = `${WITH_NOW},
batch AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::integer[], $7::bigint[],
                       $8::integer[], $9::integer[], $10::text[], $11::text[], $12::text[])
    WITH ORDINALITY AS b(delivery_id, token, status, delay_ms, last_error, attempt, started_at, latency_ms,
                         status_code, response_body, error, lost_error, ord)
),
moved AS (
  UPDATE deliveries
  SET status = batch.status, attempts = attempts + 1, next_attempt_at = coalesce(now.ms + batch.delay_ms, next_attempt_at),
      lease_until = NULL, lease_token = NULL, last_error = batch.last_error, updated_at = now.ms
  FROM batch, now
  WHERE deliveries.id = batch.delivery_id AND deliveries.lease_token = batch.token AND deliveries.status = 'in_flight'
  RETURNING batch.ord
),
logged AS (
  INSERT INTO delivery_attempts (delivery_id, attempt, started_at, latency_ms, status_code, response_body, error)
  SELECT delivery_id, attempt, started_at, latency_ms, status_code, response_body,
         CASE WHEN ord IN (SELECT ord FROM moved) THEN error ELSE lost_error END
  FROM batch ORDER BY ord
)
SELECT ord IN (SELECT ord FROM moved) AS recorded FROM batch ORDER BY ord`;

async function recordBatch(sql: Sql, records: AttemptToRecord[]): Promise<RecordOutcome[]> {
  const columns = Array.from({ length: 12 }, (): unknown[] => []);
  for (const { leaseToken, attempt, resolution } of records) {
    const error = storableText(attempt.error);
    [
      attempt.deliveryId,
      leaseToken,
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
    ].forEach((value, column) => columns[column]!.push(value));
  }
  const rows = await sql.rows<{ recorded: boolean }>(RECORD_ATTEMPTS, columns);
  return rows.map((row) => (row.recorded ? 'recorded' : 'lease_lost'));
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
      const [outcome] = await recordBatch(db, [{ leaseToken: token, attempt, resolution }]);
      return outcome!;
    },

    async recordAttempts(records: AttemptToRecord[]): Promise<RecordOutcome[]> {
      return records.length === 0 ? [] : recordBatch(db, records);
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
        ['subscription_id = ?', query.subscriptionId],
        ['status = ?', query.status],
      ]);
      const rows = await db.rows<DeliveryRow>(
        `SELECT * FROM deliveries ${filter.sql} ORDER BY id DESC LIMIT $${filter.params.length + 1}`,
        [...filter.params, query.limit],
      );
      return rows.map(toDelivery);
    },

    async replayDeliveries(filter) {
      const conditions = where([
        ['status = ?', filter.status],
        ['subscription_id = ?', filter.subscriptionId],
        ['updated_at >= ?', filter.since],
      ]);
      const rows = await db.rows<{ id: string; subscription_id: string }>(
        `${WITH_NOW}
         UPDATE deliveries SET status = 'pending', replayed_at_attempt = attempts, next_attempt_at = now.ms, lease_until = NULL,
           lease_token = NULL, updated_at = now.ms
         FROM now
         ${conditions.sql} RETURNING id, subscription_id`,
        conditions.params,
      );
      return rows.map((row) => ({ id: row.id, subscriptionId: row.subscription_id }));
    },

    async countOpenDeliveries() {
      const rows = await db.rows<{ subscription_id: string; status: OpenDeliveryCount['status']; count: string }>(
        `SELECT subscription_id, status, count(*) AS count FROM deliveries
         WHERE status IN ('pending', 'in_flight', 'dead') GROUP BY subscription_id, status`,
      );
      // count(*) is a bigint, which the driver gives as a string.
      return rows.map((row) => ({ subscriptionId: row.subscription_id, status: row.status, count: Number(row.count) }));
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
         UPDATE deliveries SET status = 'pending', replayed_at_attempt = attempts, next_attempt_at = now.ms, lease_until = NULL, lease_token = NULL,
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

