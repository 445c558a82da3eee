import { CursorMovedError, type CursorUpdate } from '../ports/event-log.ts';
import type { KeyValue } from '../ports/key-value.ts';
import { WITH_NOW, type Database, type Sql } from './database.ts';

const UPSERT_CURSOR = `${WITH_NOW}
INSERT INTO cursors (channel, key, value, updated_at) SELECT $1, $2, $3, now.ms FROM now
ON CONFLICT (channel, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`;

/** Only while the key has no cursor yet. */
const INSERT_FIRST_CURSOR = `${WITH_NOW}
INSERT INTO cursors (channel, key, value, updated_at) SELECT $1, $2, $3, now.ms FROM now
ON CONFLICT (channel, key) DO NOTHING`;

/** Only while the cursor still has the value `$4`. */
const MOVE_CURSOR = `${WITH_NOW}
UPDATE cursors SET value = $3, updated_at = now.ms FROM now
WHERE channel = $1 AND key = $2 AND value = $4`;

export function postgresKeyValue(db: Database): KeyValue {
  return {
    async getToken(key) {
      const row = await db.one<{ value: string; expires_at: number }>('SELECT value, expires_at FROM tokens WHERE key = $1', [key]);
      return row === undefined ? null : { value: row.value, expiresAt: row.expires_at };
    },

    async putToken(key, value, expiresAt) {
      await db.run(
        `INSERT INTO tokens (key, value, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
        [key, value, expiresAt],
      );
    },

    async deleteToken(key, onlyValue) {
      if (onlyValue === undefined) await db.run('DELETE FROM tokens WHERE key = $1', [key]);
      else await db.run('DELETE FROM tokens WHERE key = $1 AND value = $2', [key, onlyValue]);
    },

    async getCursor(channel, key) {
      const row = await db.one<{ value: string }>('SELECT value FROM cursors WHERE channel = $1 AND key = $2', [channel, key]);
      return row === undefined ? null : row.value;
    },

    async putCursor(channel, key, value) {
      await writeCursors(db, [{ channel, key, value }]);
    },

    async listCursorKeys(channel) {
      const rows = await db.rows<{ key: string }>('SELECT key FROM cursors WHERE channel = $1 ORDER BY key', [channel]);
      return rows.map((row) => row.key);
    },

    // One statement: the row lock taken by the conflicting update makes concurrent callers, on any
    // node, wait their turn and each see the value the previous one wrote.
    async nextCounter(channel, key, now) {
      const row = await db.one<{ value: number }>(
        `INSERT INTO counters (channel, key, value, updated_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (channel, key) DO UPDATE SET value = counters.value + 1, updated_at = EXCLUDED.updated_at
         RETURNING value`,
        [channel, key, now],
      );
      return (row as { value: number }).value;
    },
  };
}

/**
 * Writes cursors in order, one statement each (a batch carries one or two). One with `expected` is
 * a compare-and-set that the row lock settles: of two writers starting from one value, the second
 * waits for the first, finds the value moved and throws CursorMovedError, failing its transaction.
 */
export async function writeCursors(sql: Sql, cursors: CursorUpdate[]): Promise<void> {
  for (const { channel, key, value, expected } of cursors) {
    const written =
      expected === undefined
        ? await sql.run(UPSERT_CURSOR, [channel, key, value])
        : expected === null
          ? await sql.run(INSERT_FIRST_CURSOR, [channel, key, value])
          : await sql.run(MOVE_CURSOR, [channel, key, value, expected]);
    if (written === 0) throw new CursorMovedError(channel, key);
  }
}
