import type pg from 'pg';
import type { Store } from '../store.ts';
import { postgresConfigState } from './config-state.ts';
import { postgresCoordination } from './coordination.ts';
import { clientConfig, openDatabase } from './database.ts';
import { postgresDeliveryQueue } from './delivery-queue.ts';
import { postgresEventLog } from './event-log.ts';
import { postgresKeyValue } from './key-value.ts';
import { migrate } from './migrate.ts';
import { postgresPullStreams } from './pull-streams.ts';
import { postgresRetention } from './retention.ts';
import { postgresSendSlots } from './send-slots.ts';
import { postgresSendLog } from './sends.ts';
import { NotificationListener } from './wakeups.ts';

/**
 * The shared store: every port on one connection pool, for any number of nodes on one database.
 * Built like the SQLite engine (one module per port, composed here), so that each port is checked
 * against its interface on its own.
 */
export interface PostgresStore extends Store {
  /** The pool itself, for diagnostics and the PostgreSQL-specific tests. */
  readonly pool: pg.Pool;
}

/** A store on the database `url` names. Connects lazily; does not migrate (`openStore` does both). */
export function createPostgresStore(url: string): PostgresStore {
  const db = openDatabase(url);
  const listener = new NotificationListener(clientConfig(url));
  return {
    engine: 'postgres',
    pool: db.pool,
    async migrate() {
      await migrate(db);
    },
    async close() {
      await listener.close();
      await db.pool.end();
    },
    ...postgresEventLog(db),
    ...postgresDeliveryQueue(db),
    ...postgresPullStreams(db),
    ...postgresConfigState(db),
    ...postgresSendLog(db),
    ...postgresKeyValue(db),
    ...postgresCoordination(db, listener),
    ...postgresSendSlots(db),
    ...postgresRetention(db),
  };
}
