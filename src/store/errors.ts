/**
 * A write the store refused because its disk is full (SQLite's SQLITE_FULL, PostgreSQL's SQLSTATE
 * 53100 disk_full). The transaction was rolled back whole; the same write succeeds once space is freed.
 */
export class StoreFullError extends Error {
  constructor(cause: unknown) {
    super("the store's disk is full", { cause });
    this.name = 'StoreFullError';
  }
}
