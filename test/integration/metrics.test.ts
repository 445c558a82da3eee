import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeDingtalkStream } from '../helpers/fake-dingtalk-stream.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call, padproHeaders, waitFor } from '../helpers/http.ts';
import { APP_KEY, APP_SECRET, FakeDingtalkApi } from '../platforms/dingtalk/helpers.ts';

const SECRET = 'metrics-pad-secret-1a2b';
const METRICS_TOKEN = 'metrics-token-0123456789';

/** One sample's value from Prometheus text (0 when the series is absent); labels must match exactly. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (given === wanted) return Number(match[3]);
  }
  return 0;
}

let counter = 0;
function padCallback(): string {
  counter += 1;
  return JSON.stringify({ msgId: `77${Date.now()}${counter}`, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: 'hi', createTime: Math.floor(Date.now() / 1000) });
}

describe('GET /metrics', () => {
  let gw: TestGateway;
  const happy = new FakeHttpServer();
  const broken = new FakeHttpServer(() => ({ status: 500, body: 'down' }));
  const padApi = new FakeHttpServer(() => ({ status: 200, body: '{"Code":200,"Data":[{"isSendSuccess":true,"resp":{"NewMsgId":1},"toUSerName":"wxid_bob"}],"Text":""}' }));
  const dingApi = new FakeDingtalkApi();
  const stream = new FakeDingtalkStream();
  const scrape = async () => {
    const answer = await call('GET', `${gw.url}/metrics`, { token: METRICS_TOKEN });
    assert.equal(answer.status, 200, answer.text);
    return answer.text;
  };

  before(async () => {
    await Promise.all([happy.start(), broken.start(), padApi.start(), dingApi.start(), stream.start()]);
    dingApi.route('/v1.0/gateway/connections/open', () => ({ status: 200, body: { endpoint: stream.endpoint, ticket: stream.issueTicket() } }));
    gw = await startTestGateway({
      channels: [
        { id: 'pad', platform: 'wechat-pad', secret: SECRET, botWxid: 'wxid_bot', apiBase: padApi.url, key: 'pad-key-1' },
        { id: 'ding', platform: 'dingtalk', mode: 'stream', apiBase: dingApi.url, appKey: APP_KEY, appSecret: APP_SECRET, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
      ],
      subscriptions: [
        { id: 'happy', url: `${happy.url}/in`, secret: 'happy-secret-1', channels: ['pad'] },
        { id: 'broken', url: `${broken.url}/in`, secret: 'broken-secret-1', channels: ['pad'], retry: { schedule: [] } },
      ],
      metrics: { token: METRICS_TOKEN },
    });
  });

  after(async () => {
    await gw.close();
    await Promise.all([happy.stop(), broken.stop(), padApi.stop(), dingApi.stop(), stream.stop()]);
    removeDir(gw.dir);
  });

  it('asks for metrics.token, and answers Prometheus text with Node process metrics', async () => {
    assert.equal((await call('GET', `${gw.url}/metrics`)).status, 401);
    assert.equal((await call('GET', `${gw.url}/metrics`, { token: 'not-the-metrics-token' })).status, 401);
    const answer = await call('GET', `${gw.url}/metrics`, { token: METRICS_TOKEN });
    assert.equal(answer.status, 200);
    // The scheme is case-insensitive (RFC 9110 section 11.1), as on the API routes.
    assert.equal((await call('GET', `${gw.url}/metrics`, { headers: { authorization: `bearer ${METRICS_TOKEN}` } })).status, 200);
    assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.ok(sample(answer.text, 'process_cpu_user_seconds_total') > 0);
    assert.ok(sample(answer.text, 'nodejs_heap_size_used_bytes') > 0);
  });

  it('counts callbacks by channel and status, stored events and duplicates', async () => {
    const body = padCallback();
    for (let i = 0; i < 2; i += 1) {
      assert.equal((await call('POST', `${gw.url}/hooks/pad`, { body, headers: padproHeaders(SECRET, body) })).status, 200);
    }
    assert.equal((await call('POST', `${gw.url}/hooks/pad`, { body, headers: padproHeaders('wrong-secret', body) })).status, 401);
    assert.equal((await call('POST', `${gw.url}/hooks/no-such-channel-${Date.now()}`, { body })).status, 404);
    const text = await scrape();
    assert.equal(sample(text, 'imgate_inbound_requests_total', { channel: 'pad', status: '200' }), 2);
    assert.equal(sample(text, 'imgate_inbound_requests_total', { channel: 'pad', status: '401' }), 1);
    assert.equal(sample(text, 'imgate_inbound_requests_total', { channel: '_unknown', status: '404' }), 1, 'an unknown id never becomes a label');
    assert.equal(sample(text, 'imgate_events_stored_total', { channel: 'pad' }), 1);
    assert.equal(sample(text, 'imgate_events_duplicate_total', { channel: 'pad' }), 1);
  });

  it('counts delivery attempts by outcome, times them, and shows dead letters per subscription', async () => {
    const text = await waitFor(async () => {
      const current = await scrape();
      return sample(current, 'imgate_deliveries_dead', { subscription: 'broken' }) === 1 ? current : undefined;
    }, 10_000, 'the broken delivery dead-lettered');
    assert.equal(sample(text, 'imgate_delivery_attempts_total', { subscription: 'happy', outcome: 'succeeded' }), 1);
    assert.equal(sample(text, 'imgate_delivery_attempts_total', { subscription: 'broken', outcome: 'failed' }), 1);
    assert.equal(sample(text, 'imgate_delivery_attempt_duration_seconds_count', { subscription: 'happy' }), 1);
    assert.equal(sample(text, 'imgate_deliveries_pending', { subscription: 'happy' }), 0);
    assert.equal(sample(text, 'imgate_deliveries_dead', { subscription: 'happy' }), 0);
  });

  it('shows deliveries not yet made as pending', async () => {
    happy.respondWith({ status: 503, wait: new Promise((resolve) => setTimeout(resolve, 1500)) });
    const body = padCallback();
    assert.equal((await call('POST', `${gw.url}/hooks/pad`, { body, headers: padproHeaders(SECRET, body) })).status, 200);
    await happy.waitForRequests(2);
    assert.equal(sample(await scrape(), 'imgate_deliveries_pending', { subscription: 'happy' }), 1);
  });

  it('counts sends by channel and status', async () => {
    assert.equal((await call('POST', `${gw.url}/v1/messages`, { body: { channel: 'pad', to: 'wxid_bob', text: 'hello' }, token: API_TOKEN })).status, 200);
    padApi.respondWith({ status: 500, body: 'pad server down' });
    const failed = await call('POST', `${gw.url}/v1/messages`, { body: { channel: 'pad', to: 'wxid_bob', text: 'hello' }, token: API_TOKEN });
    const text = await scrape();
    assert.equal(sample(text, 'imgate_sends_total', { channel: 'pad', status: '200' }), 1);
    assert.equal(sample(text, 'imgate_sends_total', { channel: 'pad', status: String(failed.status) }), 1, failed.text);
  });

  it('shows a long connection up, and down once it drops', async () => {
    await waitFor(async () => (sample(await scrape(), 'imgate_long_connection_up', { channel: 'ding' }) === 1 ? true : undefined), 10_000, 'connected');
    assert.equal(sample(await scrape(), 'imgate_long_connection_up', { channel: 'pad' }), 0, 'absent: pad has no long connection');
    assert.ok(!(await scrape()).includes('imgate_long_connection_up{channel="pad"}'));
    dingApi.route('/v1.0/gateway/connections/open', () => ({ status: 503, body: { code: 'ServiceUnavailable' } }));
    stream.drop();
    await waitFor(async () => (sample(await scrape(), 'imgate_long_connection_up', { channel: 'ding' }) === 0 ? true : undefined), 10_000, 'down');
  });
});
