import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { LimiterClock } from '../../../src/platforms/_kit/send-rate-limiter.ts';
import type { SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import { buildUnifiedEvent } from '../../../src/pipeline/build-event.ts';
import { FakeHttpServer, type RecordedRequest } from '../../helpers/fake-http.ts';
import { adapterFor, CHAT_ID, channel, normalizeXml, REPLY_KEY, robotXml, WEBHOOK_KEY } from './helpers.ts';
import { rejection } from '../../helpers/errors.ts';

const webhook = new FakeHttpServer(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** Time stands still: sends beyond the limit are refused or wait forever, never pass. */
const frozenClock: LimiterClock = { now: () => 0, setTimer: () => ({ cancel: () => undefined }) };

function sendRequest(overrides: Partial<SendRequest>): SendRequest {
  return { to: 'default', mentions: [], replyTo: null, idempotencyKey: 'k', ...overrides };
}

function bodyOf(request: RecordedRequest): any {
  return JSON.parse(request.body.toString('utf8'));
}

/** Replying to a stored group message whose WebhookUrl points at the fake webhook, with its own key. */
function replyingTo(options: { chatType?: string; webhookUrl?: string } = {}): Pick<SendRequest, 'replyTo' | 'replyToRaw'> {
  const normalized = normalizeXml(
    robotXml({ chatType: options.chatType, webhookUrl: options.webhookUrl ?? `${webhook.url}/cgi-bin/webhook/send?key=${REPLY_KEY}` }),
  );
  return { replyTo: buildUnifiedEvent(normalized, { id: 'robot', platform: 'wecom-robot' }, new Date()), replyToRaw: normalized.raw };
}

describe('sending through a robot webhook', () => {
  before(async () => {
    await webhook.start();
  });

  after(async () => {
    await webhook.stop();
  });

  beforeEach(() => {
    webhook.requests.length = 0;
  });

  const robot = () => adapterFor(channel({ apiBase: webhook.url }));

  it('posts text to the channel\'s webhook, userids in mentioned_list and mobile numbers in mentioned_mobile_list', async () => {
    const result = await robot().send!(sendRequest({ text: 'deploy done', mentions: ['lisi', '13800001111', '@all'] }));
    assert.deepEqual(result, { platformMessageId: null });
    const [request] = webhook.requests;
    assert.equal(request!.url, `/cgi-bin/webhook/send?key=${WEBHOOK_KEY}`);
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.deepEqual(bodyOf(request!), {
      msgtype: 'text',
      text: { content: 'deploy done', mentioned_list: ['lisi', '@all'], mentioned_mobile_list: ['13800001111'] },
    });
  });

  it('sends `to` as chatid unless it is "default"', async () => {
    await robot().send!(sendRequest({ to: CHAT_ID, text: 'hi' }));
    assert.deepEqual(bodyOf(webhook.requests[0]!), { chatid: CHAT_ID, msgtype: 'text', text: { content: 'hi' } });
  });

  it('sends markdown, mentioning people with <@userid>', async () => {
    await robot().send!(sendRequest({ markdown: '**build** failed', mentions: ['lisi'] }));
    assert.deepEqual(bodyOf(webhook.requests[0]!), { msgtype: 'markdown', markdown: { content: '<@lisi> **build** failed' } });
  });

  it('sends news articles as they are given', async () => {
    const articles = [{ title: 'Deploy', url: 'https://example.com/deploy' }];
    await robot().send!(sendRequest({ news: { articles } }));
    assert.deepEqual(bodyOf(webhook.requests[0]!), { msgtype: 'news', news: { articles } });
  });

  it('refuses mobile numbers and @all as markdown mentions, which markdown cannot express', async () => {
    const error = await rejection(robot().send!(sendRequest({ markdown: 'x', mentions: ['13800001111'] })));
    assert.equal(error.code, 'IMG_ERR_SEND_UNSUPPORTED');
    assert.equal(webhook.requests.length, 0);
  });

  it('sends an image as base64 with the md5 of its raw bytes', async () => {
    await robot().send!(sendRequest({ image: { base64: PNG.toString('base64') } }));
    const body = bodyOf(webhook.requests[0]!);
    assert.equal(body.msgtype, 'image');
    assert.deepEqual(Buffer.from(body.image.base64, 'base64'), PNG);
    assert.equal(body.image.md5, createHash('md5').update(PNG).digest('hex'));
  });

  it('refuses text over 2048 bytes before calling WeCom', async () => {
    const error = await rejection(robot().send!(sendRequest({ text: '字'.repeat(683) })));
    assert.equal(error.code, 'IMG_ERR_VALIDATION');
    assert.equal(webhook.requests.length, 0);
  });

  it("replies through the callback's own WebhookUrl, to its chat, mentioning its sender", async () => {
    await robot().send!(sendRequest({ to: CHAT_ID, text: 'on it', ...replyingTo() }));
    const [request] = webhook.requests;
    assert.equal(request!.url, `/cgi-bin/webhook/send?key=${REPLY_KEY}`);
    assert.deepEqual(bodyOf(request!), { chatid: CHAT_ID, msgtype: 'text', text: { content: 'on it', mentioned_list: ['zhangsan'] } });
  });

  it('replies in markdown with <@sender> in front, and to the message\'s chat when `to` is "default"', async () => {
    await robot().send!(sendRequest({ markdown: 'done', ...replyingTo() }));
    assert.deepEqual(bodyOf(webhook.requests[0]!), { chatid: CHAT_ID, msgtype: 'markdown', markdown: { content: '<@zhangsan> done' } });
  });

  it('does not mention the user when replying in a single chat', async () => {
    await robot().send!(sendRequest({ to: 'wokSingle', text: 'hello', ...replyingTo({ chatType: 'single' }) }));
    assert.deepEqual(bodyOf(webhook.requests[0]!).text, { content: 'hello' });
  });

  it('replies without a webhookKey of its own, and refuses anything else', async () => {
    const receiveOnly = adapterFor(channel({ apiBase: webhook.url, webhookKey: undefined }));
    await receiveOnly.send!(sendRequest({ to: CHAT_ID, text: 'reply', ...replyingTo() }));
    assert.equal(webhook.requests.length, 1);
    const error = await rejection(receiveOnly.send!(sendRequest({ to: CHAT_ID, text: 'proactive' })));
    assert.equal(error.code, 'IMG_ERR_SEND_UNSUPPORTED');
  });

  it('ignores a WebhookUrl that is not a robot webhook and uses the channel key instead', async () => {
    await robot().send!(sendRequest({ to: CHAT_ID, text: 'x', ...replyingTo({ webhookUrl: `${webhook.url}/somewhere/else?key=abc` }) }));
    assert.equal(webhook.requests[0]!.url, `/cgi-bin/webhook/send?key=${WEBHOOK_KEY}`);
  });

  it('follows a WebhookUrl only to WeCom\'s hosts or the channel\'s apiBase, never to another host it names', async () => {
    const elsewhere = new FakeHttpServer(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
    await elsewhere.start();
    try {
      await robot().send!(sendRequest({ to: CHAT_ID, text: 'x', ...replyingTo({ webhookUrl: `${elsewhere.url}/cgi-bin/webhook/send?key=${REPLY_KEY}` }) }));
      assert.equal(elsewhere.requests.length, 0, 'the reply key went nowhere else');
      assert.equal(webhook.requests[0]!.url, `/cgi-bin/webhook/send?key=${WEBHOOK_KEY}`);
    } finally {
      await elsewhere.stop();
    }
  });

  it('turns errcode 45009 into IMG_ERR_PLATFORM_RATE_LIMITED with a minute to wait', async () => {
    webhook.respondWith({ status: 200, body: { errcode: 45009, errmsg: 'api freq out of limit' } });
    const error = await rejection(robot().send!(sendRequest({ text: 'x' })));
    assert.equal(error.code, 'IMG_ERR_PLATFORM_RATE_LIMITED');
    assert.equal(error.retryAfter, 60);
    assert.deepEqual(error.details, { errcode: 45009, errmsg: 'api freq out of limit' });
  });

  it('turns any other errcode into IMG_ERR_PLATFORM_REJECTED with errcode and errmsg, and -1 into unreachable', async () => {
    webhook.respondWith(
      { status: 200, body: { errcode: 93000, errmsg: 'invalid webhook url' } },
      { status: 200, body: { errcode: -1, errmsg: 'system busy' } },
    );
    const rejected = await rejection(robot().send!(sendRequest({ text: 'x' })));
    assert.equal(rejected.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.deepEqual(rejected.details, { errcode: 93000, errmsg: 'invalid webhook url' });
    const busy = await rejection(robot().send!(sendRequest({ text: 'x' })));
    assert.equal(busy.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
  });

  it('never lets a webhook key into an error', async () => {
    webhook.respondWith(
      { status: 200, body: { errcode: 93000, errmsg: `invalid key ${WEBHOOK_KEY}` } },
      { status: 400, body: `bad request for key=${WEBHOOK_KEY}` },
    );
    for (let i = 0; i < 2; i += 1) {
      const error = await rejection(robot().send!(sendRequest({ text: 'x' })));
      assert.ok(!JSON.stringify({ message: error.message, details: error.details }).includes(WEBHOOK_KEY), error.message);
    }
    const unreachable = adapterFor(channel({ apiBase: 'http://127.0.0.1:9' }));
    const error = await rejection(unreachable.send!(sendRequest({ text: 'x' })));
    assert.equal(error.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.ok(!error.message.includes(WEBHOOK_KEY), error.message);
  });

  it('holds each robot to its own rate limit: the channel key and a reply WebhookUrl key apart', async () => {
    const limited = adapterFor(channel({ apiBase: webhook.url, rateLimit: { messages: 2, perSeconds: 60, maxWaitSeconds: 0 } }), {
      clock: frozenClock,
    });
    await limited.send!(sendRequest({ text: '1' }));
    await limited.send!(sendRequest({ text: '2' }));
    const error = await rejection(limited.send!(sendRequest({ text: '3' })));
    assert.equal(error.code, 'IMG_ERR_SEND_RATE_LIMITED');
    assert.equal(error.retryAfter, 60);
    await limited.send!(sendRequest({ to: CHAT_ID, text: 'reply', ...replyingTo() }));
    assert.equal(webhook.requests.length, 3, 'the third send to the channel key never reached WeCom');
  });
});
