import { ADVISORY_LOCKS, DB_NOW, ignoreConnectionErrors, type Database } from './database.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

/**
 * Applies the migrations this database has not seen yet, each in its own transaction together with
 * its `schema_migrations` row (PostgreSQL's DDL is transactional), so a failed migration leaves
 * neither a half schema nor a record. The whole run holds a session advisory lock: nodes starting
 * together migrate one after the other, and all but the first find nothing left to do.
 */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const client = await db.pool.connect();
  const stopIgnoring = ignoreConnectionErrors(client);
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...ADVISORY_LOCKS.migrate]);
    try {
      await client.query(`
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at bigint NOT NULL
)`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((row) => row.version));
      refuseNewerSchema(applied, migrations);
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        try {
          await client.query('BEGIN');
          await client.query(migration.sql);
          await client.query(
            `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, ${DB_NOW})`,
            [migration.version, migration.name],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...ADVISORY_LOCKS.migrate]);
    }
  } catch (error) {
    // The lock is the session's: a client left holding it (or in a failed transaction) is closed, not reused.
    broken = error as Error;
    throw error;
  } finally {
    stopIgnoring();
    client.release(broken);
  }
}

function refuseNewerSchema(applied: Set<number>, migrations: readonly Migration[]): void {
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (newest > known) {
    throw new Error(`the database schema is at version ${newest}, newer than this imgate knows (${known}); upgrade imgate`);
  }
}
