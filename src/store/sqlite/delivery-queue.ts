import { randomBytes } from 'node:crypto';
import type {
  AttemptRecord,
  AttemptResolution,
  ClaimedDelivery,
  DeliveryQueue,
  DeliveryRecord,
  DeliveryStatus,
  RecordOutcome,
} from '../ports/delivery-queue.ts';
import { nowMs, where, type SqliteConnection } from './connection.ts';

interface DeliveryRow {
  id: string;
  event_id: string;
  subscription_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  lease_token: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: number;
  latency_ms: number;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
}

/** The condition under which a delivery may be claimed at `@now`: due, or its claimer's lease ran out. */
const CLAIMABLE = `((status = 'pending' AND next_attempt_at <= @now) OR (status = 'in_flight' AND lease_until < @now))`;

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
      return sql.transaction(() => {
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
      });
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
        ['status = ?', query.status],
      ]);
      const rows = sql.many<DeliveryRow>(`SELECT * FROM deliveries ${filter.sql} ORDER BY id DESC LIMIT ?`, ...filter.params, query.limit);
      return rows.map(toDelivery);
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
        `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = @now, lease_until = NULL, lease_token = NULL,
           updated_at = @now
         WHERE id = @id AND status <> 'in_flight'`,
        { id, now },
      );
      if (updated.changes > 0) return 'replayed';
      return sql.one<{ id: string }>('SELECT id FROM deliveries WHERE id = ?', id) ? 'in_flight' : 'not_found';
    },
  };
}

/** A claim's proof: unguessable, so that only its claimer can record the attempt. */
export function leaseToken(): string {
  return randomBytes(12).toString('base64url');
}

/** What an attempt recorded after its lease was taken over says, so the log shows why it changed nothing. */
export function leaseLostError(error: string | null): string {
  return `lease lost: ${error ?? 'recorded after another worker took the delivery over'}`;
}

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    eventId: row.event_id,
    subscriptionId: row.subscription_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toClaimed(row: DeliveryRow): ClaimedDelivery {
  return { ...toDelivery(row), leaseToken: row.lease_token as string };
}

function oldestFirst(a: DeliveryRecord, b: DeliveryRecord): number {
  return a.nextAttemptAt - b.nextAttemptAt || (a.id < b.id ? -1 : 1);
}

function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    startedAt: row.started_at,
    latencyMs: row.latency_ms,
    statusCode: row.status_code,
    responseBody: row.response_body,
    error: row.error,
  };
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
