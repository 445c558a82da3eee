import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import {
  APP_KEY,
  APP_SECRET,
  FakeDingtalkApi,
  GROUP_ID,
  SESSION,
  bodyOf,
  callbackBody,
  pathOf,
  signedHeaders,
  type BodyOptions,
} from '../platforms/dingtalk/helpers.ts';

const SUB_SECRET = `whsec_${Buffer.from('dingtalk-subscriber-key-32-bytes').toString('base64')}`;
const GROUP_SEND = '/v1.0/robot/groupMessages/send';
const BATCH_SEND = '/v1.0/robot/oToMessages/batchSend';

describe('dingtalk channel, end to end', () => {
  let gw: TestGateway;
  /** DingTalk's API host (api.dingtalk.com): tokens and the robot API. */
  const api = new FakeDingtalkApi();
  const subscriber = new FakeHttpServer();
  const send = (body: object) => call('POST', `${gw.url}/v1/messages`, { body, token: API_TOKEN });
  const post = (body: unknown, headers: Record<string, string> = signedHeaders()) =>
    call('POST', `${gw.url}/hooks/ding`, { body: JSON.stringify(body), headers });
  const body = (options: BodyOptions) => callbackBody({ sessionWebhook: `${api.url}/robot/sendBySession?session=${SESSION}`, ...options });

  before(async () => {
    await api.start();
    await subscriber.start();
    gw = await startTestGateway({
      channels: [{ id: 'ding', platform: 'dingtalk', apiBase: api.url, appKey: APP_KEY, appSecret: APP_SECRET }],
      subscriptions: [{ id: 'ding-events', url: `${subscriber.url}/hook`, secret: SUB_SECRET, channels: ['ding'] }],
    });
  });

  after(async () => {
    await gw.close();
    await api.stop();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  /** Posts a callback and waits until the subscriber has its event; answers the unified event. */
  async function receive(options: BodyOptions): Promise<any> {
    const delivered = subscriber.requests.length;
    const answer = await post(body(options));
    assert.equal(answer.status, 200, answer.text);
    await subscriber.waitForRequests(delivered + 1);
    const request = subscriber.requests[delivered]!;
    return new Webhook(SUB_SECRET).verify(request.body.toString('utf8'), request.headers as Record<string, string>);
  }

  it('stores and delivers a signed callback once, though DingTalk posts it three times', async () => {
    const callback = body({ msgId: 'msgIntegration0001==' });
    for (let i = 0; i < 3; i += 1) {
      const answer = await post(callback);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json, { msgtype: 'empty' });
    }
    await subscriber.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(subscriber.requests.length, 1, 'delivered once');
    const event = new Webhook(SUB_SECRET).verify(subscriber.requests[0]!.body.toString('utf8'), subscriber.requests[0]!.headers as Record<string, string>) as any;
    assert.equal(event.platform, 'dingtalk');
    assert.equal(event.message.platformId, 'msgIntegration0001==');
    assert.equal(event.message.text, 'what is the build status? @lisi');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.message.mentions, [{ id: 'lisi', name: null }]);
    assert.deepEqual(event.sender, { id: 'zhangsan', name: '张三', isSelf: false });
    assert.deepEqual(event.conversation, { id: GROUP_ID, type: 'group', name: '机器人测试-TEST' });
    assert.ok(!JSON.stringify(event).includes(SESSION), 'the sessionWebhook stays out of the event');
    const stored = (await eventsOf(gw.url)).filter((e) => e.message.platformId === 'msgIntegration0001==');
    assert.equal(stored.length, 1);
  });

  it('refuses a bad sign and a stale timestamp with 401, storing nothing', async () => {
    const before = (await eventsOf(gw.url)).length;
    const badSign = await post(body({ msgId: 'msgBadSign' }), signedHeaders({ secret: 'not-the-app-secret' }));
    assert.equal(badSign.status, 401);
    assert.equal(badSign.json.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    const stale = await post(body({ msgId: 'msgStale' }), signedHeaders({ timestamp: Date.now() - 3_700_000 }));
    assert.equal(stale.status, 401);
    assert.equal(stale.json.error.code, 'IMG_ERR_INBOUND_STALE_TIMESTAMP');
    const unsigned = await post(body({ msgId: 'msgUnsigned' }), { 'content-type': 'application/json' });
    assert.equal(unsigned.status, 401);
    assert.equal((await eventsOf(gw.url)).length, before);
  });

  it('answers other methods with 405 and a malformed signed body with 400', async () => {
    const get = await call('GET', `${gw.url}/hooks/ding`);
    assert.equal(get.status, 405);
    assert.equal(get.json.error.code, 'IMG_ERR_INBOUND_METHOD');
    const malformed = await call('POST', `${gw.url}/hooks/ding`, { body: '{"msgId":', headers: signedHeaders() });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.error.code, 'IMG_ERR_INBOUND_MALFORMED');
  });

  it('fetches one access token for 20 concurrent proactive sends', async () => {
    // The first sends of this channel: nothing is cached yet.
    assert.equal(api.tokenCalls, 0);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send({ channel: 'ding', to: `user${i}`, text: `n${i}` })));
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));
    assert.equal(api.tokenCalls, 1);
    assert.equal(new Set(api.requestsTo(BATCH_SEND).map((r) => r.headers['x-acs-dingtalk-access-token'])).size, 1);
  });

  it('replies through the sessionWebhook, mentioning the group sender', async () => {
    const event = await receive({ msgId: 'msgReply0001==' });
    const shown = await admin('GET', `${gw.url}/v1/events/${event.id}`);
    assert.equal(shown.json.raw.sessionWebhook, `${api.url}/robot/sendBySession?session=[redacted]`, 'the API shows no session');
    const answer = await send({ channel: 'ding', to: event.conversation.id, text: 'all green', replyTo: event.message.id, mentions: ['lisi'] });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.platformMessageId, null);
    const request = api.requestsTo('/robot/sendBySession').at(-1)!;
    assert.equal(pathOf(request), '/robot/sendBySession');
    assert.deepEqual(bodyOf(request), { msgtype: 'text', text: { content: 'all green' }, at: { atUserIds: ['zhangsan', 'lisi'], isAtAll: false } });
  });

  it('falls back to groupMessages/send with the access token once the sessionWebhook expired', async () => {
    const event = await receive({ msgId: 'msgExpired0001==', expiresAt: Date.now() - 60_000 });
    const viaSession = api.requestsTo('/robot/sendBySession').length;
    const answer = await send({ channel: 'ding', to: event.conversation.id, text: 'sorry for the wait', replyTo: 'msgExpired0001==' });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.json.platformMessageId, /^pqk-/);
    assert.equal(api.requestsTo('/robot/sendBySession').length, viaSession);
    const request = api.requestsTo(GROUP_SEND).at(-1)!;
    assert.ok(api.issued.has(String(request.headers['x-acs-dingtalk-access-token'])));
    assert.deepEqual(bodyOf(request), {
      robotCode: APP_KEY,
      openConversationId: GROUP_ID,
      msgKey: 'sampleText',
      msgParam: JSON.stringify({ content: 'sorry for the wait' }),
    });
  });

  it('sends proactively to a member through batchSend, and to a single chat\'s conversation.id', async () => {
    const answer = await send({ channel: 'ding', to: 'lisi', markdown: '# Deploy\ndone' });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(bodyOf(api.requestsTo(BATCH_SEND).at(-1)!), {
      robotCode: APP_KEY,
      userIds: ['lisi'],
      msgKey: 'sampleMarkdown',
      msgParam: JSON.stringify({ title: 'Deploy', text: '# Deploy\ndone' }),
    });
    const direct = await receive({ msgId: 'msgDirect0001==', group: false });
    assert.equal(direct.conversation.id, 'zhangsan');
    const proactive = await send({ channel: 'ding', to: direct.conversation.id, text: 'a reminder' });
    assert.equal(proactive.status, 200, proactive.text);
    assert.deepEqual(bodyOf(api.requestsTo(BATCH_SEND).at(-1)!).userIds, ['zhangsan']);
  });

  it('fetches the token again once when DingTalk rejects it, then succeeds', async () => {
    const current = String(api.requestsTo(BATCH_SEND).at(-1)!.headers['x-acs-dingtalk-access-token']);
    api.revoked.add(current);
    const before = api.tokenCalls;
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => send({ channel: 'ding', to: GROUP_ID, text: `after revoke ${i}` })));
    assert.deepEqual(answers.map((a) => a.status), Array(5).fill(200));
    assert.equal(api.tokenCalls, before + 1, 'one re-fetch for the whole burst');
    const fresh = api.requestsTo(GROUP_SEND).at(-1)!.headers['x-acs-dingtalk-access-token'];
    assert.notEqual(fresh, current);
  });

  it('answers 400 for image.base64 and for mentions the robot API cannot make', async () => {
    const base64 = await send({ channel: 'ding', to: GROUP_ID, image: { base64: 'iVBORw0KGgo=' } });
    assert.equal(base64.status, 400);
    assert.equal(base64.json.error.code, 'IMG_ERR_SEND_UNSUPPORTED');
    const mentions = await send({ channel: 'ding', to: GROUP_ID, text: 'hi', mentions: ['lisi'] });
    assert.equal(mentions.status, 400);
    assert.equal(mentions.json.error.code, 'IMG_ERR_SEND_UNSUPPORTED');
  });

  it('never writes the appSecret, an access token or a sessionWebhook to the log', async () => {
    await waitFor(() => (gw.logText().includes('"msg":"send"') ? true : undefined));
    const logs = gw.logText();
    assert.ok(logs.includes('fetched an access token'));
    assert.ok(!logs.includes(APP_SECRET), 'the appSecret is in the log');
    for (const token of api.issued) assert.ok(!logs.includes(token), `access token ${token} is in the log`);
    assert.ok(!logs.includes(SESSION), 'a sessionWebhook is in the log');
    assert.ok(!logs.includes('sendBySession'), 'a sessionWebhook is in the log');
  });
});
