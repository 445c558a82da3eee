import type { ApiKeyRecord, ConfigState, SubscriptionRecord } from '../ports/config-state.ts';
import { toJsonOrNull, toSubscription, type SubscriptionRow } from '../rows.ts';
import { ADVISORY_LOCKS, type Database, type Sql } from './database.ts';
import { deletePullStreams } from './pull-streams.ts';

// created_at is kept on update: config subscriptions are upserted at every start. $1 is the id, $2
// created_at, and $3 to $18 the columns a write changes (changedColumns).
const UPSERT_SUBSCRIPTION = `
INSERT INTO subscriptions (id, created_at, url, secrets, signing, format, channels, message_types, include_self, groups,
                           enabled, timeout_ms, retry_schedule, include_raw, source, updated_at, ordering, pull)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
ON CONFLICT (id) DO UPDATE SET
  url = EXCLUDED.url, secrets = EXCLUDED.secrets, signing = EXCLUDED.signing, format = EXCLUDED.format,
  channels = EXCLUDED.channels, message_types = EXCLUDED.message_types, include_self = EXCLUDED.include_self,
  groups = EXCLUDED.groups, enabled = EXCLUDED.enabled, timeout_ms = EXCLUDED.timeout_ms,
  retry_schedule = EXCLUDED.retry_schedule, include_raw = EXCLUDED.include_raw, ordering = EXCLUDED.ordering, pull = EXCLUDED.pull,
  source = EXCLUDED.source,
  updated_at = GREATEST(EXCLUDED.updated_at, subscriptions.updated_at + 1)
RETURNING updated_at`;

// $1 is the id, $2 the version expected, $3 to $18 as in UPSERT_SUBSCRIPTION.
const REPLACE_SUBSCRIPTION_IF = `
UPDATE subscriptions SET
  url = $3, secrets = $4, signing = $5, format = $6, channels = $7, message_types = $8, include_self = $9,
  groups = $10, enabled = $11, timeout_ms = $12, retry_schedule = $13, include_raw = $14, source = $15,
  updated_at = GREATEST($16, updated_at + 1), ordering = $17, pull = $18
WHERE id = $1 AND updated_at = $2
RETURNING updated_at`;

/**
 * Deletes subscriptions by a condition on their row, and then the streams of the pull ones among
 * them; inside a transaction. The delete waits for ingests appending to those streams (they hold
 * the subscription rows share-locked), so the statements after it see what those appended.
 */
async function deleteWhere(tx: Sql, condition: string, params: unknown[]): Promise<number> {
  const gone = (await tx.rows<{ id: string }>(`DELETE FROM subscriptions WHERE ${condition} RETURNING id`, params)).map((row) => row.id);
  await deletePullStreams(tx, gone);
  return gone.length;
}

export function postgresConfigState(db: Database): ConfigState {
  return {
    async upsertSubscription(sub) {
      return upsert(db, sub);
    },

    async replaceSubscriptionIf(sub, version) {
      const row = await db.one<{ updated_at: number }>(REPLACE_SUBSCRIPTION_IF, [sub.id, version, ...changedColumns(sub)]);
      return row?.updated_at ?? null;
    },

    async getSubscription(id) {
      const row = await db.one<SubscriptionRow>('SELECT * FROM subscriptions WHERE id = $1', [id]);
      return row === undefined ? null : toSubscription(row);
    },

    async listSubscriptions() {
      return (await db.rows<SubscriptionRow>('SELECT * FROM subscriptions ORDER BY id')).map(toSubscription);
    },

    async deleteSubscription(id, version) {
      const [condition, params] = version === undefined ? ['id = $1', [id]] : ['id = $1 AND updated_at = $2', [id, version]];
      return (await db.transaction((tx) => deleteWhere(tx, condition, params))) > 0;
    },

    async setSubscriptionEnabled(id, enabled) {
      await db.run('UPDATE subscriptions SET enabled = $1, updated_at = GREATEST($2, updated_at + 1) WHERE id = $3', [enabled, Date.now(), id]);
    },

    // The advisory lock makes syncs of nodes starting together run one after the other: two
    // interleaved ones could each delete what the other had just written.
    async syncConfig(subscriptions: SubscriptionRecord[], apiKeys: ApiKeyRecord[]) {
      const ids = subscriptions.map((sub) => sub.id);
      await db.transaction(async (tx) => {
        await tx.run('SELECT pg_advisory_xact_lock($1, $2)', [...ADVISORY_LOCKS.syncConfig]);
        const fromApi = await tx.rows<{ id: string }>(`SELECT id FROM subscriptions WHERE id = ANY($1::text[]) AND source = 'api'`, [ids]);
        const taken = ids.find((id) => fromApi.some((row) => row.id === id));
        if (taken !== undefined) {
          throw new Error(`subscription "${taken}" in the config file has the id of one created through the API`);
        }
        for (const sub of subscriptions) await upsert(tx, { ...sub, source: 'config' });
        await deleteWhere(tx, `source = 'config' AND id <> ALL ($1::text[])`, [ids]);
        await tx.run('DELETE FROM api_keys');
        await tx.run(
          `INSERT INTO api_keys (id, token_hash, channels)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
          [apiKeys.map((key) => key.id), apiKeys.map((key) => key.tokenHash), apiKeys.map((key) => JSON.stringify(key.channels))],
        );
      });
    },

    async findApiKeyByHash(tokenHash) {
      const row = await db.one<{ id: string; token_hash: string; channels: string }>(
        'SELECT id, token_hash, channels FROM api_keys WHERE token_hash = $1',
        [tokenHash],
      );
      if (row === undefined) return null;
      return { id: row.id, tokenHash: row.token_hash, channels: JSON.parse(row.channels) as string[] };
    },
    async listApiKeyHashes() {
      return (await db.rows<{ token_hash: string }>('SELECT token_hash FROM api_keys')).map((row) => row.token_hash);
    },
  };
}

async function upsert(sql: Sql, sub: SubscriptionRecord): Promise<number> {
  return ((await sql.one<{ updated_at: number }>(UPSERT_SUBSCRIPTION, [sub.id, sub.createdAt, ...changedColumns(sub)])) as { updated_at: number }).updated_at;
}

/** What a write of a subscription changes, as $3 to $18 of the statements above. */
function changedColumns(sub: SubscriptionRecord): unknown[] {
  return [
    sub.url,
    JSON.stringify(sub.secrets),
    sub.signing,
    sub.format,
    toJsonOrNull(sub.channels),
    toJsonOrNull(sub.messageTypes),
    sub.includeSelf,
    sub.groups,
    sub.enabled,
    sub.timeoutMs,
    JSON.stringify(sub.retrySchedule),
    sub.includeRaw,
    sub.source,
    sub.updatedAt,
    sub.ordering,
    sub.pull,
  ];
}
