import { CursorMovedError, type CursorUpdate } from '../ports/event-log.ts';
import type { KeyValue } from '../ports/key-value.ts';
import { nowMs, type SqliteConnection } from './connection.ts';

export function sqliteKeyValue(sql: SqliteConnection): KeyValue {
  return {
    async getToken(key) {
      const row = sql.one<{ value: string; expires_at: number }>('SELECT value, expires_at FROM tokens WHERE key = ?', key);
      return row === undefined ? null : { value: row.value, expiresAt: row.expires_at };
    },

    async putToken(key, value, expiresAt) {
      sql.run(
        `INSERT INTO tokens (key, value, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        key,
        value,
        expiresAt,
      );
    },

    async deleteToken(key, onlyValue) {
      if (onlyValue === undefined) sql.run('DELETE FROM tokens WHERE key = ?', key);
      else sql.run('DELETE FROM tokens WHERE key = ? AND value = ?', key, onlyValue);
    },

    async getCursor(channel, key) {
      const row = sql.one<{ value: string }>('SELECT value FROM cursors WHERE channel = ? AND key = ?', channel, key);
      return row === undefined ? null : row.value;
    },

    async putCursor(channel, key, value) {
      writeCursor(sql, { channel, key, value }, nowMs());
    },

    async listCursorKeys(channel) {
      return sql.many<{ key: string }>('SELECT key FROM cursors WHERE channel = ? ORDER BY key', channel).map((row) => row.key);
    },

    async nextCounter(channel, key, now) {
      const row = sql.one<{ value: number }>(
        `INSERT INTO counters (channel, key, value, updated_at) VALUES (?, ?, 1, ?)
         ON CONFLICT (channel, key) DO UPDATE SET value = value + 1, updated_at = excluded.updated_at
         RETURNING value`,
        channel,
        key,
        now,
      );
      return (row as { value: number }).value;
    },
  };
}

/** Writes a cursor; throws CursorMovedError when it carries an `expected` value the stored one no longer has. */
export function writeCursor(sql: SqliteConnection, cursor: CursorUpdate, now: number): void {
  if (cursor.expected !== undefined) {
    const stored = sql.one<{ value: string }>('SELECT value FROM cursors WHERE channel = ? AND key = ?', cursor.channel, cursor.key);
    if ((stored?.value ?? null) !== cursor.expected) throw new CursorMovedError(cursor.channel, cursor.key);
  }
  sql.run(
    `INSERT INTO cursors (channel, key, value, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (channel, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    cursor.channel,
    cursor.key,
    cursor.value,
    now,
  );
}
