import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { API_TOKEN, makeTempDir, removeDir, spawnGateway, type GatewayProcess } from '../helpers/gateway.ts';
import { call, padproHeaders, waitFor } from '../helpers/http.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const SECRET = 'pull-cluster-secret';

function message(msgId: string): string {
  return JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: `cluster ${msgId}`, createTime: 1700000000 });
}

async function post(node: GatewayProcess, msgId: string): Promise<number> {
  const body = message(msgId);
  return (await call('POST', `${node.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) })).status;
}

describe('a pull subscription on two gateway processes sharing one PostgreSQL', () => {
  const dirs: string[] = [];
  const nodes: GatewayProcess[] = [];
  let storeUrl = '';

  async function startNode(name: string): Promise<GatewayProcess> {
    const dir = makeTempDir();
    dirs.push(dir);
    const node = await spawnGateway(dir, {
      storage: { url: storeUrl },
      cluster: { nodeId: name },
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }],
      subscriptions: [{ id: 'agent', pull: true }],
    });
    nodes.push(node);
    return node;
  }

  before(async () => {
    storeUrl = await createTestDatabase();
  });
  after(() => {
    for (const node of nodes) node.child.kill('SIGKILL');
    for (const dir of dirs) removeDir(dir);
  });

  it('streams to a reader on one node what the other stored, in one order, and the reader resumes on the other node', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    const received: { cursor: string; platformId: string }[] = [];
    const source = new EventSource(`${b.url}/v1/subscriptions/agent/stream`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization: `Bearer ${API_TOKEN}` } }),
    });
    source.addEventListener('imgate.event', (event) => {
      received.push({ cursor: event.lastEventId, platformId: JSON.parse(event.data).message.platformId });
    });
    try {
      await waitFor(() => (source.readyState === EventSource.OPEN ? true : undefined), 10_000, 'the stream to open');
      // Both nodes store at once: one stream, numbered without a gap whichever node committed.
      const ids = Array.from({ length: 40 }, (_, i) => String(7000 + i));
      await Promise.all(ids.map((id, i) => post(i % 2 === 0 ? a : b, id).then((status) => assert.equal(status, 200))));
      await waitFor(() => (received.length >= ids.length ? true : undefined), 15_000, 'every event on node b');
      assert.deepEqual(
        received.map((entry) => entry.cursor),
        ids.map((_, i) => String(i + 1)),
      );
      assert.deepEqual(received.map((entry) => entry.platformId).sort(), [...ids].sort());
    } finally {
      source.close();
    }

    // The reader moves to node a with the last cursor it had, and gets only what came after it.
    assert.equal(await post(b, '7999'), 200);
    const resumed = await call('GET', `${a.url}/v1/subscriptions/agent/events?after=40&wait=10`, { token: API_TOKEN });
    assert.deepEqual(
      resumed.json.data.map((entry: any) => [entry.cursor, entry.event.message.platformId]),
      [['41', '7999']],
    );

    // A long poll on one node is woken by a commit on the other (NOTIFY), not by its 5 s look-again.
    const poll = call('GET', `${b.url}/v1/subscriptions/agent/events?after=41&wait=30`, { token: API_TOKEN });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const postedAt = Date.now();
    assert.equal(await post(a, '7998'), 200);
    const woken = await poll;
    const waited = Date.now() - postedAt;
    assert.deepEqual(
      woken.json.data.map((entry: any) => entry.event.message.platformId),
      ['7998'],
    );
    assert.ok(waited < 2500, `answered ${waited} ms after the other node stored the event`);
  });
});
