import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call, padproHeaders, waitFor } from '../helpers/http.ts';
import { startPostgresServer, type PostgresServer } from '../helpers/postgres.ts';

const SECRET = 'pg-restart-secret';

function message(msgId: string): string {
  return JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: `restart ${msgId}`, createTime: 1700000000 });
}

describe('a gateway on PostgreSQL while PostgreSQL restarts', () => {
  let server: PostgresServer;
  let gw: TestGateway;
  const subscriber = new FakeHttpServer();

  before(async () => {
    server = await startPostgresServer();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE imgate_restart');
    await admin.end();
    await subscriber.start();
    gw = await startTestGateway({
      storage: { url: server.url.replace(/\/postgres$/, '/imgate_restart') },
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'bot-secret', timeoutMs: 1000, retry: { schedule: [0.2, 0.5, 1, 2, 4] } }],
    });
  });

  after(async () => {
    await gw.close();
    await subscriber.stop();
    await server.destroy();
    removeDir(gw.dir);
  });

  it('answers 503 while the database is down, loses nothing it acknowledged, and recovers by itself', async () => {
    const answers = new Map<string, number>();
    let next = 0;
    let phase: 'before' | 'down' | 'after' = 'before';
    const statusesIn = { before: [] as number[], down: [] as number[], after: [] as number[] };
    let running = true;
    const load = async () => {
      while (running && next < 3000) {
        const id = String(700_000 + next);
        next += 1;
        const body = message(id);
        const seen = phase;
        const answer = await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) }).catch(() => null);
        const status = answer?.status ?? 0;
        answers.set(id, status);
        // A request sent in one phase and answered in another tells nothing about either.
        if (phase === seen) statusesIn[seen].push(status);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const loaders = Array.from({ length: 4 }, load);

    await new Promise((resolve) => setTimeout(resolve, 500));
    phase = 'down';
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.start();
    phase = 'after';
    await waitFor(() => (statusesIn.after.filter((status) => status === 200).length >= 20 ? true : undefined), 30_000, 'callbacks accepted again');
    running = false;
    await Promise.all(loaders);

    assert.ok(statusesIn.before.every((status) => status === 200), 'all accepted before the restart');
    assert.ok(statusesIn.down.includes(503), 'callbacks get 503 while PostgreSQL is down');
    assert.ok(!statusesIn.down.some((status) => status !== 200 && status !== 503), `only 200 or 503: ${[...new Set(statusesIn.down)]}`);

    const acknowledged = [...answers].filter(([, status]) => status === 200).map(([id]) => id);
    await waitFor(() => {
      const delivered = new Set(subscriber.requests.map((request) => JSON.parse(request.body.toString()).message.platformId as string));
      return acknowledged.every((id) => delivered.has(id)) ? true : undefined;
    }, 30_000, 'every acknowledged callback delivered');
    const ready = await call('GET', `${gw.url}/readyz`);
    assert.equal(ready.status, 200, 'ready again');
  });
});
