import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { FakeHttpServer, type RecordedRequest } from '../helpers/fake-http.ts';
import { ADMIN_TOKEN, API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call, eventsOf } from '../helpers/http.ts';
import { WECOM_KEYS, wecomCallback, wecomUrlCheck } from '../helpers/wecom.ts';

const MAIN_KEY = '5f2b7c1e-main-robot-key-00000000001';
const QUEUE_KEY = '5f2b7c1e-queue-robot-key-0000000002';
const STRICT_KEY = '5f2b7c1e-strict-robot-key-000000003';
/** The key inside the callback's WebhookUrl: the robot that heard the message. */
const CALLBACK_KEY = '5f2b7c1e-callback-robot-key-0000004';
const ALL_KEYS = [MAIN_KEY, QUEUE_KEY, STRICT_KEY, CALLBACK_KEY];
const CHAT_ID = 'wrkSFfCgAAimgateIntegration01';
const SUB_SECRET = `whsec_${Buffer.from('robot-subscriber-key-32-bytes-ok').toString('base64')}`;
// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const keyOf = (request: RecordedRequest) => new URL(request.url, 'http://fake').searchParams.get('key');
const bodyOf = (request: RecordedRequest): any => JSON.parse(request.body.toString('utf8'));

function groupText(msgId: string, webhookBase: string, content = '@imgate-bot what is the build status?'): string {
  return [
    '<xml>',
    `<WebhookUrl><![CDATA[${webhookBase}/cgi-bin/webhook/send?key=${CALLBACK_KEY}]]></WebhookUrl>`,
    `<MsgId><![CDATA[${msgId}]]></MsgId>`,
    `<ChatId><![CDATA[${CHAT_ID}]]></ChatId>`,
    '<ChatType>group</ChatType>',
    '<From><UserId><![CDATA[zhangsan]]></UserId><Name><![CDATA[张三]]></Name><Alias><![CDATA[jackzhang]]></Alias></From>',
    `<GetChatInfoUrl><![CDATA[${webhookBase}/cgi-bin/webhook/get_chat_info?code=CODE]]></GetChatInfoUrl>`,
    '<MsgType>text</MsgType>',
    `<Text><Content><![CDATA[${content}]]></Content></Text>`,
    '</xml>',
  ].join('');
}

