import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'management-test-secret';
const PAD_KEY = 'pad-account-key-0001';

describe('the management API', () => {
  let gw: TestGateway;
  const receiver = new FakeHttpServer();

  before(async () => {
    await receiver.start();
    gw = await startTestGateway({
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET, apiBase: 'http://127.0.0.1:9', key: PAD_KEY }],
      subscriptions: [{ id: 'from-config', url: `${receiver.url}/config`, secret: 'config-sub-secret', channels: ['none'] }],
    });
  });

  after(async () => {
    await gw.close();
    await receiver.stop();
    removeDir(gw.dir);
  });

  it('answers health and readiness, and 404 on unknown routes', async () => {
    assert.deepEqual((await call('GET', `${gw.url}/healthz`)).json, { status: 'ok' });
    assert.deepEqual((await call('GET', `${gw.url}/readyz`)).json, { status: 'ready' });
    const missing = await call('GET', `${gw.url}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'IMG_ERR_ROUTE_NOT_FOUND');
  });

  it('refuses management routes without the admin token', async () => {
    for (const url of ['/v1/subscriptions', '/v1/events', '/v1/deliveries', '/v1/channels']) {
      const answer = await call('GET', `${gw.url}${url}`);
      assert.equal(answer.status, 401, url);
      assert.equal(answer.json.error.code, 'IMG_ERR_AUTH_MISSING');
      assert.equal((await call('GET', `${gw.url}${url}`, { token: 'wrong-admin-token-000' })).status, 401);
      const withApiKey = await call('GET', `${gw.url}${url}`, { token: API_TOKEN });
      assert.equal(withApiKey.status, 403, 'a valid API key is known, just not allowed here');
      assert.equal(withApiKey.json.error.code, 'IMG_ERR_AUTH_ADMIN_ONLY');
    }
  });

  it('answers 409 for an id that exists, and says which fields are required', async () => {
    const first = await admin('POST', `${gw.url}/v1/subscriptions`, { id: 'taken', url: `${receiver.url}/taken`, secret: 'taken-secret-1' });
    assert.equal(first.status, 201, first.text);
    const again = await admin('POST', `${gw.url}/v1/subscriptions`, { id: 'taken', url: `${receiver.url}/taken`, secret: 'taken-secret-1' });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'IMG_ERR_ALREADY_EXISTS');
    assert.match(again.json.error.message, /PATCH \/v1\/subscriptions\/taken/);
    const missing = await call('POST', `${gw.url}/v1/messages`, { body: { channel: 'wx', text: 'no recipient' }, token: API_TOKEN });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.message, 'to: required');
    assert.equal((await admin('DELETE', `${gw.url}/v1/subscriptions/taken`)).status, 204);
  });

  it('changes only the fields a PATCH names', async () => {
    const created = await admin('POST', `${gw.url}/v1/subscriptions`, {
      url: `${receiver.url.replace('://', '://bot:patch-pw-1@')}/patch`,
      secret: ['patch-secret-new', 'patch-secret-old'],
      groups: 'mention',
      channels: ['wx'],
    });
    assert.equal(created.status, 201, created.text);
    const patched = await admin('PATCH', `${gw.url}/v1/subscriptions/${created.json.id}`, { enabled: false });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(
      { ...patched.json, updatedAt: 0 },
      { ...created.json, enabled: false, updatedAt: 0 },
      'everything else as it was',
    );
    assert.equal(patched.json.secretCount, 2);
    const bad = await admin('PATCH', `${gw.url}/v1/subscriptions/${created.json.id}`, { groups: 'some' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /^groups:/);
    // The stored password and secrets were kept: a test delivery still authenticates and verifies.
    const reenabled = await admin('PATCH', `${gw.url}/v1/subscriptions/${created.json.id}`, { enabled: true });
    assert.equal(reenabled.status, 200);
    assert.equal((await admin('POST', `${gw.url}/v1/subscriptions/${created.json.id}/test`)).status, 200);
    assert.equal(receiver.requests.at(-1)?.headers.authorization, `Basic ${Buffer.from('bot:patch-pw-1').toString('base64')}`);
    assert.equal((await admin('DELETE', `${gw.url}/v1/subscriptions/${created.json.id}`)).status, 204);
  });

  it('creates, reads, replaces and deletes a subscription, never showing its secret', async () => {
    const created = await admin('POST', `${gw.url}/v1/subscriptions`, { url: `${receiver.url}/crud`, secret: 'crud-secret-value', groups: 'mention' });
    assert.equal(created.status, 201, created.text);
    assert.match(created.json.id, /^sub_/);
    assert.equal(created.json.groups, 'mention');
    assert.equal(created.json.source, 'api');
    assert.ok(!created.text.includes('crud-secret-value'));
    const id = created.json.id;

    const listed = (await admin('GET', `${gw.url}/v1/subscriptions`)).json.data.map((s: any) => s.id);
    assert.deepEqual(listed.sort(), ['from-config', id].sort());

    const replaced = await admin('PUT', `${gw.url}/v1/subscriptions/${id}`, { url: `${receiver.url}/crud2`, secret: 'crud-secret-value', enabled: false });
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal(replaced.json.enabled, false);
    assert.equal(replaced.json.groups, 'all', 'PUT replaces the whole subscription');

    const bad = await admin('POST', `${gw.url}/v1/subscriptions`, { url: 'not a url', secret: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'IMG_ERR_VALIDATION');
    assert.match(bad.json.error.message, /^url:/);
    for (const url of ['file:///etc/passwd', 'gopher://127.0.0.1:70/x', 'ftp://127.0.0.1/x']) {
      const refused = await admin('POST', `${gw.url}/v1/subscriptions`, { url, secret: 'a-secret' });
      assert.equal(refused.status, 400, url);
      assert.equal(refused.json.error.message, 'url: an http: or https: URL');
    }

    const withPassword = await admin('POST', `${gw.url}/v1/subscriptions`, { url: `${receiver.url.replace('://', '://bot:hunter2-pw@')}/in`, secret: 'a-secret' });
    assert.equal(withPassword.status, 201, withPassword.text);
    assert.equal(withPassword.json.url, `${receiver.url.replace('://', '://***:***@')}/in`);
    const shown = [await admin('GET', `${gw.url}/v1/subscriptions/${withPassword.json.id}`), await admin('GET', `${gw.url}/v1/subscriptions`)];
    for (const answer of shown) assert.ok(!answer.text.includes('hunter2-pw'), 'the password is never shown');
    assert.ok(!gw.logText().includes('hunter2-pw'), 'nor logged');
    // A client that PUTs back what it read keeps the stored password, not `***`.
    const putBack = await admin('PUT', `${gw.url}/v1/subscriptions/${withPassword.json.id}`, { url: withPassword.json.url, secret: 'a-secret' });
    assert.equal(putBack.status, 200, putBack.text);
    assert.equal((await admin('POST', `${gw.url}/v1/subscriptions/${withPassword.json.id}/test`)).status, 200);
    assert.equal(receiver.requests.at(-1)?.headers.authorization, `Basic ${Buffer.from('bot:hunter2-pw').toString('base64')}`);
    assert.equal((await admin('DELETE', `${gw.url}/v1/subscriptions/${withPassword.json.id}`)).status, 204);

    assert.equal((await admin('DELETE', `${gw.url}/v1/subscriptions/${id}`)).status, 204);
    assert.equal((await admin('GET', `${gw.url}/v1/subscriptions/${id}`)).status, 404);
  });

  it('keeps config-file subscriptions read-only through the API', async () => {
    const answer = await admin('DELETE', `${gw.url}/v1/subscriptions/from-config`);
    assert.equal(answer.status, 400);
    assert.match(answer.json.error.message, /config file/);
  });

  it('sends a test delivery, recorded like any other', async () => {
    const before = receiver.requests.length;
    const answer = await admin('POST', `${gw.url}/v1/subscriptions/from-config/test`);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.attempt.statusCode, 200);
    assert.equal(receiver.requests.length, before + 1);
    const delivered = JSON.parse(receiver.requests.at(-1)!.body.toString());
    assert.equal(delivered.type, 'system');
    const detail = (await admin('GET', `${gw.url}/v1/deliveries/${answer.json.deliveryId}`)).json;
    assert.equal(detail.status, 'succeeded');
    assert.equal(detail.attemptLog.length, 1);
  });

  it('pages lists with next, filters deliveries by subscription, and refuses parameters it does not know', async () => {
    for (let i = 0; i < 3; i += 1) assert.equal((await admin('POST', `${gw.url}/v1/subscriptions/from-config/test`)).status, 200);
    const first = (await admin('GET', `${gw.url}/v1/deliveries?subscription=from-config&limit=2`)).json;
    assert.equal(first.data.length, 2);
    assert.ok(first.data.every((d: any) => d.subscriptionId === 'from-config'));
    assert.equal(first.next, first.data[1].id);
    const second = (await admin('GET', `${gw.url}/v1/deliveries?subscription=from-config&limit=2&before=${first.next}`)).json;
    assert.ok(second.data.length >= 1);
    assert.ok(second.data.every((d: any) => d.id < first.next));
    assert.equal((await admin('GET', `${gw.url}/v1/deliveries?subscription=no-such-sub`)).json.data.length, 0);
    const all = (await admin('GET', `${gw.url}/v1/events?limit=500`)).json;
    assert.equal(all.next, null, 'the last page');
    for (const url of ['/v1/events?after=evt_1', '/v1/deliveries?subscriptionId=x']) {
      const refused = await admin('GET', `${gw.url}${url}`);
      assert.equal(refused.status, 400, url);
      assert.match(refused.json.error.message, /^query: Unrecognized key: "(after|subscriptionId)"$/);
    }
  });

  it('does not retry a test delivery that failed: the caller has the answer', async () => {
    receiver.respondWith({ status: 503, headers: { 'retry-after': '0' }, body: 'not yet' });
    const answer = await admin('POST', `${gw.url}/v1/subscriptions/from-config/test`);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.attempt.statusCode, 503);
    const detail = (await admin('GET', `${gw.url}/v1/deliveries/${answer.json.deliveryId}`)).json;
    assert.equal(detail.status, 'dead');
    assert.equal(detail.lastError, 'subscriber answered HTTP 503; a test delivery is not retried');
    const sent = receiver.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(receiver.requests.length, sent, 'not attempted again');
  });

  it('shows channel status with the last event and the last error', async () => {
    const body = JSON.stringify({ msgId: '777001', fromUser: 'wxid_a', toUser: 'wxid_bot', msgType: 1, content: 'hi' });
    await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
    await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders('wrong', body) });
    const [channel] = (await admin('GET', `${gw.url}/v1/channels`)).json.data;
    assert.equal(channel.id, 'wx');
    assert.equal(channel.platform, 'wechat-pad');
    assert.equal(channel.canSend, true);
    assert.equal(channel.connected, null);
    assert.ok(channel.lastEventAt);
    assert.equal(channel.lastError.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    assert.ok(!JSON.stringify(channel).includes(SECRET));
  });

  it('finds events by sender, conversation and text, and refuses an empty filter', async () => {
    const messages = [
      { msgId: '778001', fromUser: 'wxid_search_a', toUser: 'wxid_bot', msgType: 1, content: 'Invoice 42 is late' },
      { msgId: '778002', fromUser: 'wxid_search_b', toUser: 'wxid_bot', msgType: 1, content: 'the invoice came' },
    ];
    for (const message of messages) {
      const body = JSON.stringify(message);
      assert.equal((await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) })).status, 200);
    }
    const texts = async (query: string) => (await admin('GET', `${gw.url}/v1/events?${query}`)).json.data.map((event: any) => event.message.text);
    assert.deepEqual(await texts('text=INVOICE'), ['the invoice came', 'Invoice 42 is late']);
    assert.deepEqual(await texts('sender=wxid_search_a'), ['Invoice 42 is late']);
    assert.deepEqual(await texts('conversation=wxid_search_b&text=invoice'), ['the invoice came']);
    assert.deepEqual(await texts('channel=wx&sender=wxid_search_a&text=came'), []);
    const empty = await admin('GET', `${gw.url}/v1/events?text=`);
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error.message, 'text: empty; leave the parameter out to match every event');
  });

  describe('the WeChat webhook-configuration API', () => {
    it('configures, lists, updates and tests a webhook with the guide field names, authenticated by the account key', async () => {
      const key = `?key=${PAD_KEY}`;
      const configured = await call('POST', `${gw.url}/v1/webhook/Config${key}`, {
        body: { URL: `${receiver.url}/guide`, Secret: 'guide-secret', Enabled: true, Timeout: 5, RetryCount: 2, MessageTypes: ['1', '3'], IncludeSelfMessage: false },
      });
      assert.equal(configured.status, 200, configured.text);
      assert.deepEqual(configured.json.Data, {
        URL: `${receiver.url}/guide`,
        Enabled: true,
        Timeout: 5,
        RetryCount: 2,
        MessageTypes: ['1', '3'],
        IncludeSelfMessage: false,
      });

      const listed = await call('GET', `${gw.url}/v1/webhook/List${key}`);
      assert.equal(listed.json.Data.length, 1);

      const updated = await call('PUT', `${gw.url}/v1/webhook/Update${key}`, { body: { Timeout: 8 } });
      assert.equal(updated.json.Data.Timeout, 8);
      assert.equal(updated.json.Data.RetryCount, 2);

      const tested = await call('GET', `${gw.url}/v1/webhook/Test${key}`);
      assert.equal(tested.json.Code, 200, tested.text);
      assert.equal(tested.json.Data.statusCode, 200);

      // A real message reaches the guide's receiver as the pad server's JSON, signed timestamp:body.
      const body = JSON.stringify({ msgId: '777002', fromUser: 'wxid_a', toUser: 'wxid_bot', msgType: 1, content: 'guide' });
      await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
      const delivered = await waitFor(() => receiver.requests.find((r) => r.url === '/guide' && r.body.toString() === body));
      const timestamp = delivered.headers['x-webhook-timestamp'] as string;
      assert.equal(delivered.headers['x-webhook-signature'], createHmac('sha256', 'guide-secret').update(`${timestamp}:${body}`).digest('hex'));
    });

    it('refuses a wrong account key and unauthenticated calls', async () => {
      const wrong = await call('GET', `${gw.url}/v1/webhook/List?key=not-the-key`);
      assert.equal(wrong.status, 401);
      assert.equal((await call('GET', `${gw.url}/v1/webhook/List`)).status, 401);
      assert.equal((await admin('GET', `${gw.url}/v1/webhook/List`)).status, 200);
    });
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight, then refuses new ones and closes', async () => {
    const gw = await startTestGateway({ channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }] });
    const body = JSON.stringify({ msgId: '888001', fromUser: 'wxid_a', toUser: 'wxid_bot', msgType: 1, content: 'last one' });
    // The body arrives in two parts, and the shutdown starts between them.
    let sendRest: () => void = () => undefined;
    const restSent = new Promise<void>((resolve) => (sendRest = resolve));
    async function* slowBody() {
      yield Buffer.from(body.slice(0, 10));
      await restSent;
      yield Buffer.from(body.slice(10));
    }
    const inFlight = request(`${gw.url}/hooks/wx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...padproHeaders(SECRET, body) },
      body: Readable.from(slowBody()),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closing = gw.close();
    sendRest();
    const answer = await inFlight;
    assert.equal(answer.statusCode, 200);
    await answer.body.dump();
    await closing;
    await assert.rejects(call('GET', `${gw.url}/healthz`));
    removeDir(gw.dir);
  });
});
