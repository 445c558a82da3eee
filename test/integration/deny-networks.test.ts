import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'deny-networks-secret-7a8b';
const REFUSED = 'connection to 127.0.0.1 refused: delivery.denyNetworks includes it';

describe('delivery.denyNetworks', () => {
  let gw: TestGateway;
  const subscriber = new FakeHttpServer();

  before(async () => {
    await subscriber.start();
    const port = new URL(subscriber.url).port;
    gw = await startTestGateway({
      channels: [{ id: 'pad', platform: 'wechat-pad', secret: SECRET, botWxid: 'wxid_bot' }],
      // By name: what counts is the address `localhost` resolves to when the attempt connects.
      subscriptions: [{ id: 'internal', url: `http://localhost:${port}/in`, secret: 'internal-secret-1', retry: { schedule: [60] } }],
      delivery: { denyNetworks: ['127.0.0.0/8', '::1/128'] },
    });
  });

  after(async () => {
    await gw.close();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  it('records an attempt to a denied address as failed, naming the address and the setting, and sends nothing', async () => {
    const body = JSON.stringify({ msgId: '4242001', fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: 'hi', createTime: Math.floor(Date.now() / 1000) });
    const answer = await call('POST', `${gw.url}/hooks/pad`, { body, headers: padproHeaders(SECRET, body) });
    assert.equal(answer.status, 200, answer.text);
    const delivery = await waitFor(async () => {
      const [first] = (await admin('GET', `${gw.url}/v1/deliveries`)).json.data as { id: string; attempts: number }[];
      return first && first.attempts > 0 ? (await admin('GET', `${gw.url}/v1/deliveries/${first.id}`)).json : undefined;
    }, 10_000, 'the first attempt');
    assert.equal(delivery.status, 'pending', 'retried later: the setting may change');
    assert.deepEqual(
      delivery.attemptLog.map((attempt: { statusCode: number | null; error: string }) => [attempt.statusCode, attempt.error]),
      [[null, REFUSED]],
    );
    assert.equal(subscriber.requests.length, 0);
  });

  it('refuses a test delivery the same way', async () => {
    const tested = await admin('POST', `${gw.url}/v1/subscriptions/internal/test`);
    assert.equal(tested.status, 200, tested.text);
    assert.equal(tested.json.attempt.statusCode, null);
    assert.equal(tested.json.attempt.error, REFUSED);
    assert.equal(subscriber.requests.length, 0);
  });
});
