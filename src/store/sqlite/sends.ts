import type { IdempotencyClaim, OutboundMessageRecord, SendLog } from '../ports/sends.ts';
import { toOutboundMessage, type OutboundMessageRow } from '../rows.ts';
import { nowMs, toJson, type SqliteConnection } from './connection.ts';

interface IdempotencyRow {
  request_hash: string;
  state: 'in_progress' | 'done';
  response_json: string | null;
  calling_since: number | null;
  created_at: number;
}

export function sqliteSendLog(sql: SqliteConnection): SendLog {
  return {
    async claimIdempotencyKey(scope, key, requestHash, abandonAfterMs): Promise<IdempotencyClaim> {
      const now = nowMs();
      const abandonedBefore = now - abandonAfterMs;
      return sql.transaction((): IdempotencyClaim => {
        const takenOver = sql.run(
          `UPDATE idempotency_keys SET created_at = ?
           WHERE scope = ? AND key = ? AND state = 'in_progress' AND request_hash = ? AND created_at < ?
             AND calling_since IS NULL`,
          now,
          scope,
          key,
          requestHash,
          abandonedBefore,
        );
        if (takenOver.changes > 0) return { state: 'new' };
        const inserted = sql.run(
          `INSERT INTO idempotency_keys (scope, key, request_hash, state, created_at)
           VALUES (?, ?, ?, 'in_progress', ?)
           ON CONFLICT (scope, key) DO NOTHING`,
          scope,
          key,
          requestHash,
          now,
        );
        if (inserted.changes > 0) return { state: 'new' };
        const row = sql.one<IdempotencyRow>(
          'SELECT request_hash, state, response_json, calling_since, created_at FROM idempotency_keys WHERE scope = ? AND key = ?',
          scope,
          key,
        );
        if (row === undefined) throw new Error(`idempotency key ${scope}/${key} vanished inside its transaction`);
        return existingClaim(row, requestHash, abandonedBefore);
      });
    },

    async markIdempotencyCalling(scope, key) {
      sql.run(`UPDATE idempotency_keys SET calling_since = ? WHERE scope = ? AND key = ? AND state = 'in_progress'`, nowMs(), scope, key);
    },

    async completeIdempotencyKey(scope, key, response) {
      sql.run(`UPDATE idempotency_keys SET state = 'done', response_json = ? WHERE scope = ? AND key = ?`, toJson(response), scope, key);
    },

    async releaseIdempotencyKey(scope, key) {
      sql.run('DELETE FROM idempotency_keys WHERE scope = ? AND key = ?', scope, key);
    },

    async insertOutboundMessage(message: OutboundMessageRecord) {
      sql.run(
        `INSERT INTO outbound_messages (id, channel, recipient, platform_message_id, reply_to_event_id, created_at)
         VALUES (@id, @channel, @to, @platformMessageId, @replyToEventId, @createdAt)`,
        message,
      );
    },

    async getOutboundMessage(id) {
      const row = sql.one<OutboundMessageRow>('SELECT * FROM outbound_messages WHERE id = ?', id);
      return row === undefined ? null : toOutboundMessage(row);
    },
  };
}

/** A claim someone else holds or finished: the same request waits or gets the answer, another body conflicts. */
export function existingClaim(
  row: Pick<IdempotencyRow, 'request_hash' | 'state' | 'response_json' | 'calling_since' | 'created_at'>,
  requestHash: string,
  abandonedBefore: number,
): IdempotencyClaim {
  if (row.request_hash !== requestHash) return { state: 'conflict' };
  if (row.state === 'in_progress') {
    return row.calling_since !== null && row.created_at < abandonedBefore ? { state: 'interrupted' } : { state: 'in_progress' };
  }
  return { state: 'done', response: JSON.parse(row.response_json ?? 'null') as unknown };
}
