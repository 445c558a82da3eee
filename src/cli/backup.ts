import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfigFile } from '../config/load.ts';
import { parsePostgresUrl, urlWithoutPassword } from '../store/postgres/connect.ts';
import { resolveConfigPath } from './config-path.ts';

/**
 * Pages per backup step once the first (empty) step has opened the source: all of them. A step reads
 * in one read transaction, which in WAL mode never holds up the gateway's writes; in smaller steps,
 * every commit of the gateway between two steps would start the copy over (SQLite documentation,
 * "Online Backup API", sqlite3_backup_step).
 */
const ALL_PAGES = 0x7fffffff;

/**
 * `imgate backup <file>`: a consistent copy of the SQLite store, taken with SQLite's online backup
 * API on the store file itself, while the gateway runs or not (docs/operations.md, "Backup").
 * PostgreSQL is backed up with pg_dump: the command says how and exits 1, having written nothing.
 */
export async function backupCommand(file: string, options: { config?: string; force?: boolean }): Promise<void> {
  const config = loadConfigFile(resolveConfigPath(options.config).path);
  const url = config.storage.url;
  if (!url.startsWith('sqlite:')) throw new Error(pgDumpGuidance(url, file));
  const path = url.slice('sqlite:'.length);
  if (path === ':memory:' || path === '') throw new Error(`the store ${url} is not a file: there is nothing to back up`);
  const source = resolve(process.cwd(), path);
  if (!existsSync(source)) throw new Error(`no SQLite store at ${source} (storage.url ${url}, relative to this working directory)`);

  const target = resolve(process.cwd(), file);
  if (existsSync(target) && !options.force) throw new Error(`${target} exists; use --force to overwrite it`);
  if (!existsSync(dirname(target))) throw new Error(`the directory ${dirname(target)} does not exist`);
  // Written beside the target and renamed into place: a backup cut short never looks like a whole one.
  const partial = `${target}.partial-${process.pid}`;
  try {
    const db = new Database(source, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      await db.backup(partial, { progress: () => ALL_PAGES });
    } finally {
      db.close();
    }
    const check = checkCopy(partial);
    if (check !== 'ok') throw new Error(`the copy of ${source} failed its integrity check (${check}); ${target} was not written`);
    renameSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
  process.stdout.write(
    `wrote ${target} (${statSync(target).size} bytes): a consistent copy of ${source}, integrity checked. ` +
      `To restore: stop imgate, remove ${source}-wal and ${source}-shm, copy ${target} to ${source}, start imgate.\n`,
  );
}

function checkCopy(path: string): string {
  const copy = new Database(path, { fileMustExist: true });
  try {
    return String(copy.pragma('quick_check', { simple: true }));
  } finally {
    copy.close();
  }
}

function pgDumpGuidance(url: string, file: string): string {
  const database = urlWithoutPassword(parsePostgresUrl(url));
  return [
    `the store is PostgreSQL: imgate backup copies SQLite stores only, and wrote nothing. Back PostgreSQL up with its own tools`,
    '(the password from PGPASSWORD or ~/.pgpass; docs/operations.md, "PostgreSQL"):',
    `  pg_dump --format=custom --file='${file}' '${database}'`,
    'and restore into an empty database, with every imgate node stopped:',
    `  pg_restore --no-owner --dbname='${database}' '${file}'`,
  ].join('\n');
}
