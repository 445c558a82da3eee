import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { newId } from '../../src/core/ids.ts';
import { openStore } from '../../src/store/open.ts';
import { openDatabase } from '../../src/store/postgres/database.ts';
import { migrate } from '../../src/store/postgres/migrate.ts';
import { MIGRATIONS } from '../../src/store/postgres/migrations.ts';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { AttemptRecord, IngestItem, Store, SubscriptionRecord } from '../../src/store/store.ts';
import { createTestDatabase, dropTestDatabase, startPostgresServer, type PostgresServer } from '../helpers/postgres.ts';

// What only a real PostgreSQL shows: several stores, each with its own pool (as on separate nodes),
// racing on one database; and the server going away. The behaviour every engine shares is in
// conformance.ts.

describe('PostgresStore: migrations', { timeout: 60_000 }, () => {
  const made: string[] = [];
  after(async () => {
    for (const url of made) await dropTestDatabase(url);
  });
  async function freshDatabase(): Promise<string> {
    const url = await createTestDatabase();
    made.push(url);
    return url;
  }

  it('applies each migration once when two stores migrate a new database together', async () => {
    const url = await freshDatabase();
    const stores = [createPostgresStore(url), createPostgresStore(url)];
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      const applied = await appliedMigrations(url);
      assert.deepEqual(
        applied.map(({ version, name }) => ({ version, name })),
        MIGRATIONS.map(({ version, name }) => ({ version, name })),
      );
      await Promise.all(stores.map((store) => store.migrate()));
      assert.deepEqual(await appliedMigrations(url), applied, 'migrating again changes nothing');
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('leaves no trace of a migration that fails', async () => {
    const url = await freshDatabase();
    const db = openDatabase(url);
    try {
      const broken = { version: 1000, name: 'broken', sql: 'CREATE TABLE half (id text); SELECT nope FROM missing;' };
      await assert.rejects(migrate(db, [...MIGRATIONS, broken]), /relation "missing" does not exist/);
      assert.equal((await appliedMigrations(url)).length, MIGRATIONS.length);
      assert.equal(await db.one(`SELECT 1 FROM pg_tables WHERE tablename = 'half'`), undefined);
    } finally {
      await db.pool.end();
    }
  });

  it('refuses a database that a newer imgate migrated', async () => {
    const url = await freshDatabase();
    const store = await openStore(url);
    await store.close();
    await withClient(url, (client) => client.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`));
    await assert.rejects(openStore(url), /schema is at version 9999, newer than this imgate knows/);
  });
});

describe('PostgresStore: two stores racing on one database', { timeout: 60_000 }, () => {
  let url: string;
  let one: Store;
  let two: Store;
  before(async () => {
    url = await createTestDatabase();
    one = await openStore(url);
    two = await openStore(url);
  });
  after(async () => {
    await one.close();
    await two.close();
    await dropTestDatabase(url);
  });

  it('hands each of 200 deliveries to one claimer only', async () => {
    const items = Array.from({ length: 200 }, () => ingestItem());
    await one.ingestBatch(items);
    const ids = items.map((item) => (item.deliveries[0] as { id: string }).id);
    const claims = await Promise.all(
      [one, two, one, two, one, two, one, two].map((store) => store.claimDeliveries(shuffled(ids), 30_000)),
    );
    const claimed = claims.flat().map((delivery) => delivery.id);
    assert.equal(new Set(claimed).size, claimed.length, 'no delivery was claimed twice');
    assert.deepEqual(claimed.sort(), [...ids].sort(), 'every due delivery was claimed');
    const tokens = claims.flat().map((delivery) => delivery.leaseToken);
    assert.equal(new Set(tokens).size, tokens.length, 'every claim has its own token');
  });

  it('refuses a stale holder once another store took the delivery over, and keeps the new holder state', async () => {
    const item = ingestItem();
    await one.ingestBatch([item]);
    const deliveryId = (item.deliveries[0] as { id: string }).id;
    const [stale] = await one.claimDeliveries([deliveryId], 20);
    assert.ok(stale);
    await sleep(40);
    const [current] = await two.claimDeliveries([deliveryId], 30_000);
    assert.ok(current, 'the lease ran out, so the other store could take the delivery');

    const late = attempt(deliveryId, { error: 'HTTP 500' });
    assert.equal(await one.recordAttempt(stale.leaseToken, late, { status: 'dead', error: 'HTTP 500' }), 'lease_lost');
    const kept = await two.getDelivery(deliveryId);
    assert.deepEqual(kept, stripToken(current));
    assert.deepEqual(await two.listAttempts(deliveryId), [{ ...late, error: 'lease lost: HTTP 500' }]);

    assert.equal(await two.recordAttempt(current.leaseToken, attempt(deliveryId), { status: 'succeeded' }), 'recorded');
    assert.equal((await one.getDelivery(deliveryId))?.status, 'succeeded');
  });

  // The claims and leases are aged in the database rather than waited out: a wait short enough for
  // the test could also let the winner's fresh claim age before the loser reads it, on a busy machine.
  it('gives a contested idempotency key to one claim, also when taking an abandoned one over', async () => {
    for (let round = 0; round < 20; round += 1) {
      const key = `race-${round}`;
      const fresh = await Promise.all([one, two].map((store) => store.claimIdempotencyKey('key_1', key, 'hash-a', 60_000)));
      assert.deepEqual(states(fresh), ['in_progress', 'new'], `round ${round}, a new key`);
      await withClient(url, (client) => client.query('UPDATE idempotency_keys SET created_at = created_at - 3600000 WHERE key = $1', [key]));
      const takeover = await Promise.all([one, two].map((store) => store.claimIdempotencyKey('key_1', key, 'hash-a', 60_000)));
      assert.deepEqual(states(takeover), ['in_progress', 'new'], `round ${round}, an abandoned key`);
    }
  });

  it('gives a contested lease to one seeker, also when it ran out', async () => {
    for (let round = 0; round < 20; round += 1) {
      const name = `poller:race-${round}`;
      const first = await Promise.all([one, two].map((store, i) => store.acquireLease(name, `node-${i}`, 30_000)));
      assert.equal(first.filter((token) => token !== null).length, 1, `round ${round}, a new lease`);
      await withClient(url, (client) => client.query('UPDATE leases SET expires_at = expires_at - 3600000 WHERE name = $1', [name]));
      const again = await Promise.all([one, two].map((store, i) => store.acquireLease(name, `node-${i}`, 30_000)));
      assert.equal(again.filter((token) => token !== null).length, 1, `round ${round}, a lease that ran out`);
    }
  });

  it('hands out no more send slots than the limit, across stores', async () => {
    const takes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? one : two).takeSendSlot('robot:race', 3, 30_000, 60_000)),
    );
    assert.equal(takes.filter((take) => 'token' in take).length, 3);
    for (const take of takes) if ('waitMs' in take) assert.equal(take.waitMs, 60_000, 'a window after the sends under way');
  });

  it('never interleaves two config syncs', async () => {
    const left = [config('left-a'), config('left-b')];
    const right = [config('right-a'), config('right-b'), config('right-c')];
    for (let round = 0; round < 5; round += 1) {
      await Promise.all([one.syncConfig(left, []), two.syncConfig(right, []), one.syncConfig(right, []), two.syncConfig(left, [])]);
      const ids = (await one.listSubscriptions()).map((sub) => sub.id);
      assert.ok(
        [left, right].some((set) => JSON.stringify(set.map((sub) => sub.id)) === JSON.stringify(ids)),
        `round ${round}: ${ids.join(', ')}`,
      );
    }
  });

  it('carries a notification to a listener on the other store, on its topic only', async () => {
    const heard: string[] = [];
    const stopDeliveries = await two.listen('deliveries', (payload) => heard.push(`deliveries:${payload}`));
    const stopPulls = await two.listen('pulls', (payload) => heard.push(`pulls:${payload}`));
    try {
      await one.notify('deliveries', 'sub_a');
      await waitUntil(() => heard.length > 0, 10_000);
      await stopDeliveries();
      await one.notify('deliveries', 'unheard');
      await one.notify('pulls', 'stored');
      await waitUntil(() => heard.length > 1, 10_000);
      assert.deepEqual(heard, ['deliveries:sub_a', 'pulls:stored']);
    } finally {
      await stopPulls();
    }
  });

  it('records an attempt whose response holds NUL characters, which PostgreSQL text cannot', async () => {
    const item = ingestItem();
    await one.ingestBatch([item]);
    const deliveryId = (item.deliveries[0] as { id: string }).id;
    const [claimed] = await one.claimDeliveries([deliveryId], 30_000);
    assert.ok(claimed);
    const binary = attempt(deliveryId, { responseBody: 'a\u0000b', error: 'bad\u0000' });
    assert.equal(await one.recordAttempt(claimed.leaseToken, binary, { status: 'dead', error: 'bad\u0000' }), 'recorded');
    assert.deepEqual(await one.listAttempts(deliveryId), [{ ...binary, responseBody: 'a\uFFFDb', error: 'bad\uFFFD' }]);
  });

  it('reads int8 as numbers on its own pools only, leaving the driver defaults alone', async () => {
    assert.equal(typeof pg.types.getTypeParser(pg.types.builtins.INT8)('42'), 'string');
    assert.equal(await one.nextCounter('qq-one', 'reply:int8', Date.now()), 1);
  });
});

describe('openStore on PostgreSQL', { timeout: 60_000 }, () => {
  it('fails at once on a wrong password, naming the database with the password masked', async () => {
    const url = new URL(await createTestDatabase());
    try {
      url.password = 'Wr0ng-s3cret';
      const started = Date.now();
      await assert.rejects(openStore(url.toString(), { connectTimeoutMs: 30_000 }), (error: Error) => {
        assert.match(error.message, /cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/imgate_test_\w+: /);
        assert.match(error.message, /password authentication failed/);
        assert.doesNotMatch(error.message, /Wr0ng-s3cret/);
        return true;
      });
      assert.ok(Date.now() - started < 5000, 'a refusal is not retried');
    } finally {
      await dropTestDatabase(url.toString());
    }
  });

  it('gives up on a port nobody listens on after the connect timeout, with the password masked', async () => {
    const url = 'postgres://imgate:s3cret-pw@127.0.0.1:9/imgate?sslpassword=another-s3cret';
    const started = Date.now();
    await assert.rejects(openStore(url, { connectTimeoutMs: 1500 }), (error: Error) => {
      assert.equal(
        error.message,
        'cannot connect to PostgreSQL at postgres://imgate:****@127.0.0.1:9/imgate?sslpassword=****: connect ECONNREFUSED 127.0.0.1:9',
      );
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400 && elapsed < 5000, `gave up after ${elapsed} ms`);
  });

  it('does not quote a URL it cannot parse', async () => {
    await assert.rejects(openStore('postgres://imgate:s3cret@db:port/imgate'), (error: Error) => {
      assert.match(error.message, /cannot be parsed/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  });
});

describe('PostgresStore: the server goes away', { timeout: 90_000 }, () => {
  let server: PostgresServer;
  let url: string;
  before(async () => {
    server = await startPostgresServer();
    url = new URL(server.url).toString().replace(/\/postgres$/, '/imgate');
    await withClient(server.url, (client) => client.query('CREATE DATABASE imgate'));
  });
  after(async () => {
    await server.destroy();
  });

  it('waits at start for a database that comes up late', async () => {
    await server.stop();
    const opening = openStore(url, { connectTimeoutMs: 30_000 });
    await sleep(1500);
    await server.start();
    const store = await opening;
    await store.close();
  });

  it('fails the writes under way when PostgreSQL stops, without ending the process, and writes again once it is back', async () => {
    const store = await openStore(url);
    const outcomes = { stored: 0, failed: 0 };
    let running = true;
    // Transactions keep connections checked out of the pool while the server goes away.
    const writers = Array.from({ length: 4 }, async () => {
      while (running) {
        await store.ingestBatch([ingestItem(), ingestItem()]).then(
          () => (outcomes.stored += 1),
          () => (outcomes.failed += 1),
        );
      }
    });
    try {
      await waitUntil(() => outcomes.stored >= 20, 10_000);
      await server.stop();
      await waitUntil(() => outcomes.failed >= 4, 10_000);
      await server.start();
      const storedBefore = outcomes.stored;
      await waitUntil(() => outcomes.stored > storedBefore + 20, 20_000);
    } finally {
      running = false;
      await Promise.all(writers);
      await store.close();
    }
  });

  it('listens again by itself after PostgreSQL restarted', async () => {
    const store = await openStore(url);
    const heard: string[] = [];
    const stop = await store.listen('pulls', (payload) => heard.push(payload));
    try {
      await server.stop();
      await server.start();
      // The pool drops its broken connections on their first use: notify until one gets through
      // to a listener that has come back.
      await waitUntil(async () => {
        await store.notify('pulls', 'after-restart').catch(() => undefined);
        return heard.includes('after-restart');
      }, 20_000);
    } finally {
      await stop();
      await store.close();
    }
  });
});

// Fixtures and helpers

function ingestItem(): IngestItem {
  const receivedAt = new Date().toISOString();
  const platformId = BigInt(`0x${randomBytes(8).toString('hex')}`).toString();
  const event = {
    id: newId('evt'),
    type: 'message' as const,
    channel: 'wx-one',
    platform: 'wechat-pad',
    receivedAt,
    message: {
      id: newId('msg'),
      platformId,
      type: 'text' as const,
      text: 'hello',
      createdAt: receivedAt,
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: { text: 'hello' },
    },
    sender: { id: 'wxid_alice', name: 'Alice', isSelf: false },
    conversation: { id: 'wxid_alice', type: 'direct' as const, name: null },
    flags: { history: false },
  };
  return {
    channel: event.channel,
    dedupKey: `wx:${platformId}`,
    stored: { event, raw: { NewMsgId: platformId }, rawBody: Buffer.from(platformId), rawRequest: null },
    deliveries: [{ id: newId('dlv'), subscriptionId: 'sub_a' }],
  };
}

function attempt(deliveryId: string, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return { deliveryId, attempt: 1, startedAt: Date.now(), latencyMs: 5, statusCode: 200, responseBody: 'ok', error: null, ...overrides };
}

function config(id: string): SubscriptionRecord {
  return {
    id,
    url: 'https://bot.example.com/hook',
    secrets: ['whsec_one'],
    signing: 'standard',
    format: 'unified',
    channels: null,
    messageTypes: null,
    includeSelf: false,
    groups: 'all',
    enabled: true,
    timeoutMs: 10_000,
    retrySchedule: [5, 30],
    includeRaw: false,
    ordering: 'none',
    pull: false,
    source: 'config',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
  };
}

function stripToken<T extends { leaseToken: string }>(claimed: T): Omit<T, 'leaseToken'> {
  const { leaseToken: _token, ...delivery } = claimed;
  return delivery;
}

function states(claims: { state: string }[]): string[] {
  return claims.map((claim) => claim.state).sort();
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

async function appliedMigrations(url: string): Promise<{ version: number; name: string; applied_at: string }[]> {
  return withClient(url, async (client) => (await client.query('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')).rows);
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}
