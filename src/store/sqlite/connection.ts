import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreFullError } from '../errors.ts';

/**
 * One better-sqlite3 connection with its statements prepared on first use (the tables may not
 * exist before the migrations ran) and reused after. better-sqlite3 is synchronous: every query
 * runs at once, and one connection serves the whole process.
 */
export class SqliteConnection {
  private readonly statements = new Map<string, Database.Statement<unknown[], unknown>>();

  constructor(readonly db: Database.Database) {}

  /** Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`. */
  static open(path: string): SqliteConnection {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      // With WAL, FULL fsyncs the log at every commit: an acknowledged callback survives a power cut.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteConnection(db);
  }

  one<Row>(sql: string, ...params: unknown[]): Row | undefined {
    return this.statement(sql).get(...params) as Row | undefined;
  }

  many<Row>(sql: string, ...params: unknown[]): Row[] {
    return this.statement(sql).all(...params) as Row[];
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.statement(sql).run(...params);
  }

  /**
   * Runs `work` in an IMMEDIATE transaction: the write lock is taken first, so no other process
   * writes in between. A full disk rolls it back and is reported as StoreFullError.
   */
  transaction<T>(work: () => T): T {
    try {
      return this.db.transaction(work).immediate();
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_FULL') throw new StoreFullError(error);
      throw error;
    }
  }

  private statement(sql: string): Database.Statement<unknown[], unknown> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** The database's clock: on SQLite, the one process's own. */
export function nowMs(): number {
  return Date.now();
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** A WHERE clause of the conditions whose value is given. */
export function where(conditions: [sql: string, value: unknown][]): { sql: string; params: unknown[] } {
  const given = conditions.filter(([, value]) => value !== undefined);
  return {
    sql: given.length === 0 ? '' : `WHERE ${given.map(([sql]) => sql).join(' AND ')}`,
    params: given.map(([, value]) => value),
  };
}
