// Writes test/store/sqlite-schema.sql, the schema the SQLite migrations produce. The SQLite tests
// compare it with a freshly migrated database, so that every schema change shows up in review.
// Run after changing src/store/sqlite/migrations.ts: node --import tsx scripts/dump-sqlite-schema.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { dumpSchema, migrate } from '../src/store/sqlite/migrate.ts';

const target = fileURLToPath(new URL('../test/store/sqlite-schema.sql', import.meta.url));
const db = new Database(':memory:');
migrate(db);
writeFileSync(target, dumpSchema(db));
db.close();
console.log(`wrote ${target}`);
