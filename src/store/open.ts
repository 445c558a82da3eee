import { resolve } from 'node:path';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

const ACCEPTED_FORMS = 'sqlite:<path> (relative to the working directory) or sqlite::memory:';

/**
 * Opens the store a `store.url` names and brings its schema up to date. Error messages name at
 * most the URL's scheme: the rest may hold a password.
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    throw new Error(`PostgreSQL storage is not available in this version; use ${ACCEPTED_FORMS}`);
  }
  const named = scheme === undefined ? 'the store URL has no scheme' : `unsupported store URL scheme "${scheme}:"`;
  throw new Error(`${named}; use ${ACCEPTED_FORMS}`);
}

async function openSqlite(path: string): Promise<Store> {
  if (path === '') throw new Error(`the sqlite store URL names no file; use ${ACCEPTED_FORMS}`);
  const store = openSqliteStore(path === ':memory:' ? path : resolve(process.cwd(), path));
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
