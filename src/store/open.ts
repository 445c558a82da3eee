import { resolve } from 'node:path';
import { parsePostgresUrl, waitForDatabase } from './postgres/connect.ts';
import { createPostgresStore } from './postgres/postgres-store.ts';
import { sqliteOpenError } from './sqlite/open-error.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

const ACCEPTED_FORMS =
  'sqlite:<path> (relative to the working directory), sqlite::memory: or postgres://user:password@host:port/database';

export interface OpenStoreOptions {
  /** How long to keep trying a PostgreSQL database that cannot be reached at start; 60 s unless given. */
  connectTimeoutMs?: number;
}

/**
 * Opens the store a `store.url` names and brings its schema up to date. Error messages never
 * repeat the URL's password.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return openPostgres(url, options);
  const named = scheme === undefined ? 'the store URL has no scheme' : `unsupported store URL scheme "${scheme}:"`;
  throw new Error(`${named}; use ${ACCEPTED_FORMS}`);
}

async function openSqlite(path: string): Promise<Store> {
  if (path === '') throw new Error(`the sqlite store URL names no file; use ${ACCEPTED_FORMS}`);
  const file = path === ':memory:' ? path : resolve(process.cwd(), path);
  try {
    return await migrated(openSqliteStore(file));
  } catch (error) {
    throw sqliteOpenError(file, error);
  }
}

async function openPostgres(url: string, options: OpenStoreOptions): Promise<Store> {
  const parsed = parsePostgresUrl(url);
  const store = createPostgresStore(url);
  try {
    await waitForDatabase(store.pool, parsed, options.connectTimeoutMs);
  } catch (error) {
    await store.close();
    throw error;
  }
  return migrated(store);
}

async function migrated(store: Store): Promise<Store> {
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
