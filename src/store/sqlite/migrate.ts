import type BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';
import type { Migration } from './migrations.ts';

/**
 * Applies the migrations this database has not seen yet, each in its own transaction together with
 * its `schema_migrations` row, so a failed migration leaves neither a half schema nor a record.
 */
export function migrate(db: BetterSqlite3.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  db.exec(`
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);
`);
  refuseNewerSchema(db, migrations);
  for (const migration of migrations) {
    // IMMEDIATE takes the write lock before the check, so two processes starting at once cannot
    // both apply the same migration.
    db.transaction(() => {
      if (isApplied(db, migration.version)) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }).immediate();
  }
}

/** The schema as SQLite keeps it, one statement per object, sorted by name. */
export function dumpSchema(db: BetterSqlite3.Database): string {
  const statements = db
    .prepare('SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name')
    .pluck()
    .all() as string[];
  return statements.map((sql) => `${sql};\n`).join('\n');
}

function isApplied(db: BetterSqlite3.Database, version: number): boolean {
  return db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(version) !== undefined;
}

function refuseNewerSchema(db: BetterSqlite3.Database, migrations: readonly Migration[]): void {
  const applied = db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number | null;
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (applied !== null && applied > known) {
    throw new Error(
      `the database schema is at version ${applied}, newer than this imgate knows (${known}); upgrade imgate`,
    );
  }
}
