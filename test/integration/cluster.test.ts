import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APPLICATION_ID, BOT_TOKEN, BOT_USER_ID, FakeDiscordApi, testKeyPair } from '../helpers/fake-discord.ts';
import { FakeHttpServer, type RecordedRequest } from '../helpers/fake-http.ts';
import { FakeOpGateway } from '../helpers/fake-op-gateway.ts';
import { ADMIN_TOKEN, API_TOKEN, makeTempDir, removeDir, spawnGateway, type GatewayProcess } from '../helpers/gateway.ts';
import { call, padproHeaders, waitFor } from '../helpers/http.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const SECRET = 'cluster-test-secret';
const PAD_KEY = 'padpro-auth-key-123';
const ROBOT_KEY = 'cluster-robot-webhook-key';
/** A robot's limit, shrunk so the test is quick: 3 messages in any 2 s (WeCom's is 20 a minute). */
const ROBOT_LIMIT = { messages: 3, perSeconds: 2, maxWaitSeconds: 30 };
/** Small, so that a takeover is quick; leases last 80 % of it (src/runtime/lease.ts). */
const TAKEOVER_SECONDS = 3;

function message(msgId: string): string {
  return JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: `cluster ${msgId}`, createTime: 1700000000 });
}

function padproOk(request: RecordedRequest) {
  const body = JSON.parse(request.body.toString());
  return {
    status: 200,
    wait: new Promise<void>((resolve) => setTimeout(resolve, 300)),
    body: `{"Code":200,"Data":[{"isSendSuccess":true,"resp":{"NewMsgId":8765432109876543210},"toUSerName":"${body.MsgItem[0].ToUserName}"}],"Text":""}`,
  };
}

/** Every delivered event's platform message id, in the order received. */
function deliveredIds(subscriber: FakeHttpServer): string[] {
  return subscriber.requests.map((request) => JSON.parse(request.body.toString()).message.platformId as string);
}

