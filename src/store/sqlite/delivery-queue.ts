import { randomBytes } from 'node:crypto';
import type {
  AttemptRecord,
  AttemptResolution,
  AttemptToRecord,
  ClaimedDelivery,
  DeliveryQueue,
  DeliveryRecord,
  OpenDeliveryCount,
  DeliveryStatus,
  RecordOutcome,
} from '../ports/delivery-queue.ts';
import { leaseLostError, oldestFirst, toAttempt, toClaimed, toDelivery, type AttemptRow, type DeliveryRow } from '../rows.ts';
import { nowMs, where, type SqliteConnection } from './connection.ts';

/** The condition under which a delivery may be claimed at `@now`: due, or its claimer's lease ran out. */
const CLAIMABLE = `((status = 'pending' AND next_attempt_at <= @now) OR (status = 'in_flight' AND lease_until < @now))
  AND (order_key IS NULL OR NOT EXISTS (
    SELECT 1 FROM deliveries AS earlier
    WHERE earlier.subscription_id = deliveries.subscription_id AND earlier.order_key = deliveries.order_key
      AND earlier.rowid < deliveries.rowid AND earlier.status IN ('pending', 'in_flight')))`;

/**
 * Open deliveries by subscription and status, for the /metrics gauges, read from the partial index of
 * migration 9 alone. INDEXED BY because without ANALYZE statistics (imgate runs none) the planner
 * prefers the (status, next_attempt_at) index and then reads every open row from the table.
 */
export const OPEN_DELIVERY_COUNTS = `SELECT subscription_id AS subscriptionId, status, count(*) AS count
  FROM deliveries INDEXED BY deliveries_open_by_subscription
  WHERE status IN ('pending', 'in_flight', 'dead') GROUP BY subscription_id, status`;

export function sqliteDeliveryQueue(sql: SqliteConnection): DeliveryQueue {
  return {
    // One statement per id: an `id IN (…)` list lets the planner scan every pending row instead.
    async claimDeliveries(ids: string[], leaseMs: number): Promise<ClaimedDelivery[]> {
      const now = nowMs();
      const rows = sql.transaction(() =>
        ids.flatMap((id) =>
          sql.many<DeliveryRow>(
            `UPDATE deliveries SET status = 'in_flight', lease_until = @leaseUntil, lease_token = @token, updated_at = @now
             WHERE id = @id AND ${CLAIMABLE}
             RETURNING *`,
            { id, now, leaseUntil: now + leaseMs, token: leaseToken() },
          ),
        ),
      );
      return rows.map(toClaimed).sort(oldestFirst);
    },

    async listDueDeliveries(limit: number, skipSubscriptions: string[]) {
      return sql.many<{ id: string; subscriptionId: string }>(
        `SELECT id, subscription_id AS subscriptionId FROM deliveries
         WHERE ${CLAIMABLE} AND subscription_id NOT IN (SELECT value FROM json_each(@skip))
         ORDER BY next_attempt_at, id
         LIMIT @limit`,
        { now: nowMs(), limit, skip: JSON.stringify(skipSubscriptions) },
      );
    },

    async recordAttempt(token: string, attempt: AttemptRecord, resolution: AttemptResolution): Promise<RecordOutcome> {
      const now = nowMs();
      return sql.transaction(() => recordOne(sql, { leaseToken: token, attempt, resolution }, now));
    },

    async recordAttempts(records: AttemptToRecord[]): Promise<RecordOutcome[]> {
      const now = nowMs();
      return sql.transaction(() => records.map((record) => recordOne(sql, record, now)));
    },

    async getDelivery(id: string): Promise<DeliveryRecord | null> {
      const row = sql.one<DeliveryRow>('SELECT * FROM deliveries WHERE id = ?', id);
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
      const rows = sql.many<DeliveryRow>(`SELECT * FROM deliveries ${filter.sql} ORDER BY id DESC LIMIT ?`, ...filter.params, query.limit);
      return rows.map(toDelivery);
    },

    async replayDeliveries(filter) {
      const now = nowMs();
      const conditions = where([
        ['status = ?', filter.status],
        ['subscription_id = ?', filter.subscriptionId],
        ['updated_at >= ?', filter.since],
      ]);
      return sql.many<{ id: string; subscriptionId: string }>(
        `UPDATE deliveries SET status = 'pending', replayed_at_attempt = attempts, next_attempt_at = ?, lease_until = NULL,
           lease_token = NULL, updated_at = ?
         ${conditions.sql} RETURNING id, subscription_id AS subscriptionId`,
        now,
        now,
        ...conditions.params,
      );
    },

    async countOpenDeliveries() {
      return sql.many<OpenDeliveryCount>(OPEN_DELIVERY_COUNTS);
    },

    async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
      const rows = sql.many<AttemptRow>(
        `SELECT delivery_id, attempt, started_at, latency_ms, status_code, response_body, error
         FROM delivery_attempts WHERE delivery_id = ? ORDER BY id`,
        deliveryId,
      );
      return rows.map(toAttempt);
    },

    async replayDelivery(id: string) {
      const now = nowMs();
      const updated = sql.run(
        `UPDATE deliveries SET status = 'pending', replayed_at_attempt = attempts, next_attempt_at = @now, lease_until = NULL, lease_token = NULL,
           updated_at = @now
         WHERE id = @id AND status <> 'in_flight'`,
        { id, now },
      );
      if (updated.changes > 0) return 'replayed';
      return sql.one<{ id: string }>('SELECT id FROM deliveries WHERE id = ?', id) ? 'in_flight' : 'not_found';
    },
  };
}

/** The attempt and the delivery's new state, if the token still holds the delivery (inside a transaction). */
function recordOne(sql: SqliteConnection, { leaseToken: token, attempt, resolution }: AttemptToRecord, now: number): RecordOutcome {
  const updated = sql.run(
    `UPDATE deliveries SET status = @status, attempts = attempts + 1,
       next_attempt_at = coalesce(@nextAttemptAt, next_attempt_at), lease_until = NULL, lease_token = NULL,
       last_error = @lastError, updated_at = @now
     WHERE id = @id AND lease_token = @token AND status = 'in_flight'`,
    { id: attempt.deliveryId, token, now, ...resolutionColumns(resolution, now) },
  );
  const outcome: RecordOutcome = updated.changes > 0 ? 'recorded' : 'lease_lost';
  sql.run(
    `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, latency_ms, status_code, response_body, error)
     VALUES (@deliveryId, @attempt, @startedAt, @latencyMs, @statusCode, @responseBody, @error)`,
    outcome === 'recorded' ? attempt : { ...attempt, error: leaseLostError(attempt.error) },
  );
  return outcome;
}

/** A claim's proof: unguessable, so that only its claimer can record the attempt. */
export function leaseToken(): string {
  return randomBytes(12).toString('base64url');
}

function resolutionColumns(
  resolution: AttemptResolution,
  now: number,
): { status: DeliveryStatus; nextAttemptAt: number | null; lastError: string | null } {
  switch (resolution.status) {
    case 'succeeded':
      return { status: 'succeeded', nextAttemptAt: null, lastError: null };
    case 'pending':
      return { status: 'pending', nextAttemptAt: now + resolution.delayMs, lastError: resolution.error };
    case 'dead':
      return { status: 'dead', nextAttemptAt: null, lastError: resolution.error };
  }
}
