import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { API_TOKEN, makeTempDir, removeDir, spawnGateway, startTestGateway, type GatewayProcess, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'pull-test-secret';
const WX_KEY = 'pull-test-wx-key-0123456789';
const OTHER_KEY = 'pull-test-other-key-0123456789';

const channels = [
  { id: 'wx', platform: 'wechat-pad', secret: SECRET },
  { id: 'other', platform: 'wechat-pad', secret: SECRET },
];
const apiKeys = [
  { id: 'all', token: API_TOKEN, channels: ['*'] },
  { id: 'wx-only', token: WX_KEY, channels: ['wx'] },
  { id: 'other-only', token: OTHER_KEY, channels: ['other'] },
];
const subscriptions = [
  { id: 'agent', pull: true, channels: ['wx'] },
  { id: 'hook', url: 'http://127.0.0.1:9/unused', secret: 'hook-secret', channels: ['other'] },
];

function message(msgId: string, content = `pull ${msgId}`): string {
  return JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content, createTime: 1700000000 });
}

async function post(baseUrl: string, msgId: string, content?: string): Promise<number> {
  const body = message(msgId, content);
  return (await call('POST', `${baseUrl}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) })).status;
}

/** An EventSource (the `eventsource` package) that sends a bearer token, collecting what it receives. */
function openEventSource(url: string, token: string) {
  const received: { id: string; platformId: string; type: string }[] = [];
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization: `Bearer ${token}` } }),
  });
  source.addEventListener('imgate.event', (event) => {
    const unified = JSON.parse(event.data) as { message: { platformId: string } };
    received.push({ id: event.lastEventId, platformId: unified.message.platformId, type: event.type });
  });
  return { source, received };
}

/** An SSE response read by hand, to see comments and to stop reading at will. */
function openRawStream(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, resolve);
    req.on('error', reject);
    req.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(line, 'VmRSS in /proc');
  return Number(line[1]) / 1024;
}

describe('pull subscriptions (SQLite, one process)', () => {
  let gateway: TestGateway;
  let stream = '';

  before(async () => {
    gateway = await startTestGateway({ server: { streamHeartbeatMs: 1000 }, channels, apiKeys, subscriptions });
    stream = `${gateway.url}/v1/subscriptions/agent/stream`;
  });
  after(async () => {
    await gateway.close();
    removeDir(gateway.dir);
  });

  it('streams events to an EventSource in the order stored, and resumes after Last-Event-ID', async () => {
    const { source, received } = openEventSource(stream, WX_KEY);
    try {
      await waitFor(() => (source.readyState === EventSource.OPEN ? true : undefined), 5000, 'the stream to open');
      for (const id of ['1001', '1002', '1003', '1004', '1005']) assert.equal(await post(gateway.url, id), 200);
      await waitFor(() => (received.length >= 5 ? true : undefined), 5000, 'five events');
      assert.deepEqual(received, ['1001', '1002', '1003', '1004', '1005'].map((platformId, i) => ({ id: String(i + 1), platformId, type: 'imgate.event' })));
    } finally {
      source.close();
    }

    for (const id of ['1006', '1007']) assert.equal(await post(gateway.url, id), 200);
    const response = await openRawStream(stream, { authorization: `Bearer ${WX_KEY}`, 'last-event-id': '5' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    let text = '';
    response.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await waitFor(() => (text.includes('id: 7\n') ? true : undefined), 5000, 'the events after cursor 5');
    response.destroy();
    assert.deepEqual([...text.matchAll(/^id: (\d+)$/gm)].map((match) => match[1]), ['6', '7']);
    assert.match(text, /^retry: \d+$/m);
    // Resuming after cursor 5 acknowledged everything up to it.
    const described = (await admin('GET', `${gateway.url}/v1/subscriptions/agent`)).json;
    assert.equal(described.pull, true);
    assert.equal(described.url, null);
    assert.deepEqual(described.stream, { ackedCursor: '5', headCursor: '7' });
  });

  it('refuses a reader without a token, with a key of another channel, of a webhook subscription, or with a cursor past the stream', async () => {
    const missing = await call('GET', stream);
    assert.equal(missing.status, 401);
    const otherKey = await call('GET', stream, { token: OTHER_KEY });
    assert.equal(otherKey.status, 403);
    assert.equal(otherKey.json.error.code, 'IMG_ERR_AUTH_SCOPE');
    const webhook = await call('GET', `${gateway.url}/v1/subscriptions/hook/events`, { token: API_TOKEN });
    assert.equal(webhook.status, 400);
    assert.match(webhook.json.error.message, /delivers webhooks/);
    const future = await call('GET', `${gateway.url}/v1/subscriptions/agent/events?after=999`, { token: WX_KEY });
    assert.equal(future.status, 400);
    assert.match(future.json.error.message, /past the newest event/);
    const garbage = await call('GET', `${gateway.url}/v1/subscriptions/agent/events?after=abc`, { token: WX_KEY });
    assert.equal(garbage.status, 400);
    assert.equal((await call('GET', `${gateway.url}/v1/subscriptions/nope/events`, { token: API_TOKEN })).status, 404);
    assert.equal((await call('GET', `${gateway.url}/v1/subscriptions/nope/events`)).status, 401, 'no token: nothing said about which ids exist');
  });

  it('sends a comment line while the stream is idle', async () => {
    const head = (await admin('GET', `${gateway.url}/v1/subscriptions/agent`)).json.stream.headCursor as string;
    const response = await openRawStream(`${stream}?after=${head}`, { authorization: `Bearer ${WX_KEY}` });
    let text = '';
    response.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await waitFor(() => ((text.match(/^: keep-alive$/gm) ?? []).length >= 2 ? true : undefined), 5000, 'two heartbeats');
    response.destroy();
    assert.doesNotMatch(text, /^id: /m, 'no event while idle');
  });

  it('streams over a WebSocket from ?after=, and stores the acknowledgements the client sends', async () => {
    const head = (await admin('GET', `${gateway.url}/v1/subscriptions/agent`)).json.stream.headCursor as string;
    const socket = new WebSocket(`${stream.replace('http:', 'ws:')}?after=${head}`, { headers: { authorization: `Bearer ${WX_KEY}` } });
    const frames: { cursor: string; event: { message: { platformId: string } } }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    for (const id of ['2001', '2002']) assert.equal(await post(gateway.url, id), 200);
    await waitFor(() => (frames.length >= 2 ? true : undefined), 5000, 'two frames');
    assert.deepEqual(
      frames.map((frame) => [frame.cursor, frame.event.message.platformId]),
      [
        [String(Number(head) + 1), '2001'],
        [String(Number(head) + 2), '2002'],
      ],
    );
    socket.send(JSON.stringify({ ack: frames[1]!.cursor }));
    await waitFor(async () => {
      const described = (await admin('GET', `${gateway.url}/v1/subscriptions/agent`)).json;
      return described.stream.ackedCursor === frames[1]!.cursor ? true : undefined;
    }, 5000, 'the acknowledgement');

    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send('not an ack');
    assert.equal(await closed, 1008);
  });

  it('refuses a WebSocket upgrade with the reason, as an HTTP answer', async () => {
    const socket = new WebSocket(stream.replace('http:', 'ws:'), { headers: { authorization: `Bearer ${OTHER_KEY}` } });
    const status = await new Promise<number>((resolve, reject) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => reject(new Error('the upgrade should have been refused')));
    });
    assert.equal(status, 403);
  });

  it('answers a long poll as soon as an event is stored, woken by the commit', async () => {
    const head = (await admin('GET', `${gateway.url}/v1/subscriptions/agent`)).json.stream.headCursor as string;
    const poll = call('GET', `${gateway.url}/v1/subscriptions/agent/events?after=${head}&wait=30`, { token: WX_KEY });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const postedAt = Date.now();
    assert.equal(await post(gateway.url, '3001'), 200);
    const answer = await poll;
    const waited = Date.now() - postedAt;
    assert.equal(answer.status, 200);
    assert.deepEqual(
      answer.json.data.map((entry: any) => [entry.cursor, entry.event.message.platformId]),
      [[String(Number(head) + 1), '3001']],
    );
    assert.equal(answer.json.next, String(Number(head) + 1));
    // The store is looked at again every 5 s without a wake-up: an answer well before that was woken.
    assert.ok(waited < 2500, `answered ${waited} ms after the event was stored`);

    const empty = await call('GET', `${gateway.url}/v1/subscriptions/agent/events?after=${answer.json.next}`, { token: WX_KEY });
    assert.deepEqual(empty.json, { data: [], next: answer.json.next });
    // Without a cursor a reader starts after the last acknowledged one, which that poll moved on.
    const fromAcked = await call('GET', `${gateway.url}/v1/subscriptions/agent/events`, { token: API_TOKEN });
    assert.deepEqual(fromAcked.json, { data: [], next: answer.json.next });
  });

  it('shows an API key only the events of its channels, also those stored before the subscription was narrowed', async () => {
    const created = await admin('POST', `${gateway.url}/v1/subscriptions`, { id: 'wide', pull: true });
    assert.equal(created.status, 201, created.text);
    assert.equal(await post(gateway.url, '4001'), 200);
    const other = message('4002');
    assert.equal((await call('POST', `${gateway.url}/hooks/other`, { body: other, headers: padproHeaders(SECRET, other) })).status, 200);
    const narrowed = await admin('PUT', `${gateway.url}/v1/subscriptions/wide`, { pull: true, channels: ['wx'] });
    assert.equal(narrowed.status, 200, narrowed.text);

    const byKey = await call('GET', `${gateway.url}/v1/subscriptions/wide/events?after=0`, { token: WX_KEY });
    assert.deepEqual(
      byKey.json.data.map((entry: any) => entry.event.message.platformId),
      ['4001'],
    );
    assert.equal(byKey.json.next, '2', 'the cursor moves past what the key may not see');
    const byAdmin = await admin('GET', `${gateway.url}/v1/subscriptions/wide/events?after=0`);
    assert.deepEqual(
      byAdmin.json.data.map((entry: any) => entry.event.channel),
      ['wx', 'other'],
    );

    const switched = await admin('PUT', `${gateway.url}/v1/subscriptions/wide`, { url: 'http://127.0.0.1:9/x', secret: 'a-secret' });
    assert.equal(switched.status, 400);
    assert.match(switched.json.error.message, /is a pull subscription; create a new one instead/);
  });

  it('puts a test event into the stream of a pull subscription', async () => {
    const head = (await admin('GET', `${gateway.url}/v1/subscriptions/agent`)).json.stream.headCursor as string;
    const test = await admin('POST', `${gateway.url}/v1/subscriptions/agent/test`);
    assert.equal(test.status, 200);
    assert.equal(test.json.deliveryId, null);
    const polled = await call('GET', `${gateway.url}/v1/subscriptions/agent/events?after=${head}`, { token: WX_KEY });
    assert.equal(polled.json.data[0].event.id, test.json.eventId);
    assert.equal(polled.json.data[0].event.type, 'system');
  });
});

describe('pull subscriptions across a SIGKILL, and a reader that stops reading (the gateway as its own process)', () => {
  const dirs: string[] = [];
  const children: GatewayProcess[] = [];

  async function start(dir: string, port: number): Promise<GatewayProcess> {
    const gateway = await spawnGateway(dir, { channels, apiKeys, subscriptions }, port);
    children.push(gateway);
    return gateway;
  }

  after(() => {
    for (const child of children) child.child.kill('SIGKILL');
    for (const dir of dirs) removeDir(dir);
  });

  it('gives an EventSource that reconnects by itself every stored event exactly once, across a SIGKILL mid-stream', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const port = await freePort();
    let gateway = await start(dir, port);
    const { source, received } = openEventSource(`${gateway.url}/v1/subscriptions/agent/stream`, WX_KEY);
    try {
      const ids = Array.from({ length: 300 }, (_, i) => String(5000 + i));
      const acknowledged = new Set<string>();
      // Four posters until the reader is well into the stream, then the gateway is killed under them.
      let killed = false;
      const posters = [0, 1, 2, 3].map(async (lane) => {
        for (let i = lane; i < ids.length && !killed; i += 4) {
          const status = await post(gateway.url, ids[i]!).catch(() => 0);
          if (status === 200) acknowledged.add(ids[i]!);
        }
      });
      await waitFor(() => (received.length >= 50 ? true : undefined), 20_000, 'the reader to be into the stream');
      killed = true;
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      await Promise.all(posters);
      const receivedBeforeKill = received.length;

      gateway = await start(dir, port);
      // What was not acknowledged is posted again (a platform retries); what was stored is a duplicate.
      for (const id of ids) if (!acknowledged.has(id)) assert.equal(await post(gateway.url, id), 200);
      await waitFor(() => (received.length >= ids.length ? true : undefined), 30_000, 'every event after the restart');
      await new Promise((resolve) => setTimeout(resolve, 300));

      assert.ok(receivedBeforeKill < ids.length, 'the gateway was killed mid-stream');
      const platformIds = received.map((event) => event.platformId);
      assert.equal(new Set(platformIds).size, platformIds.length, 'nothing twice');
      assert.deepEqual([...platformIds].sort(), [...ids].sort(), 'nothing lost');
      assert.deepEqual(
        received.map((event) => event.id),
        ids.map((_, i) => String(i + 1)),
        'in the order stored',
      );
    } finally {
      source.close();
    }
  });

  it('does not grow its memory for a reader that stopped reading, and that reader gets everything once it reads again', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const gateway = await start(dir, 0);
    const pid = gateway.child.pid as number;
    const count = 10_000;
    const content = 'x'.repeat(6000);
    const response = await openRawStream(`${gateway.url}/v1/subscriptions/agent/stream`, { authorization: `Bearer ${API_TOKEN}` });
    response.pause();
    const rssBefore = rssMiB(pid);

    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) {
          const id = String(100_000 + next++);
          assert.equal(await post(gateway.url, id, content), 200);
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const grewMiB = rssMiB(pid) - rssBefore;
    const queuedMiB = (count * content.length) / 1024 / 1024;
    process.stdout.write(`# RSS grew ${grewMiB.toFixed(1)} MiB while ${queuedMiB.toFixed(0)} MiB of events waited for a reader that stopped\n`);
    assert.ok(grewMiB < queuedMiB / 2, `RSS grew ${grewMiB.toFixed(1)} MiB with ${queuedMiB.toFixed(0)} MiB queued`);

    let ids = 0;
    let tail = '';
    response.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString();
      const lines = text.split('\n');
      tail = lines.pop() ?? '';
      ids += lines.filter((line) => line.startsWith('id: ')).length;
    });
    response.resume();
    await waitFor(() => (ids >= count ? true : undefined), 60_000, 'every queued event');
    response.destroy();
    assert.equal(ids, count);
  });
});
