import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../../src/store/open.ts';
import { OPEN_DELIVERY_COUNTS } from '../../src/store/sqlite/delivery-queue.ts';
import { dumpSchema, migrate } from '../../src/store/sqlite/migrate.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { describeStoreConformance } from './conformance.ts';

const SCHEMA_FILE = new URL('./sqlite-schema.sql', import.meta.url);

function sqliteFactory(): Parameters<typeof describeStoreConformance>[1] {
  const dir = mkdtempSync(join(tmpdir(), 'imgate-store-'));
  let opened = 0;
  let current = '';
  return {
    async open() {
      opened += 1;
      current = join(dir, `store-${opened}.db`);
      return openStore(`sqlite:${current}`);
    },
    async reopen() {
      return openStore(`sqlite:${current}`);
    },
    async openPeer() {
      return openStore(`sqlite:${current}`);
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreConformance('sqlite', sqliteFactory());

describe('SqliteStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imgate-sqlite-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function migratedStore(name: string): SqliteStore {
    const store = openSqliteStore(join(dir, name));
    migrate(store.db);
    return store;
  }

  function appliedMigrations(store: SqliteStore): unknown[] {
    return store.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
  }

  it('creates the parent directory and sets WAL, synchronous = FULL, foreign keys and a busy timeout', async () => {
    const path = join(dir, 'nested', 'deeper', 'pragmas.db');
    const store = openSqliteStore(path);
    try {
      assert.ok(existsSync(path));
      assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(store.db.pragma('synchronous', { simple: true }), 2, 'synchronous should be FULL (2)');
      assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(store.db.pragma('busy_timeout', { simple: true }), 5000);
    } finally {
      await store.close();
    }
  });

  it('counts open deliveries for /metrics from a covering index, reading no delivered row', async () => {
    const store = migratedStore('open-counts.db');
    try {
      const plan = store.db
        .prepare(`EXPLAIN QUERY PLAN ${OPEN_DELIVERY_COUNTS}`)
        .all()
        .map((row) => (row as { detail: string }).detail);
      assert.deepEqual(plan, ['SCAN deliveries USING COVERING INDEX deliveries_open_by_subscription']);
    } finally {
      await store.close();
    }
  });

  it('records the migrations it applied, and migrating again changes nothing', async () => {
    const store = migratedStore('migrations.db');
    try {
      const applied = appliedMigrations(store);
      assert.deepEqual(
        applied.map((row) => {
          const { version, name } = row as { version: number; name: string };
          return { version, name };
        }),
        MIGRATIONS.map(({ version, name }) => ({ version, name })),
      );
      const schema = dumpSchema(store.db);

      migrate(store.db);
      assert.deepEqual(appliedMigrations(store), applied);
      assert.equal(dumpSchema(store.db), schema);
    } finally {
      await store.close();
    }
  });

  it('leaves no trace of a migration that fails', async () => {
    const store = migratedStore('failing.db');
    try {
      const broken = { version: 1000, name: 'broken', sql: 'CREATE TABLE half (id TEXT); SELECT nope FROM missing;' };

      assert.throws(() => migrate(store.db, [...MIGRATIONS, broken]), /no such table: missing/);
      assert.equal(appliedMigrations(store).length, MIGRATIONS.length);
      const half = store.db.prepare(`SELECT name FROM sqlite_master WHERE name = 'half'`).get();
      assert.equal(half, undefined);
    } finally {
      await store.close();
    }
  });

  it('refuses a database that a newer imgate migrated', async () => {
    const store = migratedStore('newer.db');
    try {
      store.db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`).run();

      assert.throws(() => migrate(store.db), /schema is at version 9999, newer than this imgate knows/);
    } finally {
      await store.close();
    }
  });

  it('has the schema recorded in test/store/sqlite-schema.sql', async () => {
    const store = migratedStore('schema.db');
    try {
      assert.equal(
        dumpSchema(store.db),
        readFileSync(SCHEMA_FILE, 'utf8'),
        'test/store/sqlite-schema.sql differs from the migrated schema. If the migration change is intended, ' +
          'regenerate the file with `node --import tsx scripts/dump-sqlite-schema.ts` and commit it with the change.',
      );
    } finally {
      await store.close();
    }
  });
});

describe('openStore', () => {
  it('opens a throwaway in-memory store with sqlite::memory:', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      assert.deepEqual(await store.listEvents({ limit: 1 }), []);
    } finally {
      await store.close();
    }
  });

  it('resolves a relative sqlite path against the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgate-cwd-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const store = await openStore('sqlite:data/imgate.db');
      await store.close();
      assert.ok(existsSync(join(dir, 'data', 'imgate.db')));
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the accepted forms for anything else', async () => {
    for (const url of ['mysql://root:s3cret@db/imgate', 'data/imgate.db', 'sqlite:']) {
      await assert.rejects(openStore(url), (error: Error) => {
        assert.match(error.message, /sqlite:<path>/);
        assert.match(error.message, /sqlite::memory:/);
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      });
    }
  });
});
