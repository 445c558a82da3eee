import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import {
  APP_ID,
  FakeQqApi,
  GROUP_OPENID,
  SECRET,
  TOKEN_PREFIX,
  USER_OPENID,
  bodyOf,
  dispatch,
  signedHeaders,
  type MessageEventType,
} from '../platforms/qq/helpers.ts';

const SUB_SECRET = `whsec_${Buffer.from('qq-subscriber-signing-key-32byte').toString('base64')}`;
const USER_MESSAGES = `/v2/users/${USER_OPENID}/messages`;
const GROUP_MESSAGES = `/v2/groups/${GROUP_OPENID}/messages`;
const GROUP_FILES = `/v2/groups/${GROUP_OPENID}/files`;
const DOC_SIGNATURE =
  '87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706';

describe('qq channel, end to end', () => {
  let gw: TestGateway;
  const api = new FakeQqApi();
  const subscriber = new FakeHttpServer();
  const send = (body: object) => call('POST', `${gw.url}/v1/messages`, { body, token: API_TOKEN });
  const post = (path: string, body: string, headers: Record<string, string>) => call('POST', `${gw.url}/hooks/${path}`, { body, headers });

  before(async () => {
    await api.start();
    await subscriber.start();
    gw = await startTestGateway(gatewayConfig());
  });

  const gatewayConfig = () => ({
    channels: [
      { id: 'qq', platform: 'qq', appId: APP_ID, secret: SECRET, apiBase: api.url, tokenBase: `${api.url}${TOKEN_PREFIX}` },
      { id: 'qq-doc', platform: 'qq', appId: '11111111', secret: 'DG5g3B4j9X2KOErG', apiBase: api.url },
    ],
    subscriptions: [{ id: 'qq-events', url: `${subscriber.url}/hook`, secret: SUB_SECRET, channels: ['qq'] }],
  });
  /** The message replied to three times, replied to again after a restart. */
  let counted: any;

  after(async () => {
    await gw.close();
    await api.stop();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  /** Posts a signed dispatch and waits until the subscriber has its event; answers the unified event. */
  async function receive(eventType: MessageEventType, d: Record<string, unknown> = {}): Promise<any> {
    const delivered = subscriber.requests.length;
    const body = JSON.stringify(dispatch(eventType, d));
    const answer = await post('qq', body, signedHeaders(body));
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, { op: 12, d: 0 });
    await subscriber.waitForRequests(delivered + 1);
    const request = subscriber.requests[delivered]!;
    return new Webhook(SUB_SECRET).verify(request.body.toString('utf8'), request.headers as Record<string, string>);
  }

  it("answers the docs' op 13 URL validation with the documented signature, storing nothing", async () => {
    const answer = await post('qq-doc', '{"d":{"plain_token":"Arq0D5A61EgUu4OxUvOp","event_ts":"1725442341"},"op":13}', {
      'content-type': 'application/json',
      'user-agent': 'QQBot-Callback',
      'x-bot-appid': '11111111',
    });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, { plain_token: 'Arq0D5A61EgUu4OxUvOp', signature: DOC_SIGNATURE });
    assert.equal((await eventsOf(gw.url)).length, 0);
  });

  it('stores a signed C2C message, answers op 12 after the commit, and delivers it once though QQ pushes it twice', async () => {
    const body = JSON.stringify(dispatch('C2C_MESSAGE_CREATE', { id: 'ROBOT1.0_twice', content: 'what is the build status?' }));
    for (let i = 0; i < 2; i += 1) {
      const answer = await post('qq', body, signedHeaders(body));
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json, { op: 12, d: 0 });
    }
    await subscriber.waitForRequests(1);
    const event = new Webhook(SUB_SECRET).verify(subscriber.requests[0]!.body.toString('utf8'), subscriber.requests[0]!.headers as Record<string, string>) as any;
    assert.equal(event.platform, 'qq');
    assert.equal(event.message.platformId, 'ROBOT1.0_twice');
    assert.equal(event.message.text, 'what is the build status?');
    assert.deepEqual(event.conversation, { id: `user:${USER_OPENID}`, type: 'direct', name: null });
    const stored = (await eventsOf(gw.url)).filter((e) => e.message.platformId === 'ROBOT1.0_twice');
    assert.equal(stored.length, 1, 'stored once');
    // The duplicate made no delivery of its own: the one delivery is the one the subscriber got.
    const deliveries = (await admin('GET', `${gw.url}/v1/deliveries?limit=500`)).json.data;
    assert.deepEqual(deliveries.map((d: { eventId: string }) => d.eventId), [stored[0].id]);
  });

  it('refuses a flipped byte in the body or the signature, and an unsigned dispatch, with 401, storing nothing', async () => {
    const before = (await eventsOf(gw.url)).length;
    const body = JSON.stringify(dispatch('C2C_MESSAGE_CREATE', { id: 'ROBOT1.0_tampered', content: 'pay 100' }));
    const headers = signedHeaders(body);
    const tampered = await post('qq', body.replace('pay 100', 'pay 900'), headers);
    assert.equal(tampered.status, 401);
    assert.equal(tampered.json.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    const signature = headers['x-signature-ed25519']!;
    const badSignature = await post('qq', body, { ...headers, 'x-signature-ed25519': `${signature.slice(0, 10)}${signature[10] === '0' ? '1' : '0'}${signature.slice(11)}` });
    assert.equal(badSignature.status, 401);
    const unsigned = await post('qq', body, { 'content-type': 'application/json' });
    assert.equal(unsigned.status, 401);
    assert.equal((await eventsOf(gw.url)).length, before);
  });

  it('replies with msg_id and msg_seq 1, 2, 3 to one message, fetching the QQ token once', async () => {
    const event = await receive('C2C_MESSAGE_CREATE', { content: 'count to three' });
    counted = event;
    for (const seq of [1, 2, 3]) {
      const answer = await send({ channel: 'qq', to: event.conversation.id, text: `${seq}`, replyTo: seq === 2 ? event.message.platformId : event.message.id });
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.json.platformMessageId, /^qq-msg-\d+$/);
      assert.deepEqual(bodyOf(api.requestsTo(USER_MESSAGES).at(-1)!), { msg_type: 0, content: `${seq}`, msg_id: event.message.platformId, msg_seq: seq });
    }
    assert.equal(api.tokenCalls, 1);
  });

  it('refuses a 6th reply to one group message with 422 naming the rule, without calling QQ', async () => {
    const event = await receive('GROUP_AT_MESSAGE_CREATE', { content: ' five answers please' });
    for (let i = 1; i <= 5; i += 1) {
      const answer = await send({ channel: 'qq', to: event.conversation.id, text: `answer ${i}`, replyTo: event.message.id });
      assert.equal(answer.status, 200, answer.text);
    }
    const calls = api.requestsTo(GROUP_MESSAGES).length;
    const sixth = await send({ channel: 'qq', to: event.conversation.id, text: 'answer 6', replyTo: event.message.id });
    assert.equal(sixth.status, 422);
    assert.equal(sixth.json.error.code, 'IMG_ERR_REPLY_WINDOW_CLOSED');
    assert.match(sixth.json.error.message, /QQ takes at most 5 replies to a group message/);
    assert.equal(sixth.json.error.details.rule, 'reply-count');
    assert.equal(api.requestsTo(GROUP_MESSAGES).length, calls);
  });

  it('refuses a reply to a group message sent more than 5 minutes ago, naming the rule', async () => {
    const sentAt = new Date(Date.now() - 6 * 60_000).toISOString();
    const event = await receive('GROUP_AT_MESSAGE_CREATE', { content: ' an old question', timestamp: sentAt });
    const answer = await send({ channel: 'qq', to: event.conversation.id, text: 'too late', replyTo: event.message.id });
    assert.equal(answer.status, 422);
    assert.equal(answer.json.error.code, 'IMG_ERR_REPLY_WINDOW_CLOSED');
    assert.match(answer.json.error.message, /QQ takes replies to a group message for 5 minutes after it was sent/);
    assert.deepEqual(answer.json.error.details, { rule: 'reply-window', windowMinutes: 5, messageCreatedAt: sentAt });
  });

  it('refuses a proactive message to a user with 400 naming the end of proactive pushes', async () => {
    const answer = await send({ channel: 'qq', to: `user:${USER_OPENID}`, text: 'hello?' });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'IMG_ERR_SEND_UNSUPPORTED');
    assert.match(answer.json.error.message, /since 2025-04-21/);
  });

  it('sends an image to a group by uploading it, then as msg_type 7 with its file_info', async () => {
    const event = await receive('GROUP_AT_MESSAGE_CREATE', { content: ' a chart please' });
    const answer = await send({ channel: 'qq', to: event.conversation.id, image: { url: 'https://img.example/chart.png' }, replyTo: event.message.id });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(bodyOf(api.requestsTo(GROUP_FILES).at(-1)!), { file_type: 1, url: 'https://img.example/chart.png', srv_send_msg: false });
    const upload = api.requestsTo(GROUP_FILES).at(-1)!;
    const message = api.requestsTo(GROUP_MESSAGES).at(-1)!;
    assert.ok(api.server.requests.indexOf(upload) < api.server.requests.indexOf(message), 'uploaded first');
    assert.deepEqual(bodyOf(message), {
      msg_type: 7,
      content: ' ',
      media: { file_info: 'file-info-for-https://img.example/chart.png' },
      msg_id: event.message.platformId,
      msg_seq: 1,
    });
  });

  it('fetches the token again once when QQ says it is invalid, then sends', async () => {
    const current = String(api.requestsTo(GROUP_MESSAGES).at(-1)!.headers.authorization).slice('QQBot '.length);
    api.revoked.add(current);
    const before = api.tokenCalls;
    const event = await receive('C2C_MESSAGE_CREATE', { content: 'after a revoke' });
    const answer = await send({ channel: 'qq', to: event.conversation.id, text: 'still here', replyTo: event.message.id });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(api.tokenCalls, before + 1);
    assert.notEqual(String(api.requestsTo(USER_MESSAGES).at(-1)!.headers.authorization), `QQBot ${current}`);
  });

  it('never writes the secret or an access token to the log', async () => {
    await waitFor(() => (gw.logText().includes('"msg":"send"') ? true : undefined));
    const logs = gw.logText();
    assert.ok(logs.includes('fetched an access token'));
    assert.ok(!logs.includes(SECRET), 'the secret is in the log');
    for (const token of api.issued) assert.ok(!logs.includes(token), `access token ${token} is in the log`);
  });

  it('goes on numbering replies after a restart: the counters are in the store', async () => {
    await gw.close();
    gw = await startTestGateway(gatewayConfig(), gw.dir);
    const answer = await send({ channel: 'qq', to: counted.conversation.id, text: 'four', replyTo: counted.message.id });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(bodyOf(api.requestsTo(USER_MESSAGES).at(-1)!).msg_seq, 4);
  });
});
