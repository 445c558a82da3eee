import Database from 'better-sqlite3';

const RESTORE = 'docs/operations.md, "Restore"';

/**
 * Why the SQLite store at `file` could not be opened or migrated, as one sentence naming the file
 * and what to do: a damaged file and one that cannot be written are expected at start, not bugs.
 */
export function sqliteOpenError(file: string, error: unknown): Error {
  const code = error instanceof Database.SqliteError ? error.code : (error as NodeJS.ErrnoException).code;
  const reason = `${(error as Error).message}${code ? ` (${code})` : ''}`;
  if (code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT')) {
    return new Error(
      `the SQLite store ${file} is damaged or not an imgate database: ${reason}. Restore it from a backup (${RESTORE}), ` +
        'or move it and its -wal and -shm files away to start with an empty store',
      { cause: error },
    );
  }
  if (code?.startsWith('SQLITE_READONLY') || code?.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
    return new Error(
      `cannot open the SQLite store ${file} for writing: ${reason}. imgate writes the file and creates ${file}-wal and ${file}-shm ` +
        'beside it: check that the file and its directory are writable by this user, not immutable (lsattr), and not on a read-only mount',
      { cause: error },
    );
  }
  if (code === 'SQLITE_FULL') {
    return new Error(`the disk of the SQLite store ${file} is full: ${reason}. Free space on it, then start again`, { cause: error });
  }
  return new Error(`cannot open the SQLite store ${file}: ${reason}`, { cause: error });
}
