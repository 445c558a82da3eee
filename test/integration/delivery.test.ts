import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { ADMIN_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'delivery-test-secret-1a2b3c';

let counter = 0;
function nextBody(overrides: Record<string, unknown> = {}): string {
  counter += 1;
  return JSON.stringify({
    msgId: `77${Date.now()}${counter}`,
    timestamp: Math.floor(Date.now() / 1000),
    fromUser: 'wxid_alice',
    toUser: 'wxid_bot',
    msgType: 1,
    content: `message ${counter}`,
    isSelfMsg: false,
    createTime: Math.floor(Date.now() / 1000),
    ...overrides,
  });
}

async function postInbound(gw: TestGateway, channel: string, body = nextBody()): Promise<string> {
  const answer = await call('POST', `${gw.url}/hooks/${channel}`, { body, headers: padproHeaders(SECRET, body) });
  assert.equal(answer.status, 200, answer.text);
  return body;
}

async function deliveriesFor(gw: TestGateway, subscriptionId: string): Promise<any[]> {
  const all = (await admin('GET', `${gw.url}/v1/deliveries?limit=500`)).json.data as any[];
  return all.filter((d) => d.subscriptionId === subscriptionId);
}

describe('delivery to subscribers', () => {
  let gw: TestGateway;
  const rawSub = new FakeHttpServer();
  const padSub = new FakeHttpServer();
  const flaky = new FakeHttpServer();
  const polite = new FakeHttpServer();
  const gone = new FakeHttpServer(() => ({ status: 410 }));
  const doomed = new FakeHttpServer(() => ({ status: 500, body: 'broken' }));
  const slow = new FakeHttpServer();
  const fast = new FakeHttpServer();
  const mentionsOnly = new FakeHttpServer();
  const servers = [rawSub, padSub, flaky, polite, gone, doomed, slow, fast, mentionsOnly];

  before(async () => {
    await Promise.all(servers.map((s) => s.start()));
    const sub = (id: string, server: FakeHttpServer, channel: string, extra: Record<string, unknown> = {}) => ({
      id,
      url: `${server.url}/in`,
      secret: `${id}-secret`,
      channels: [channel],
      ...extra,
    });
    gw = await startTestGateway({
      channels: ['raw', 'pad', 'flaky', 'polite', 'gone', 'doomed', 'slowfast', 'filters'].map((id) => ({
        id,
        platform: 'wechat-pad',
        secret: SECRET,
        botWxid: 'wxid_bot',
      })),
      subscriptions: [
        sub('raw', rawSub, 'raw', { signing: 'abot', format: 'raw' }),
        sub('pad', padSub, 'pad', { signing: 'padpro', format: 'raw' }),
        sub('flaky', flaky, 'flaky', { retry: { schedule: [0.5, 0.5, 0.5] } }),
        sub('polite', polite, 'polite', { retry: { schedule: [0.1, 0.1] } }),
        sub('gone', gone, 'gone'),
        sub('doomed', doomed, 'doomed', { retry: { schedule: [0.1] } }),
        sub('slow', slow, 'slowfast', { timeoutMs: 3000, retry: { schedule: [] } }),
        sub('fast', fast, 'slowfast'),
        sub('mentions', mentionsOnly, 'filters', { groups: 'mention', messageTypes: [1] }),
      ],
    });
  });

  after(async () => {
    await gw.close();
    await Promise.all(servers.map((s) => s.stop()));
    removeDir(gw.dir);
  });

  it('delivers the exact received bytes with an abot signature that node:crypto verifies', async () => {
    // Odd spacing and key order: a re-serialized body would not match byte for byte.
    const body = `{ "msgId":"88001",  "fromUser":"wxid_alice","toUser":"wxid_bot","msgType":1,"content":"raw \\u4f60\\u597d","createTime":${Math.floor(Date.now() / 1000)} }`;
    await postInbound(gw, 'raw', body);
    await rawSub.waitForRequests(1);
    const delivered = rawSub.requests[0]!;
    assert.equal(delivered.body.toString('utf8'), body);
    const expected = createHmac('sha256', 'raw-secret').update(delivered.body).digest('hex');
    assert.equal(delivered.headers['x-wechat-abot-signature'], `sha256=${expected}`);
  });

  it('signs padpro deliveries over timestamp:body, verified with node:crypto', async () => {
    const body = await postInbound(gw, 'pad');
    await padSub.waitForRequests(1);
    const delivered = padSub.requests[0]!;
    const timestamp = delivered.headers['x-webhook-timestamp'] as string;
    assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60);
    const expected = createHmac('sha256', 'pad-secret').update(`${timestamp}:${body}`).digest('hex');
    assert.equal(delivered.headers['x-webhook-signature'], expected);
  });

  it('retries a subscriber answering 503 twice and delivers on the third attempt, recording all three', async () => {
    flaky.respondWith({ status: 503, body: 'down' }, { status: 503, body: 'still down' });
    await postInbound(gw, 'flaky');
    await flaky.waitForRequests(3);
    const [delivery] = await deliveriesFor(gw, 'flaky');
    const detail = await waitFor(async () => {
      const d = (await admin('GET', `${gw.url}/v1/deliveries/${delivery.id}`)).json;
      return d.status === 'succeeded' ? d : undefined;
    });
    assert.equal(detail.attempts, 3);
    assert.deepEqual(detail.attemptLog.map((a: any) => a.statusCode), [503, 503, 200]);
    assert.equal(detail.attemptLog[0].responseBody, 'down');
    const ids = new Set(flaky.requests.map((r) => r.headers['webhook-id']));
    assert.equal(ids.size, 1, 'webhook-id is stable across retries');
  });

  it('honours Retry-After over the retry schedule', async () => {
    polite.respondWith({ status: 429, headers: { 'retry-after': '2' } });
    await postInbound(gw, 'polite');
    await polite.waitForRequests(2, 10_000);
    const gap = polite.requests[1]!.at - polite.requests[0]!.at;
    assert.ok(gap >= 1900, `the retry came ${gap} ms after the 429; Retry-After asked for 2 s`);
  });

  it('disables a subscription that answers 410 Gone', async () => {
    await postInbound(gw, 'gone');
    await gone.waitForRequests(1);
    const sub = await waitFor(async () => {
      const s = (await admin('GET', `${gw.url}/v1/subscriptions/gone`)).json;
      return s.enabled === false ? s : undefined;
    });
    assert.equal(sub.enabled, false);
    const [delivery] = await deliveriesFor(gw, 'gone');
    assert.equal(delivery.status, 'dead');
  });

  it('dead-letters after the last attempt, and a replay delivers it again', async () => {
    await postInbound(gw, 'doomed');
    const dead = await waitFor(async () => (await deliveriesFor(gw, 'doomed')).find((d) => d.status === 'dead'));
    assert.equal(dead.attempts, 2);
    // Replayed while the subscriber still fails: the whole retry schedule again, then dead again.
    assert.equal((await call('POST', `${gw.url}/v1/deliveries/${dead.id}/replay`, { token: ADMIN_TOKEN })).status, 202);
    const deadAgain = await waitFor(async () => {
      const d = (await admin('GET', `${gw.url}/v1/deliveries/${dead.id}`)).json;
      return d.status === 'dead' && d.attempts === 4 ? d : undefined;
    });
    assert.equal(deadAgain.replayedAtAttempt, 2);
    doomed.setDefault(() => ({ status: 200 }));
    const replay = await call('POST', `${gw.url}/v1/deliveries/${dead.id}/replay`, { token: ADMIN_TOKEN });
    assert.equal(replay.status, 202);
    const done = await waitFor(async () => {
      const d = (await admin('GET', `${gw.url}/v1/deliveries/${dead.id}`)).json;
      return d.status === 'succeeded' ? d : undefined;
    });
    assert.equal(done.replayedAtAttempt, 4);
    assert.deepEqual(
      done.attemptLog.map((a: any) => [a.attempt, a.statusCode]),
      [[1, 500], [2, 500], [3, 500], [4, 500], [5, 200]],
      'the attempt log is kept, and numbers go on across replays',
    );
  });

  it('replays dead letters in bulk, by subscription and since a time', async () => {
    doomed.setDefault(() => ({ status: 500, body: 'broken again' }));
    await postInbound(gw, 'doomed');
    const dead = await waitFor(async () => (await deliveriesFor(gw, 'doomed')).find((d) => d.status === 'dead'));
    const later = new Date(Date.now() + 60_000).toISOString();
    assert.deepEqual((await admin('POST', `${gw.url}/v1/deliveries/replay`, { subscription: 'doomed', since: later })).json, { replayed: 0 });
    const refused = await admin('POST', `${gw.url}/v1/deliveries/replay`, { subscription: 'doomed', status: 'succeeded' });
    assert.equal(refused.status, 400);
    doomed.setDefault(() => ({ status: 200 }));
    const replay = await admin('POST', `${gw.url}/v1/deliveries/replay`, { subscription: 'doomed' });
    assert.equal(replay.status, 200, replay.text);
    assert.deepEqual(replay.json, { replayed: 1 });
    await waitFor(async () => ((await admin('GET', `${gw.url}/v1/deliveries/${dead.id}`)).json.status === 'succeeded' ? true : undefined));
  });

  it('does not let a slow subscriber hold up another', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    slow.respondWith({ status: 200, wait: held });
    await postInbound(gw, 'slowfast');
    await slow.waitForRequests(1);
    // The slow subscriber has the event and has not answered; the fast one gets it all the same.
    await fast.waitForRequests(1);
    const [delivery] = await deliveriesFor(gw, 'slow');
    const replay = await call('POST', `${gw.url}/v1/deliveries/${delivery.id}/replay`, { token: ADMIN_TOKEN });
    assert.equal(replay.status, 409, 'a delivery in flight is not replayed');
    assert.equal(replay.json.error.code, 'IMG_ERR_DELIVERY_IN_FLIGHT');
    release();
    await waitFor(async () => ((await admin('GET', `${gw.url}/v1/deliveries/${delivery.id}`)).json.status === 'succeeded' ? true : undefined));
  });

  it('filters group messages without a mention and other message types', async () => {
    const room = '999@chatroom';
    await postInbound(gw, 'filters', nextBody({ fromUser: room, content: 'wxid_x:\nno mention here' }));
    await postInbound(gw, 'filters', nextBody({ fromUser: 'wxid_alice', msgType: 3, content: '<msg><img/></msg>' }));
    await postInbound(gw, 'filters', nextBody({ fromUser: 'wxid_alice', content: 'a direct text' }));
    await postInbound(gw, 'filters', nextBody({ fromUser: 'wxid_bot', toUser: 'wxid_alice', isSelfMsg: true, content: 'my own' }));
    await mentionsOnly.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(mentionsOnly.requests.length, 1);
    assert.equal(JSON.parse(mentionsOnly.requests[0]!.body.toString()).message.text, 'a direct text');
  });
});
