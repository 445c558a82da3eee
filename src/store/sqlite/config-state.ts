import type { ApiKeyRecord, ConfigState, SubscriptionRecord } from '../ports/config-state.ts';
import { toJsonOrNull, toSubscription, type SubscriptionRow } from '../rows.ts';
import { nowMs, type SqliteConnection } from './connection.ts';
import { deletePullStreams } from './pull-streams.ts';

export function sqliteConfigState(sql: SqliteConnection): ConfigState {
  // created_at is kept on update: config subscriptions are upserted at every start.
  const upsert = (sub: SubscriptionRecord): number =>
    (sql.one<{ updated_at: number }>(
      `INSERT INTO subscriptions (id, url, secrets, signing, format, channels, message_types, include_self, groups,
                                  enabled, timeout_ms, retry_schedule, include_raw, ordering, pull, source, created_at, updated_at)
       VALUES (@id, @url, @secrets, @signing, @format, @channels, @messageTypes, @includeSelf, @groups,
               @enabled, @timeoutMs, @retrySchedule, @includeRaw, @ordering, @pull, @source, @createdAt, @updatedAt)
       ON CONFLICT (id) DO UPDATE SET
         url = excluded.url, secrets = excluded.secrets, signing = excluded.signing, format = excluded.format,
         channels = excluded.channels, message_types = excluded.message_types, include_self = excluded.include_self,
         groups = excluded.groups, enabled = excluded.enabled, timeout_ms = excluded.timeout_ms,
         retry_schedule = excluded.retry_schedule, include_raw = excluded.include_raw, ordering = excluded.ordering,
         pull = excluded.pull, source = excluded.source,
         updated_at = max(excluded.updated_at, subscriptions.updated_at + 1)
       RETURNING updated_at`,
      subscriptionParams(sub),
    ) as { updated_at: number }).updated_at;

  /** Deletes subscriptions by a condition on their row, and the streams of the pull ones among them. */
  const deleteWhere = (condition: string, ...params: unknown[]): number => {
    const gone = sql.many<{ id: string }>(`DELETE FROM subscriptions WHERE ${condition} RETURNING id`, ...params).map((row) => row.id);
    deletePullStreams(sql, gone);
    return gone.length;
  };

  return {
    async upsertSubscription(sub) {
      return upsert(sub);
    },

    async replaceSubscriptionIf(sub, version) {
      const row = sql.one<{ updated_at: number }>(
        `UPDATE subscriptions SET
           url = @url, secrets = @secrets, signing = @signing, format = @format, channels = @channels,
           message_types = @messageTypes, include_self = @includeSelf, groups = @groups, enabled = @enabled,
           timeout_ms = @timeoutMs, retry_schedule = @retrySchedule, include_raw = @includeRaw, ordering = @ordering,
           pull = @pull, source = @source, updated_at = max(@updatedAt, updated_at + 1)
         WHERE id = @id AND updated_at = @version
         RETURNING updated_at`,
        { ...subscriptionParams(sub), version },
      );
      return row?.updated_at ?? null;
    },

    async getSubscription(id) {
      const row = sql.one<SubscriptionRow>('SELECT * FROM subscriptions WHERE id = ?', id);
      return row === undefined ? null : toSubscription(row);
    },

    async listSubscriptions() {
      return sql.many<SubscriptionRow>('SELECT * FROM subscriptions ORDER BY id').map(toSubscription);
    },

    async deleteSubscription(id, version) {
      return sql.transaction(() => (version === undefined ? deleteWhere('id = ?', id) : deleteWhere('id = ? AND updated_at = ?', id, version))) > 0;
    },

    async setSubscriptionEnabled(id, enabled) {
      sql.run('UPDATE subscriptions SET enabled = ?, updated_at = max(?, updated_at + 1) WHERE id = ?', Number(enabled), nowMs(), id);
    },

    async syncConfig(subscriptions: SubscriptionRecord[], apiKeys: ApiKeyRecord[]) {
      sql.transaction(() => {
        for (const sub of subscriptions) {
          const existing = sql.one<{ source: string }>('SELECT source FROM subscriptions WHERE id = ?', sub.id);
          if (existing?.source === 'api') {
            throw new Error(`subscription "${sub.id}" in the config file has the id of one created through the API`);
          }
          upsert({ ...sub, source: 'config' });
        }
        deleteWhere(`source = 'config' AND id NOT IN (SELECT value FROM json_each(?))`, JSON.stringify(subscriptions.map((sub) => sub.id)));
        sql.run('DELETE FROM api_keys');
        for (const key of apiKeys) {
          sql.run('INSERT INTO api_keys (id, token_hash, channels) VALUES (?, ?, ?)', key.id, key.tokenHash, JSON.stringify(key.channels));
        }
      });
    },

    async findApiKeyByHash(tokenHash) {
      const row = sql.one<{ id: string; token_hash: string; channels: string }>(
        'SELECT id, token_hash, channels FROM api_keys WHERE token_hash = ?',
        tokenHash,
      );
      if (row === undefined) return null;
      return { id: row.id, tokenHash: row.token_hash, channels: JSON.parse(row.channels) as string[] };
    },
    async listApiKeyHashes() {
      return sql.many<{ token_hash: string }>('SELECT token_hash FROM api_keys').map((row) => row.token_hash);
    },
  };
}


/** A subscription as the named parameters of the statements above. */
function subscriptionParams(sub: SubscriptionRecord): Record<string, unknown> {
  return {
    ...sub,
    secrets: JSON.stringify(sub.secrets),
    channels: toJsonOrNull(sub.channels),
    messageTypes: toJsonOrNull(sub.messageTypes),
    includeSelf: Number(sub.includeSelf),
    enabled: Number(sub.enabled),
    retrySchedule: JSON.stringify(sub.retrySchedule),
    includeRaw: Number(sub.includeRaw),
    pull: Number(sub.pull),
  };
}