describe('wecom-robot channels, end to end', () => {
  let gw: TestGateway;
  const robotApi = new FakeHttpServer(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
  const subscriber = new FakeHttpServer();
  const send = (body: object) => call('POST', `${gw.url}/v1/messages`, { body, token: API_TOKEN });
  const sentWith = (key: string) => robotApi.requests.filter((request) => keyOf(request) === key);

  before(async () => {
    await robotApi.start();
    await subscriber.start();
    gw = await startTestGateway({
      channels: [
        {
          id: 'robot',
          platform: 'wecom-robot',
          apiBase: robotApi.url,
          webhookKey: MAIN_KEY,
          token: WECOM_KEYS.token,
          encodingAESKey: WECOM_KEYS.encodingAESKey,
        },
        { id: 'robot-queue', platform: 'wecom-robot', apiBase: robotApi.url, webhookKey: QUEUE_KEY, rateLimit: { messages: 20, perSeconds: 2 } },
        { id: 'robot-strict', platform: 'wecom-robot', apiBase: robotApi.url, webhookKey: STRICT_KEY, rateLimit: { maxWaitSeconds: 0 } },
      ],
      subscriptions: [{ id: 'robot-events', url: `${subscriber.url}/hook`, secret: SUB_SECRET, channels: ['robot'] }],
    });
  });

  after(async () => {
    await gw.close();
    await robotApi.stop();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  it('sends text to the webhook, with mentioned_list and mentioned_mobile_list', async () => {
    const answer = await send({ channel: 'robot', to: 'default', text: 'deploy finished', mentions: ['lisi', '13800001111'] });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.json.messageId, /^msg_/);
    assert.equal(answer.json.platformMessageId, null);
    const request = sentWith(MAIN_KEY).at(-1)!;
    assert.equal(new URL(request.url, 'http://fake').pathname, '/cgi-bin/webhook/send');
    assert.deepEqual(bodyOf(request), {
      msgtype: 'text',
      text: { content: 'deploy finished', mentioned_list: ['lisi'], mentioned_mobile_list: ['13800001111'] },
    });
  });

  it('sends markdown to a chat given as `to`', async () => {
    const answer = await send({ channel: 'robot', to: CHAT_ID, markdown: '# Build\n**green**' });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(bodyOf(sentWith(MAIN_KEY).at(-1)!), { chatid: CHAT_ID, msgtype: 'markdown', markdown: { content: '# Build\n**green**' } });
  });

  it('sends an image as base64 with the md5 of its bytes', async () => {
    const answer = await send({ channel: 'robot', to: 'default', image: { base64: PNG.toString('base64') } });
    assert.equal(answer.status, 200, answer.text);
    const body = bodyOf(sentWith(MAIN_KEY).at(-1)!);
    assert.equal(body.msgtype, 'image');
    assert.equal(body.image.base64, PNG.toString('base64'));
    assert.equal(body.image.md5, createHash('md5').update(PNG).digest('hex'));
  });

  it('delivers all of 25 sends made at once, never more than 20 in any 2 s window', async () => {
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, index) => send({ channel: 'robot-queue', to: 'default', text: `message ${index}` })),
    );
    assert.deepEqual(
      answers.map((answer) => answer.status),
      Array(25).fill(200),
    );
    const arrivals = sentWith(QUEUE_KEY)
      .map((request) => request.at)
      .sort((a, b) => a - b);
    assert.equal(arrivals.length, 25, 'none dropped');
    const texts = sentWith(QUEUE_KEY).map((request) => bodyOf(request).text.content);
    assert.deepEqual(new Set(texts).size, 25);
    for (let i = 0; i + 20 < arrivals.length; i += 1) {
      const gap = arrivals[i + 20]! - arrivals[i]!;
      assert.ok(gap >= 2000, `messages ${i} and ${i + 20} arrived ${gap} ms apart: 21 within one 2 s window`);
    }
  });

  it('answers 429 with retry_after and Retry-After when the queue would wait longer than maxWaitSeconds', async () => {
    for (let i = 0; i < 20; i += 1) {
      const answer = await send({ channel: 'robot-strict', to: 'default', text: `ok ${i}` });
      assert.equal(answer.status, 200, answer.text);
    }
    const refused = await send({ channel: 'robot-strict', to: 'default', text: 'one too many' });
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.error.code, 'IMG_ERR_SEND_RATE_LIMITED');
    assert.ok(Number.isInteger(refused.json.retry_after) && refused.json.retry_after >= 1 && refused.json.retry_after <= 60, refused.text);
    assert.equal(refused.headers['retry-after'], String(refused.json.retry_after));
    assert.equal(sentWith(STRICT_KEY).length, 20, 'the refused send never reached WeCom');
  });

  it('answers the URL check of the robot callback', async () => {
    const answer = await call('GET', `${gw.url}/hooks/robot?${wecomUrlCheck('robot-echo-123', { receiveId: '' })}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'robot-echo-123');
  });

  it('stores and delivers a robot callback encrypted by @wecom/crypto, then replies through its own WebhookUrl', async () => {
    const callback = wecomCallback(groupText('robot-msg-0001', robotApi.url), { receiveId: '' });
    const answer = await call('POST', `${gw.url}/hooks/robot?${callback.query}`, { body: callback.body, headers: { 'content-type': 'text/xml' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '');

    await subscriber.waitForRequests(1);
    const delivered = subscriber.requests[0]!;
    const event = new Webhook(SUB_SECRET).verify(delivered.body.toString('utf8'), delivered.headers as Record<string, string>) as any;
    assert.equal(event.platform, 'wecom-robot');
    assert.equal(event.message.platformId, 'robot-msg-0001');
    assert.equal(event.message.text, 'what is the build status?');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.sender, { id: 'zhangsan', name: '张三', isSelf: false });
    assert.deepEqual(event.conversation, { id: CHAT_ID, type: 'group', name: null });
    assert.ok((await eventsOf(gw.url)).some((stored) => stored.id === event.id));
    const shown = await call('GET', `${gw.url}/v1/events/${event.id}`, { token: ADMIN_TOKEN });
    assert.match(shown.json.raw.WebhookUrl, /key=\[redacted\]$/, 'the API shows the WebhookUrl without its key');
    assert.ok(!shown.text.includes(CALLBACK_KEY));

    const reply = await send({ channel: 'robot', to: CHAT_ID, text: 'all green', replyTo: event.message.id });
    assert.equal(reply.status, 200, reply.text);
    const viaCallback = sentWith(CALLBACK_KEY);
    assert.equal(viaCallback.length, 1);
    assert.deepEqual(bodyOf(viaCallback[0]!), { chatid: CHAT_ID, msgtype: 'text', text: { content: 'all green', mentioned_list: ['zhangsan'] } });

    const markdown = await send({ channel: 'robot', to: CHAT_ID, markdown: 'all **green**', replyTo: 'robot-msg-0001' });
    assert.equal(markdown.status, 200, markdown.text);
    assert.deepEqual(bodyOf(sentWith(CALLBACK_KEY)[1]!), { chatid: CHAT_ID, msgtype: 'markdown', markdown: { content: '<@zhangsan> all **green**' } });
  });

  it('stores a retried callback once', async () => {
    const before = (await eventsOf(gw.url)).length;
    const callback = wecomCallback(groupText('robot-msg-0002', robotApi.url), { receiveId: '' });
    for (let i = 0; i < 2; i += 1) {
      const answer = await call('POST', `${gw.url}/hooks/robot?${callback.query}`, { body: callback.body, headers: { 'content-type': 'text/xml' } });
      assert.equal(answer.status, 200);
    }
    assert.equal((await eventsOf(gw.url)).length, before + 1);
  });

  it('refuses a callback with a bad signature with 401 and stores nothing', async () => {
    const before = (await eventsOf(gw.url)).length;
    const callback = wecomCallback(groupText('robot-msg-bad', robotApi.url), { receiveId: '', token: 'notTheRobotToken' });
    const answer = await call('POST', `${gw.url}/hooks/robot?${callback.query}`, { body: callback.body, headers: { 'content-type': 'text/xml' } });
    assert.equal(answer.status, 401);
    assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    const events = await eventsOf(gw.url);
    assert.equal(events.length, before);
    assert.ok(!events.some((stored) => stored.message.platformId === 'robot-msg-bad'));
  });

  it('refuses callbacks on a channel without token and encodingAESKey', async () => {
    const callback = wecomCallback(groupText('robot-msg-3', robotApi.url), { receiveId: '' });
    const answer = await call('POST', `${gw.url}/hooks/robot-queue?${callback.query}`, { body: callback.body });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_UNSUPPORTED');
  });

  it('never writes a webhook key to the log', () => {
    const logs = gw.logText();
    assert.ok(logs.includes('"msg":"send"'), 'sends were logged');
    for (const key of ALL_KEYS) assert.ok(!logs.includes(key), `a webhook key is in the log`);
  });
});
