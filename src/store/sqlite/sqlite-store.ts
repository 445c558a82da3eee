import type Database from 'better-sqlite3';
import type { Store } from '../store.ts';
import { sqliteConfigState } from './config-state.ts';
import { SqliteConnection } from './connection.ts';
import { sqliteCoordination } from './coordination.ts';
import { sqliteDeliveryQueue } from './delivery-queue.ts';
import { sqliteEventLog } from './event-log.ts';
import { sqliteKeyValue } from './key-value.ts';
import { migrate } from './migrate.ts';
import { sqlitePullStreams } from './pull-streams.ts';
import { sqliteRetention } from './retention.ts';
import { sqliteSendSlots } from './send-slots.ts';
import { sqliteSendLog } from './sends.ts';

/** The embedded store: every port on one SQLite connection, for one process. */
export interface SqliteStore extends Store {
  /** The connection itself, for diagnostics and the SQLite-specific tests. */
  readonly db: Database.Database;
}

/** Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`; does not migrate. */
export function openSqliteStore(path: string): SqliteStore {
  const sql = SqliteConnection.open(path);
  return {
    engine: 'sqlite',
    db: sql.db,
    async migrate() {
      migrate(sql.db);
      // A SQLite file serves one process: leases still in it belong to a process that is gone
      // (killed), so a restart takes its long connections back at once instead of waiting them out.
      sql.run('DELETE FROM leases');
    },
    async close() {
      sql.db.close();
    },
    ...sqliteEventLog(sql),
    ...sqliteDeliveryQueue(sql),
    ...sqlitePullStreams(sql),
    ...sqliteConfigState(sql),
    ...sqliteSendLog(sql),
    ...sqliteKeyValue(sql),
    ...sqliteCoordination(sql),
    ...sqliteSendSlots(sql),
    ...sqliteRetention(sql),
  };
}