describe('several gateway processes on one PostgreSQL', () => {
  const dirs: string[] = [];
  const nodes: GatewayProcess[] = [];
  const byName = new Map<string, GatewayProcess>();
  const subscriber = new FakeHttpServer();
  const padpro = new FakeHttpServer(padproOk);
  const robotApi = new FakeHttpServer(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
  const discordApi = new FakeDiscordApi();
  const discordGateway = new FakeOpGateway(250, BOT_USER_ID);
  let storeUrl = '';

  async function startNode(name: string): Promise<GatewayProcess> {
    const dir = makeTempDir();
    dirs.push(dir);
    const node = await spawnGateway(dir, {
      storage: { url: storeUrl },
      cluster: { nodeId: name, takeoverSeconds: TAKEOVER_SECONDS },
      channels: [
        { id: 'wx', platform: 'wechat-pad', secret: SECRET, apiBase: padpro.url, key: PAD_KEY },
        { id: 'robot', platform: 'wecom-robot', apiBase: robotApi.url, webhookKey: ROBOT_KEY, rateLimit: ROBOT_LIMIT },
        {
          id: 'dc',
          platform: 'discord',
          token: BOT_TOKEN,
          applicationId: APPLICATION_ID,
          publicKey: testKeyPair().publicKeyHex,
          apiBase: `${discordApi.url}/api`,
          reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
        },
      ],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'bot-secret', channels: ['wx'], timeoutMs: 1000, retry: { schedule: [0.2, 0.5, 1] } }],
    });
    nodes.push(node);
    byName.set(name, node);
    return node;
  }

  const post = (node: GatewayProcess, body: string) => call('POST', `${node.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
  const cluster = async (node: GatewayProcess) => (await call('GET', `${node.url}/v1/cluster`, { token: ADMIN_TOKEN })).json;
  const openConnections = () => discordGateway.connections.filter((connection) => connection.closeCode === null).length;

  before(async () => {
    storeUrl = await createTestDatabase();
    await subscriber.start();
    await padpro.start();
    await robotApi.start();
    await discordApi.start();
    await discordGateway.start();
    discordApi.gatewayUrl = discordGateway.url;
  });

  after(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
    await subscriber.stop();
    await padpro.stop();
    await robotApi.stop();
    await discordApi.stop();
    await discordGateway.stop();
    for (const dir of dirs) removeDir(dir);
  });

  it('starts two nodes together, migrating once, and each sees both in /v1/cluster', async () => {
    const [a, b] = await Promise.all([startNode('node-a'), startNode('node-b')]);
    assert.ok(a && b);
    const seen = await waitFor(async () => {
      const view = await cluster(a);
      return view.nodes.length === 2 ? view : undefined;
    });
    assert.equal(seen.store, 'postgres');
    assert.deepEqual(seen.nodes.map((node: { id: string; alive: boolean }) => [node.id, node.alive]), [
      ['node-a', true],
      ['node-b', true],
    ]);
  });

  it('stores a platform retry that lands on the other node once, and delivers it once', async () => {
    const [a, b] = nodes as [GatewayProcess, GatewayProcess];
    const before = subscriber.requests.length;
    assert.equal((await post(a, message('900001'))).status, 200);
    assert.equal((await post(b, message('900001'))).status, 200, 'the duplicate is acknowledged');
    await subscriber.waitForRequests(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(deliveredIds(subscriber).filter((id) => id === '900001'), ['900001']);
    const events = (await call('GET', `${b.url}/v1/events`, { token: ADMIN_TOKEN })).json.data;
    assert.equal(events.filter((event: { message: { platformId: string } }) => event.message.platformId === '900001').length, 1);
  });

  it('sends one Idempotency-Key given to two nodes at once to the platform once', async () => {
    const [a, b] = nodes as [GatewayProcess, GatewayProcess];
    const before = padpro.requests.length;
    const body = { channel: 'wx', to: 'wxid_alice', text: 'once across nodes' };
    const headers = { 'idempotency-key': 'cluster-send-1' };
    const answers = await Promise.all([a, b].map((node) => call('POST', `${node.url}/v1/messages`, { body, headers, token: API_TOKEN })));
    assert.equal(padpro.requests.length - before, 1, 'the platform was called once');
    const statuses = answers.map((answer) => answer.status).sort();
    assert.ok(
      JSON.stringify(statuses) === '[200,200]' || JSON.stringify(statuses) === '[200,409]',
      `one send, the other its answer or "in progress": ${JSON.stringify(answers.map((answer) => answer.json))}`,
    );
    const again = await call('POST', `${b.url}/v1/messages`, { body, headers, token: API_TOKEN });
    assert.equal(again.status, 200);
    assert.equal(padpro.requests.length - before, 1, 'a later retry on either node is answered from the key');
  });

  it("keeps a robot's rate limit for the cluster, not per node", async () => {
    const [a, b] = nodes as [GatewayProcess, GatewayProcess];
    const sends = Array.from({ length: 8 }, (_, i) =>
      call('POST', `${(i % 2 === 0 ? a : b).url}/v1/messages`, { body: { channel: 'robot', to: 'default', text: `paced ${i}` }, token: API_TOKEN }),
    );
    const answers = await Promise.all(sends);
    assert.deepEqual(answers.map((answer) => answer.status), Array(8).fill(200), JSON.stringify(answers.map((answer) => answer.json)));
    const arrivals = robotApi.requests.map((request) => request.at).sort((x, y) => x - y);
    assert.equal(arrivals.length, 8);
    // Both nodes together: never more than 3 robot messages within 2 s (each node alone would allow 3).
    for (let k = 0; k + ROBOT_LIMIT.messages < arrivals.length; k += 1) {
      const spread = (arrivals[k + ROBOT_LIMIT.messages] as number) - (arrivals[k] as number);
      assert.ok(spread >= ROBOT_LIMIT.perSeconds * 1000 - 20, `4 messages within ${spread} ms`);
    }
  });

  it('holds the Discord connection on exactly one node, and another takes it over after its holder is killed', async () => {
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, openConnections())), 10);
    try {
      await waitFor(() => (openConnections() === 1 ? true : undefined), 10_000, 'one Gateway connection');
      const [a] = nodes as [GatewayProcess];
      const lease = await waitFor(async () =>
        (await cluster(a)).leases.find((held: { name: string }) => held.name === 'connection:dc'),
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(discordGateway.connections.length, 1, 'the other node never connected');

      const holder = byName.get(lease.holder);
      assert.ok(holder, `the holder ${lease.holder} is one of the nodes`);
      const other = nodes.find((node) => node !== holder) as GatewayProcess;
      const killedAt = Date.now();
      holder.child.kill('SIGKILL');
      await holder.exited;
      await waitFor(() => (discordGateway.connections.length === 2 && openConnections() === 1 ? true : undefined), 15_000, 'a second connection');
      const tookMs = Date.now() - killedAt;
      assert.ok(tookMs <= TAKEOVER_SECONDS * 1000 + 1500, `taken over within the takeover time (${tookMs} ms)`);
      const taken = await waitFor(async () => (await cluster(other)).leases.find((held: { name: string; holder: string }) => held.name === 'connection:dc' && held.holder !== lease.holder));
      assert.notEqual(taken.holder, lease.holder);
      const channel = (await call('GET', `${other.url}/v1/channels`, { token: ADMIN_TOKEN })).json.data.find((c: { id: string }) => c.id === 'dc');
      assert.equal(channel.heldBy, taken.holder, '/v1/channels names the holder');
      assert.equal(most, 1, 'never two connections at once');
      nodes.splice(nodes.indexOf(holder), 1);
    } finally {
      clearInterval(watch);
    }
  });

  it('loses no acknowledged callback when a node is killed under load', async () => {
    const survivor = nodes[0] as GatewayProcess;
    const victim = await startNode('node-c');
    const before = new Set(deliveredIds(subscriber));
    const acked: string[] = [];
    let next = 0;
    const total = 300;
    const worker = async () => {
      while (next < total) {
        const id = String(910_000 + next);
        const target = next % 2 === 0 ? victim : survivor;
        next += 1;
        if (next === 120) victim.child.kill('SIGKILL');
        const answer = await post(target, message(id)).catch(() => null);
        if (answer?.status === 200) acked.push(id);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    await victim.exited;
    nodes.splice(nodes.indexOf(victim), 1);
    assert.ok(acked.length >= total / 2, `most callbacks were acknowledged (${acked.length})`);

    // The survivor takes up what the victim had claimed once those leases (timeout + 5 s) run out.
    await waitFor(() => {
      const delivered = new Set(deliveredIds(subscriber));
      return acked.every((id) => delivered.has(id)) ? true : undefined;
    }, 30_000, 'every acknowledged callback delivered');
    const counts = new Map<string, number>();
    for (const id of deliveredIds(subscriber)) if (!before.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const doubled = [...counts.values()].filter((count) => count > 1).length;
    assert.ok(doubled <= 8, `at most the attempts in flight at the kill were made twice (${doubled})`);
  });
});

describe('nodes with different roles on one PostgreSQL', () => {
  const dirs: string[] = [];
  const nodes: GatewayProcess[] = [];
  const subscriber = new FakeHttpServer();
  let storeUrl = '';

  async function startNode(name: string, parts: Record<string, unknown>): Promise<GatewayProcess> {
    const dir = makeTempDir();
    dirs.push(dir);
    const node = await spawnGateway(dir, {
      ...parts,
      storage: { url: storeUrl },
      cluster: { nodeId: name, takeoverSeconds: TAKEOVER_SECONDS },
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'bot-secret', timeoutMs: 1000 }],
    });
    nodes.push(node);
    return node;
  }

  before(async () => {
    storeUrl = await createTestDatabase();
    await subscriber.start();
  });

  after(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
    await subscriber.stop();
    for (const dir of dirs) removeDir(dir);
  });

  it('hands deliveries stored on a node without the delivery role to a delivery node, woken through the store', async () => {
    const receiver = await startNode('node-http', { roles: ['http'] });
    // The delivery node looks for due deliveries only at its start: only a wake-up (LISTEN/NOTIFY) brings it this one.
    const sender = await startNode('node-delivery', { roles: ['delivery'], delivery: { pollIntervalMs: 600_000 } });
    assert.equal((await call('GET', `${sender.url}/v1/events`, { token: ADMIN_TOKEN })).status, 404, 'no API without the http role');
    const view = await waitFor(async () => {
      const answer = (await call('GET', `${sender.url}/v1/cluster`, { token: ADMIN_TOKEN })).json;
      return answer.nodes.length === 2 ? answer : undefined;
    });
    assert.deepEqual(view.nodes.map((node: { id: string; roles: string[] }) => [node.id, node.roles]), [
      ['node-delivery', ['delivery']],
      ['node-http', ['http']],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const body = message('920001');
    assert.equal((await call('POST', `${receiver.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) })).status, 200);
    await waitFor(() => (deliveredIds(subscriber).includes('920001') ? true : undefined), 10_000, 'the woken delivery');
  });
});
