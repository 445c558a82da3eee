import type { IdempotencyClaim, OutboundMessageRecord, SendLog } from '../ports/sends.ts';
import { toOutboundMessage, type OutboundMessageRow } from '../rows.ts';
import { DB_NOW, toJson, type Database, type Sql } from './database.ts';

interface IdempotencyRow {
  request_hash: string;
  state: 'in_progress' | 'done';
  response_json: string | null;
  calling_since: number | null;
  created_at: number;
  /** The database's time as the row was locked. */
  now: number;
}

/**
 * How often a claim retries when the key it found taken is released before it could be read; one
 * retry is almost always enough, the bound only keeps a pathological release loop from spinning.
 */
const CLAIM_TRIES = 5;

export function postgresSendLog(db: Database): SendLog {
  return {
    async claimIdempotencyKey(scope, key, requestHash, abandonAfterMs): Promise<IdempotencyClaim> {
      for (let tries = 0; tries < CLAIM_TRIES; tries++) {
        const claim = await db.transaction((tx) => claimOnce(tx, scope, key, requestHash, abandonAfterMs));
        if (claim !== 'released') return claim;
      }
      throw new Error(`idempotency key ${scope}/${key} was released ${CLAIM_TRIES} times while being claimed`);
    },

    async markIdempotencyCalling(scope, key) {
      await db.run(
        `UPDATE idempotency_keys SET calling_since = ${DB_NOW} WHERE scope = $1 AND key = $2 AND state = 'in_progress'`,
        [scope, key],
      );
    },

    async completeIdempotencyKey(scope, key, response) {
      await db.run(`UPDATE idempotency_keys SET state = 'done', response_json = $1 WHERE scope = $2 AND key = $3`, [
        toJson(response),
        scope,
        key,
      ]);
    },

    async releaseIdempotencyKey(scope, key) {
      await db.run('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
    },

    async insertOutboundMessage(message: OutboundMessageRecord) {
      await db.run(
        `INSERT INTO outbound_messages (id, channel, recipient, platform_message_id, reply_to_event_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [message.id, message.channel, message.to, message.platformMessageId, message.replyToEventId, message.createdAt],
      );
    },

    async getOutboundMessage(id) {
      const row = await db.one<OutboundMessageRow>('SELECT * FROM outbound_messages WHERE id = $1', [id]);
      return row === undefined ? null : toOutboundMessage(row);
    },
  };
}

/**
 * The insert settles a race for a new key: of two concurrent ones, the second waits for the first
 * to commit and then inserts nothing. A key that exists is read under its row lock, so that of two
 * claims taking over an abandoned key only the first sees it abandoned. `released`: the key was
 * deleted between the insert and the read; the caller tries again.
 */
async function claimOnce(
  tx: Sql,
  scope: string,
  key: string,
  requestHash: string,
  abandonAfterMs: number,
): Promise<IdempotencyClaim | 'released'> {
  const inserted = await tx.run(
    `INSERT INTO idempotency_keys (scope, key, request_hash, state, created_at)
     VALUES ($1, $2, $3, 'in_progress', ${DB_NOW})
     ON CONFLICT (scope, key) DO NOTHING`,
    [scope, key, requestHash],
  );
  if (inserted > 0) return { state: 'new' };
  const row = await tx.one<IdempotencyRow>(
    `SELECT request_hash, state, response_json, calling_since, created_at, ${DB_NOW} AS now
     FROM idempotency_keys WHERE scope = $1 AND key = $2
     FOR UPDATE`,
    [scope, key],
  );
  if (row === undefined) return 'released';
  if (row.request_hash !== requestHash) return { state: 'conflict' };
  if (row.state === 'done') return { state: 'done', response: JSON.parse(row.response_json ?? 'null') as unknown };
  const abandoned = row.created_at < row.now - abandonAfterMs;
  if (!abandoned) return { state: 'in_progress' };
  // A send that died after it began calling its platform may have sent the message: never again.
  if (row.calling_since !== null) return { state: 'interrupted' };
  await tx.run('UPDATE idempotency_keys SET created_at = $3 WHERE scope = $1 AND key = $2', [scope, key, row.now]);
  return { state: 'new' };
}
