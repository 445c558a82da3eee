import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'gone-test-secret-4d5e6f';
const CHANNELS = ['moved', 'edited', 'unchanged'];

let counter = 0;
async function postInbound(gw: TestGateway, channel: string): Promise<void> {
  counter += 1;
  const body = JSON.stringify({
    msgId: `99${Date.now()}${counter}`,
    fromUser: 'wxid_alice',
    toUser: 'wxid_bot',
    msgType: 1,
    content: `gone ${counter}`,
    createTime: Math.floor(Date.now() / 1000),
  });
  const answer = await call('POST', `${gw.url}/hooks/${channel}`, { body, headers: padproHeaders(SECRET, body) });
  assert.equal(answer.status, 200, answer.text);
}

/** A subscriber whose next answer is a 410, held back until `release` is called. */
function goneOnRelease(server: FakeHttpServer): () => void {
  let release: () => void = () => undefined;
  server.respondWith({ status: 410, wait: new Promise<void>((resolve) => (release = resolve)) });
  return () => release();
}

async function onlyDelivery(gw: TestGateway, subscriptionId: string, status: string): Promise<any> {
  return waitFor(async () => {
    const all = (await admin('GET', `${gw.url}/v1/deliveries?limit=500`)).json.data as any[];
    const delivery = all.find((d) => d.subscriptionId === subscriptionId && d.status === status);
    return delivery ? (await admin('GET', `${gw.url}/v1/deliveries/${delivery.id}`)).json : undefined;
  }, 10_000, `a ${status} delivery to ${subscriptionId}`);
}

describe('a 410 Gone from a subscriber', () => {
  let gw: TestGateway;
  const servers = Array.from({ length: 4 }, () => new FakeHttpServer());
  const [movedOld, movedNew, edited, unchanged] = servers as [FakeHttpServer, FakeHttpServer, FakeHttpServer, FakeHttpServer];

  before(async () => {
    await Promise.all(servers.map((s) => s.start()));
    gw = await startTestGateway({
      channels: CHANNELS.map((id) => ({ id, platform: 'wechat-pad', secret: SECRET, botWxid: 'wxid_bot' })),
    });
    // Through the API, as only those subscriptions can be changed while the gateway runs.
    for (const [id, server] of [['moved', movedOld], ['edited', edited], ['unchanged', unchanged]] as const) {
      const created = await admin('POST', `${gw.url}/v1/subscriptions`, { id, url: `${server.url}/in`, secret: `${id}-secret-1`, channels: [id] });
      assert.equal(created.status, 201, created.text);
    }
  });

  after(async () => {
    await gw.close();
    await Promise.all(servers.map((s) => s.stop()));
    removeDir(gw.dir);
  });

  it('leaves a subscription moved to a new URL during the attempt enabled, and delivers at the new URL', async () => {
    const release = goneOnRelease(movedOld);
    await postInbound(gw, 'moved');
    await movedOld.waitForRequests(1);
    const put = await admin('PUT', `${gw.url}/v1/subscriptions/moved`, { url: `${movedNew.url}/in`, secret: 'moved-secret-1', channels: ['moved'] });
    assert.equal(put.status, 200, put.text);
    release();

    const delivery = await onlyDelivery(gw, 'moved', 'succeeded');
    assert.deepEqual(delivery.attemptLog.map((a: any) => a.statusCode), [410, 200]);
    assert.equal(movedNew.requests.length, 1);
    assert.equal(movedNew.requests[0]!.headers['webhook-id'], movedOld.requests[0]!.headers['webhook-id'], 'the same event');
    const sub = (await admin('GET', `${gw.url}/v1/subscriptions/moved`)).json;
    assert.equal(sub.enabled, true);
    assert.equal(sub.url, `${movedNew.url}/in`);
    assert.ok(gw.logs.some((line) => line.subscription === 'moved' && String(line.msg).includes('retried at the new URL')));

    await postInbound(gw, 'moved');
    await movedNew.waitForRequests(2);
  });

  it('dead-letters the delivery but leaves the subscription enabled when it was edited, same URL, during the attempt', async () => {
    const release = goneOnRelease(edited);
    await postInbound(gw, 'edited');
    await edited.waitForRequests(1);
    const put = await admin('PUT', `${gw.url}/v1/subscriptions/edited`, { url: `${edited.url}/in`, secret: 'edited-secret-2', channels: ['edited'] });
    assert.equal(put.status, 200, put.text);
    release();

    const delivery = await onlyDelivery(gw, 'edited', 'dead');
    assert.equal(delivery.attempts, 1);
    assert.match(delivery.lastError, /changed meanwhile/);
    assert.equal((await admin('GET', `${gw.url}/v1/subscriptions/edited`)).json.enabled, true);
    assert.ok(gw.logs.some((line) => line.subscription === 'edited' && String(line.msg).includes('subscription left as it is')));
  });

  it('disables a subscription that did not change during the attempt', async () => {
    goneOnRelease(unchanged)();
    await postInbound(gw, 'unchanged');
    const delivery = await onlyDelivery(gw, 'unchanged', 'dead');
    assert.match(delivery.lastError, /subscription disabled/);
    assert.equal((await admin('GET', `${gw.url}/v1/subscriptions/unchanged`)).json.enabled, false);
    assert.ok(gw.logs.some((line) => line.subscription === 'unchanged' && String(line.msg).includes('subscription disabled')));
  });
});
