import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { ALICE, BOT_ID, BOT_TOKEN, FakeIlinkApi, textItem, userMessage } from '../helpers/fake-ilink.ts';
import { makeTempDir, removeDir, spawnGateway, type GatewayProcess } from '../helpers/gateway.ts';
import { admin, waitFor } from '../helpers/http.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

describe('wechat-ilink on two gateway processes sharing one PostgreSQL', () => {
  const api = new FakeIlinkApi();
  const subscriber = new FakeHttpServer();
  const dirs: string[] = [];
  const nodes: GatewayProcess[] = [];
  let storeUrl = '';

  async function startNode(name: string): Promise<GatewayProcess> {
    const dir = makeTempDir();
    dirs.push(dir);
    const node = await spawnGateway(dir, {
      storage: { url: storeUrl },
      cluster: { nodeId: name },
      channels: [{ id: 'wx', platform: 'wechat-ilink', apiBase: api.url, cdnBase: `${api.url}/c2c`, reconnect: { initialDelayMs: 100, maxDelayMs: 300 } }],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'ilink-cluster-secret' }],
    });
    nodes.push(node);
    return node;
  }

  before(async () => {
    process.env.IMGATE_SECRET_KEY = randomBytes(32).toString('base64');
    storeUrl = await createTestDatabase();
    await api.start();
    await subscriber.start();
  });
  after(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await api.stop();
    await subscriber.stop();
    delete process.env.IMGATE_SECRET_KEY;
    for (const dir of dirs) removeDir(dir);
  });

  it('a login confirmed on one node starts the poll wherever it is held; each message is stored and delivered once', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    api.messages.push(...Array.from({ length: 6 }, (_, i) => userMessage(ALICE, [textItem(`cluster ${i}`)])));
    api.qrStatuses.push({ status: 'scaned' }, { status: 'confirmed', bot_token: BOT_TOKEN, ilink_bot_id: BOT_ID, baseurl: api.url });
    assert.equal((await admin('POST', `${a.url}/v1/channels/wx/login`)).status, 200);
    // Node b answers the login's state from the store.
    await waitFor(async () => ((await admin('GET', `${b.url}/v1/channels/wx/login`)).json.login?.status === 'confirmed' ? true : undefined), 15_000, 'confirmed, seen from node b');
    await subscriber.waitForRequests(6, 15_000);
    for (const node of [a, b]) {
      const channel = (await admin('GET', `${node.url}/v1/channels`)).json.data.find((c: { id: string }) => c.id === 'wx');
      assert.equal(channel.needsLogin, false);
    }
    // Both nodes keep running while the holder polls on: nothing comes twice.
    api.messages.push(userMessage(ALICE, [textItem('cluster last')]));
    await subscriber.waitForRequests(7, 15_000);
    await waitFor(() => (api.calls('getupdates').some((c) => c.get_updates_buf === 'buf-7') ? true : undefined), 10_000, 'polled past the last message');
    const texts = subscriber.requests.map((r) => JSON.parse(r.body.toString('utf8')).message.text as string);
    assert.equal(texts.length, 7);
    assert.equal(new Set(texts).size, 7);
  });
});
