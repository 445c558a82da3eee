import pg from 'pg';
import { StoreFullError } from '../errors.ts';

/**
 * The database's clock in epoch milliseconds. Every lease, due time and abandonment is judged by
 * it, so that nodes whose clocks disagree still agree on who holds what. Truncated like `Date.now()`.
 * `clock_timestamp()` is volatile: used inside a WHERE it is evaluated per row and hides indexes,
 * hence the `now` CTE (see `WITH_NOW`) wherever a statement needs the time more than once.
 */
export const DB_NOW = 'floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/** A CTE `now(ms)`, evaluated once per statement (a CTE with a volatile function is never inlined). */
export const WITH_NOW = `WITH now AS (SELECT ${DB_NOW} AS ms)`;

/** Queries on the pool, or on one client inside a transaction. */
export interface Sql {
  rows<Row extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<Row[]>;
  one<Row extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<Row | undefined>;
  /** Runs a statement and answers how many rows it touched. */
  run(text: string, params?: unknown[]): Promise<number>;
}

export interface Database extends Sql {
  readonly pool: pg.Pool;
  /** Runs `work` in a transaction on one client: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
}

/** Connections per node; each store also holds one more for LISTEN (see `wakeups.ts`). */
const POOL_SIZE = 10;

/**
 * How long a query waits for a connection, new or from a full pool: without it an unreachable host
 * (packets dropped, not refused) holds every query for the operating system's TCP timeout.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * int8 as a JS number: every bigint here is an epoch millisecond time, a count or a counter, far
 * below 2^53. Set on this pool's own parsers, never on the `pg` module's global ones.
 */
function typeParsers(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, Number);
  return types;
}

/**
 * TCP keepalive probes after this long idle: a connection cut without a reset (a network partition)
 * is noticed in minutes rather than the operating system's default two hours. Matters most for the
 * LISTEN connection, which only ever reads.
 */
const KEEPALIVE_AFTER_MS = 10_000;

/** Longest a session may sit idle inside a transaction before PostgreSQL ends it (every transaction here is short). */
const IDLE_IN_TRANSACTION_MS = 60_000;

/** The settings every connection of a store uses, the pool's and the listener's. */
export function clientConfig(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    // Names imgate's connections in pg_stat_activity, unless the URL names them otherwise.
    application_name: 'imgate',
    types: typeParsers(),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_AFTER_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A node cut off in the middle of a transaction (a send-slot or claim lock held) would keep its
    // locks until the server noticed the dead connection, hours later by TCP keepalive: the server
    // ends such a session after a minute instead.
    options: `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`,
  };
}

export function openDatabase(url: string): Database {
  const pool = new pg.Pool({ ...clientConfig(url), max: POOL_SIZE });
  // An idle connection that breaks (PostgreSQL restarted) is reported here and dropped by the pool;
  // without a listener the error would end the process.
  pool.on('error', () => undefined);
  const onPool = sqlOn(pool);
  return {
    pool,
    ...onPool,
    async transaction(work) {
      const client = await pool.connect();
      const stopIgnoring = ignoreConnectionErrors(client);
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(sqlOn(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        // SQLSTATE 53100 disk_full (PostgreSQL documentation, Appendix A "Error Codes").
        if (error instanceof pg.DatabaseError && error.code === '53100') throw new StoreFullError(error);
        throw error;
      } finally {
        stopIgnoring();
        // A client whose rollback failed is in an unknown state: the pool closes it instead of reusing it.
        client.release(broken);
      }
    },
  };
}

/**
 * For a client checked out of the pool, for several statements in a row. While checked out it has
 * no error listener of the pool's, and a connection that breaks meanwhile (PostgreSQL restarted)
 * would end the process with an unhandled 'error' event; the statement that then fails reports it
 * instead. Answers the function that takes the listener off again, before the client's release.
 */
export function ignoreConnectionErrors(client: pg.PoolClient): () => void {
  const ignore = (): void => undefined;
  client.on('error', ignore);
  return () => client.off('error', ignore);
}

function sqlOn(target: pg.Pool | pg.PoolClient): Sql {
  return {
    async rows<Row extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<Row[]> {
      return (await target.query<Row>(text, params)).rows;
    },
    async one<Row extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<Row | undefined> {
      return (await target.query<Row>(text, params)).rows[0];
    },
    async run(text: string, params: unknown[] = []): Promise<number> {
      return (await target.query(text, params)).rowCount ?? 0;
    },
  };
}

/**
 * PostgreSQL text cannot hold U+0000. Text that comes from outside (a subscriber's response body,
 * an error message, a platform's id) may; stored as it is, it would fail the whole statement, and
 * a delivery whose attempt cannot be recorded would be retried for ever.
 */
export function storableText(text: string): string;
export function storableText(text: string | null): string | null;
export function storableText(text: string | null): string | null {
  return text === null || !text.includes('\u0000') ? text : text.replaceAll('\u0000', '\uFFFD');
}

/** A WHERE clause of the conditions whose value is given; each condition's `?` becomes its `$n`. */
export function where(conditions: [sql: string, value: unknown][]): { sql: string; params: unknown[] } {
  const given = conditions.filter(([, value]) => value !== undefined);
  const params = given.map(([, value]) => value);
  const clauses = given.map(([sql], index) => sql.replace('?', `$${index + 1}`));
  return { sql: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/**
 * Advisory locks imgate takes, as (class, object) pairs: the class is 'imgt' in ASCII, so that an
 * application sharing the database is unlikely to take the same ones.
 */
export const ADVISORY_LOCKS = {
  /** Held by the node applying migrations: others wait, then find them applied. */
  migrate: [0x696d6774, 1],
  /** Held by the transaction writing the config file into the store: syncs never interleave. */
  syncConfig: [0x696d6774, 2],
} as const satisfies Record<string, readonly [number, number]>;
