import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { stringify } from 'yaml';
import { startPostgresServer } from '../test/helpers/postgres.ts';
import { HOST, onCleanUp, tempDir } from './children.ts';

/**
 * The store engines imgate runs on in the bench, and its temp configs. Every run that checks counts
 * (ingest + drain, fixed rate, maximum rate) gets a fresh store of its own, so that each count is
 * that run's alone.
 */

export const SECRET = 'bench-secret-0123456789abcdef';
export type Role = 'http' | 'delivery' | 'connections';
export const ALL_ROLES: Role[] = ['http', 'delivery', 'connections'];

/** One fresh, empty store. */
export interface Store {
  url: string;
  countEvents(): Promise<number>;
}

export interface Engine {
  name: string;
  /** A new store; `label` names its file or database (letters, digits, `_`). */
  store(label: string): Promise<Store>;
}

/** Rows in the `events` table of a SQLite file: imgate's and the plain receiver's table have that name. */
export function countSqliteEvents(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export function sqliteEngine(): Engine {
  return {
    name: 'SQLite',
    async store(label) {
      const path = join(tempDir, `${label}.db`);
      return { url: `sqlite:${path}`, countEvents: async () => countSqliteEvents(path) };
    },
  };
}

/** One embedded PostgreSQL server for the whole run (stopped on exit), one database per store. */
export async function postgresEngine(): Promise<Engine> {
  const server = await startPostgresServer({ durable: true });
  onCleanUp(() => server.destroy());
  return {
    name: 'PostgreSQL',
    async store(label) {
      const name = `imgate_${label}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await admin.end();
      }
      const url = server.url.replace(/\/postgres$/, `/${name}`);
      return {
        url,
        async countEvents() {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            return Number((await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM events')).rows[0]?.n ?? 0);
          } finally {
            await client.end();
          }
        },
      };
    },
  };
}

/** The pull subscription of a config made with `imgateConfig(…, PULL)`, and the admin token to read it with. */
export const PULL = { subscriptionId: 'stream', adminToken: 'bench-admin-token-0123456789' } as const;

/**
 * A temp config for one imgate node: `log.level: warn`, one signed wechat-pad channel, one
 * subscription: a webhook to the bench subscriber at `target`, or with `PULL` a pull subscription;
 * answers the config file's path.
 */
export function imgateConfig(file: string, store: Store, port: number, roles: Role[], target: string | typeof PULL): string {
  const path = join(tempDir, `${file}.yaml`);
  const document = {
    server: { host: HOST, port },
    storage: { url: store.url },
    log: { level: 'warn' },
    roles,
    admin: { token: PULL.adminToken },
    channels: [{ id: 'bench', platform: 'wechat-pad', auth: 'signature', secret: SECRET }],
    subscriptions: [
      target === PULL
        ? { id: PULL.subscriptionId, pull: true }
        : { id: 'sink', url: `${target}/hook`, secret: 'bench-subscriber-secret', timeoutMs: 5000 },
    ],
  };
  writeFileSync(path, stringify(document));
  return path;
}

/** What the subscriber has received so far. */
export async function subscriberCount(url: string): Promise<number> {
  return ((await (await fetch(`${url}/count`)).json()) as { received: number }).received;
}
