import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** How long a start keeps trying a database it cannot reach (it may be starting too), by default. */
const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 10_000;

/** Query parameters the driver reads secrets from, besides the URL's own password. */
const SECRET_PARAMETERS = ['password', 'sslpassword'];

/** The URL, checked before the driver sees it: its own parse errors would quote the URL, password and all. */
export function parsePostgresUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new Error('the PostgreSQL store URL cannot be parsed; use postgres://user:password@host:port/database');
  }
}

/**
 * Waits until the database answers, retrying with backoff for up to `timeoutMs`: in a compose file
 * or a cluster, imgate often starts before PostgreSQL accepts connections. A database that answers
 * with a refusal (wrong password, no such database) is not waited for. The error names the
 * database with its password masked, and the driver's reason.
 */
export async function waitForDatabase(pool: pg.Pool, url: URL, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = FIRST_RETRY_MS;
  for (;;) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (error) {
      const remaining = deadline - Date.now();
      if (isRefusal(error) || remaining <= 0) {
        throw new Error(`cannot connect to PostgreSQL at ${maskUrl(url)}: ${withoutSecrets(reasonOf(error), url)}`);
      }
      await sleep(Math.min(delay, remaining));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}

/** The URL with its password, wherever it is given, replaced by `****`. */
function maskUrl(url: URL): string {
  const masked = new URL(url);
  if (masked.password !== '') masked.password = '****';
  for (const name of SECRET_PARAMETERS) if (masked.searchParams.has(name)) masked.searchParams.set(name, '****');
  return masked.toString();
}

/** The URL without its password, wherever it is given: for commands shown to people, who give it through PGPASSWORD. */
export function urlWithoutPassword(url: URL): string {
  const bare = new URL(url);
  bare.password = '';
  for (const name of SECRET_PARAMETERS) bare.searchParams.delete(name);
  return bare.toString();
}

/** Authentication failures (SQLSTATE class 28) and a missing database (3D000): retrying cannot help. */
function isRefusal(error: unknown): boolean {
  return error instanceof pg.DatabaseError && (error.code?.startsWith('28') === true || error.code === '3D000');
}

function reasonOf(error: unknown): string {
  // Connecting to a name with several addresses fails with one error per address, and no message.
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(reasonOf).join('; ');
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}

/** The driver's messages do not quote the password; this makes sure. */
function withoutSecrets(text: string, url: URL): string {
  return [url.password, ...SECRET_PARAMETERS.flatMap((name) => url.searchParams.getAll(name))]
    .flatMap((secret) => [secret, safeDecode(secret)])
    .filter((secret) => secret !== '')
    .reduce((masked, secret) => masked.replaceAll(secret, '****'), text);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
