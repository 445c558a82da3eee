import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import type { LimiterClock } from '../../../src/platforms/_kit/send-rate-limiter.ts';
import type { ChannelAdapter, SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import { FEISHU_API_BASES, createFeishuAdapter, feishuApiBase } from '../../../src/platforms/feishu/index.ts';
import { normalizeFeishuEvent } from '../../../src/platforms/feishu/normalize.ts';
import { feishuUuid, receiveIdType } from '../../../src/platforms/feishu/send.ts';
import { buildUnifiedEvent } from '../../../src/pipeline/build-event.ts';
import { capturingLogger, testAdapterDeps, type TestAdapterDeps } from '../../helpers/adapter-deps.ts';
import { BOT_OPEN_ID, CHAT_ID, FEISHU_KEYS, FakeFeishuApi, bearerOf, envelope, feishuCallback, feishuChannel, feishuRequest, jsonOf, mention, messageEvent, uploadedImage } from './helpers.ts';
import { rejection } from '../../helpers/errors.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** Time stands still: sends beyond the limit are refused or wait forever, never pass. */
const frozenClock: LimiterClock = { now: () => 0, setTimer: () => ({ cancel: () => undefined }) };

function sendRequest(overrides: Partial<SendRequest> = {}): SendRequest {
  return { to: CHAT_ID, mentions: [], replyTo: null, idempotencyKey: 'key-1', text: 'hello', ...overrides };
}

/** A stored event of the channel, as the send service hands it over in `replyTo`. */
function stored(payload: unknown) {
  const normalized = normalizeFeishuEvent(payload as Record<string, unknown>, { receivedAt: new Date(), botOpenId: BOT_OPEN_ID })!;
  return buildUnifiedEvent(normalized, { id: 'feishu', platform: 'feishu' }, new Date());
}

describe('sending through Feishu', () => {
  const api = new FakeFeishuApi();
  let deps: TestAdapterDeps;
  let adapter: ChannelAdapter;

  const messages = () => api.requestsTo('/open-apis/im/v1/messages');
  const lastMessage = () => messages().at(-1)!;

  before(async () => {
    await api.start();
  });

  after(async () => {
    await api.stop();
  });

  beforeEach(() => {
    api.reset();
    deps = testAdapterDeps();
    adapter = createFeishuAdapter(feishuChannel({ apiBase: api.url, botOpenId: BOT_OPEN_ID }), deps);
  });

  it('sends text to a chat with a tenant_access_token, a uuid, and answers the message_id', async () => {
    const result = await adapter.send!(sendRequest({ text: 'hello chat' }));
    assert.match(result.platformMessageId ?? '', /^om_sent_\d+$/);
    const token = api.requestsTo('/open-apis/auth/v3/tenant_access_token/internal')[0]!;
    assert.deepEqual(jsonOf(token), { app_id: FEISHU_KEYS.appId, app_secret: FEISHU_KEYS.appSecret });
    assert.equal(token.headers.authorization, undefined, 'the token request carries no auth header');
    const sent = lastMessage();
    assert.equal(new URL(sent.url, 'http://x').searchParams.get('receive_id_type'), 'chat_id');
    assert.equal(bearerOf(sent), 't-1');
    assert.deepEqual(jsonOf(sent), {
      receive_id: CHAT_ID,
      msg_type: 'text',
      content: JSON.stringify({ text: 'hello chat' }),
      uuid: feishuUuid('feishu', CHAT_ID, 'key-1'),
    });
  });

  it('puts mentions before the text in Feishu\'s <at> syntax, everyone as "all"', async () => {
    await adapter.send!(sendRequest({ text: 'standup', mentions: ['ou_tom', 'all', 'ou_tom'] }));
    assert.equal(JSON.parse(jsonOf(lastMessage()).content).text, '<at user_id="ou_tom"></at> <at user_id="all"></at> standup');
  });

  it('refuses a mention that is no id with 400 IMG_ERR_VALIDATION', async () => {
    const error = await rejection(adapter.send!(sendRequest({ mentions: ['ou_x"></at><at user_id="all'] })));
    assert.equal(error.code, 'IMG_ERR_VALIDATION');
    assert.equal(messages().length, 0);
  });

  it('sends markdown as a post with one md element, mentions first', async () => {
    await adapter.send!(sendRequest({ text: undefined, markdown: '**bold** and [link](https://example.com)', mentions: ['ou_tom'] }));
    const body = jsonOf(lastMessage());
    assert.equal(body.msg_type, 'post');
    assert.deepEqual(JSON.parse(body.content), {
      zh_cn: { title: '', content: [[{ tag: 'md', text: '<at user_id="ou_tom"></at> **bold** and [link](https://example.com)' }]] },
    });
  });

  it('uploads an image (image_type=message) and sends its image_key', async () => {
    await adapter.send!(sendRequest({ text: undefined, image: { base64: PNG.toString('base64') } }));
    const upload = api.requestsTo('/open-apis/im/v1/images')[0]!;
    assert.equal(bearerOf(upload), 't-1');
    const { imageType, file } = await uploadedImage(upload);
    assert.equal(imageType, 'message');
    assert.equal(file.name, 'image.png');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), PNG);
    assert.deepEqual(jsonOf(lastMessage()).content, JSON.stringify({ image_key: 'img_v3_test_key' }));
    assert.equal(jsonOf(lastMessage()).msg_type, 'image');
  });

  it('refuses mentions with an image with 400 IMG_ERR_SEND_UNSUPPORTED, before uploading', async () => {
    const error = await rejection(adapter.send!(sendRequest({ text: undefined, image: { base64: PNG.toString('base64') }, mentions: ['ou_tom'] })));
    assert.equal(error.code, 'IMG_ERR_SEND_UNSUPPORTED');
    assert.equal(api.requestsTo('/open-apis/im/v1/images').length, 0);
  });

  it('replies to a received message through its reply endpoint', async () => {
    const replyTo = stored(messageEvent({ messageId: 'om_question' }));
    const result = await adapter.send!(sendRequest({ text: 'answer', replyTo }));
    const reply = api.requestsTo('/open-apis/im/v1/messages/om_question/reply')[0]!;
    assert.deepEqual(jsonOf(reply), { msg_type: 'text', content: JSON.stringify({ text: 'answer' }), uuid: feishuUuid('feishu', CHAT_ID, 'key-1') });
    assert.match(result.platformMessageId ?? '', /^om_sent_/);
    assert.equal(messages().length, 0);
  });

  it('refuses a reply to a message of another chat than `to` with 400 IMG_ERR_VALIDATION', async () => {
    const replyTo = stored(messageEvent({ messageId: 'om_elsewhere', chatId: 'oc_other' }));
    const error = await rejection(adapter.send!(sendRequest({ replyTo })));
    assert.equal(error.code, 'IMG_ERR_VALIDATION');
  });

  it('sends a new message when replyTo names an event that is no message (the bot added)', async () => {
    const replyTo = stored(envelope('im.chat.member.bot.added_v1', { chat_id: CHAT_ID, operator_id: { open_id: 'ou_u' } }));
    await adapter.send!(sendRequest({ text: 'hi all', replyTo }));
    assert.equal(jsonOf(lastMessage()).receive_id, CHAT_ID);
  });

  it('derives a stable uuid of 32 hex digits from the channel, the chat and the idempotency key', () => {
    const uuid = feishuUuid('feishu', CHAT_ID, 'key-1');
    assert.match(uuid, /^[0-9a-f]{32}$/);
    assert.equal(feishuUuid('feishu', CHAT_ID, 'key-1'), uuid);
    assert.notEqual(feishuUuid('feishu', CHAT_ID, 'key-2'), uuid);
    assert.notEqual(feishuUuid('feishu', 'oc_other', 'key-1'), uuid);
    assert.notEqual(feishuUuid('lark', CHAT_ID, 'key-1'), uuid);
  });

  it('sends to an open_id or union_id with the matching receive_id_type', async () => {
    assert.equal(receiveIdType('oc_x'), 'chat_id');
    assert.equal(receiveIdType('ou_x'), 'open_id');
    assert.equal(receiveIdType('on_x'), 'union_id');
    await adapter.send!(sendRequest({ to: 'ou_someone' }));
    assert.equal(new URL(lastMessage().url, 'http://x').searchParams.get('receive_id_type'), 'open_id');
  });

  it('fetches a new token once when Feishu answers 99991663, and the send succeeds', async () => {
    await adapter.send!(sendRequest());
    assert.equal(api.tokenFetches(), 1);
    api.invalidTokens.add('t-1');
    const result = await adapter.send!(sendRequest({ idempotencyKey: 'key-2' }));
    assert.ok(result.platformMessageId);
    assert.equal(api.tokenFetches(), 2);
    assert.deepEqual(messages().slice(1).map(bearerOf), ['t-1', 't-2']);
  });

  it('gives up after one new token: a second 99991663 is 422 IMG_ERR_PLATFORM_REJECTED with the code', async () => {
    api.route('/open-apis/im/v1/messages', () => ({ status: 400, body: { code: 99991663, msg: 'Invalid access token' } }));
    try {
      const error = await rejection(adapter.send!(sendRequest()));
      assert.equal(error.code, 'IMG_ERR_PLATFORM_REJECTED');
      assert.deepEqual(error.details, { code: 99991663, msg: 'Invalid access token', httpStatus: 400 });
      assert.equal(api.tokenFetches(), 2);
    } finally {
      api.route('/open-apis/im/v1/messages', null);
    }
  });

  it('maps Feishu\'s refusals: codes to 422 with {code, msg}, frequency limits (99991400 with HTTP 400, HTTP 429) to 429', async () => {
    const answers: [unknown, number, string, unknown][] = [
      [{ status: 200, body: { code: 230002, msg: 'Bot/User can NOT be out of the chat.' } }, 422, 'IMG_ERR_PLATFORM_REJECTED', { code: 230002, msg: 'Bot/User can NOT be out of the chat.' }],
      [{ status: 400, body: { code: 230001, msg: 'invalid receive_id', error: { log_id: 'x'.repeat(600) } } }, 422, 'IMG_ERR_PLATFORM_REJECTED', { code: 230001, msg: 'invalid receive_id', httpStatus: 400 }],
      [{ status: 400, body: { code: 99991400, msg: 'request trigger frequency limit' } }, 429, 'IMG_ERR_PLATFORM_RATE_LIMITED', { code: 99991400, msg: 'request trigger frequency limit', httpStatus: 400 }],
      [{ status: 200, body: { code: 230020, msg: 'rate limit' } }, 429, 'IMG_ERR_PLATFORM_RATE_LIMITED', { code: 230020, msg: 'rate limit' }],
      [{ status: 429, headers: { 'retry-after': '3' }, body: { code: 99991400, msg: 'slow down' } }, 429, 'IMG_ERR_PLATFORM_RATE_LIMITED', { httpStatus: 429 }],
    ];
    for (const [answer, status, code, details] of answers) {
      api.route('/open-apis/im/v1/messages', () => answer as never);
      const error = await rejection(adapter.send!(sendRequest()));
      assert.equal(error.status, status, JSON.stringify(answer));
      assert.equal(error.code, code);
      assert.deepEqual(error.details, details);
      if (status === 429) assert.ok((error.retryAfter ?? 0) >= 1);
    }
    api.route('/open-apis/im/v1/messages', null);
    const explained = await (async () => {
      api.route('/open-apis/im/v1/messages', () => ({ status: 200, body: { code: 230002, msg: 'Bot/User can NOT be out of the chat.' } }));
      try {
        return await rejection(adapter.send!(sendRequest()));
      } finally {
        api.route('/open-apis/im/v1/messages', null);
      }
    })();
    assert.match(explained.message, /Bot\/User can NOT be out of the chat\. \(the bot is not in this chat/);
  });

  it('answers 422 when the App Secret is refused, without the secret in the error or the logs', async () => {
    api.route('/open-apis/auth/v3/tenant_access_token/internal', () => ({ status: 200, body: { code: 10014, msg: 'app secret invalid' } }));
    const { logger, lines } = capturingLogger();
    const logged = createFeishuAdapter(feishuChannel({ apiBase: api.url, botOpenId: BOT_OPEN_ID }), testAdapterDeps(logger));
    try {
      const error = await rejection(logged.send!(sendRequest()));
      assert.equal(error.code, 'IMG_ERR_PLATFORM_REJECTED');
      assert.deepEqual(error.details, { code: 10014, msg: 'app secret invalid' });
      assert.ok(!JSON.stringify(error.toBody()).includes(FEISHU_KEYS.appSecret));
      assert.ok(!lines.join('').includes(FEISHU_KEYS.appSecret));
    } finally {
      api.route('/open-apis/auth/v3/tenant_access_token/internal', null);
    }
  });

  it('takes tokens from tokenUrl when set, posting {app_id, app_secret} there', async () => {
    const viaService = createFeishuAdapter(feishuChannel({ apiBase: api.url, tokenUrl: `${api.url}/token-service/feishu`, botOpenId: BOT_OPEN_ID }), testAdapterDeps());
    api.route('/token-service/feishu', () => ({ status: 200, body: { code: 0, tenant_access_token: 't-from-service', expire: 3600 } }));
    await viaService.send!(sendRequest());
    assert.deepEqual(jsonOf(api.requestsTo('/token-service/feishu')[0]!), { app_id: FEISHU_KEYS.appId, app_secret: FEISHU_KEYS.appSecret });
    assert.equal(api.requestsTo('/open-apis/auth/v3/tenant_access_token/internal').length, 0);
    assert.equal(bearerOf(lastMessage()), 't-from-service');

    // Feishu refuses it: the service is asked again, told which token was refused.
    api.invalidTokens.add('t-from-service');
    api.route('/token-service/feishu', () => ({ status: 200, body: { code: 0, tenant_access_token: 't-renewed', expire: 3600 } }));
    await viaService.send!(sendRequest({ idempotencyKey: 'key-2' }));
    assert.deepEqual(jsonOf(api.requestsTo('/token-service/feishu')[1]!), { app_id: FEISHU_KEYS.appId, app_secret: FEISHU_KEYS.appSecret, invalid_token: 't-from-service' });
    assert.equal(bearerOf(lastMessage()), 't-renewed');
  });

  it('paces sends per chat: the sixth within a second waits (or is refused with maxWaitSeconds 0); other chats are not held up', async () => {
    const paced = createFeishuAdapter(feishuChannel({ apiBase: api.url, botOpenId: BOT_OPEN_ID, rateLimit: { maxWaitSeconds: 0 } }), testAdapterDeps(), frozenClock);
    for (let i = 0; i < 5; i += 1) await paced.send!(sendRequest({ idempotencyKey: `p-${i}` }));
    const error = await rejection(paced.send!(sendRequest({ idempotencyKey: 'p-5' })));
    assert.equal(error.code, 'IMG_ERR_SEND_RATE_LIMITED');
    await paced.send!(sendRequest({ to: 'oc_another_chat', idempotencyKey: 'p-6' }));
    assert.equal(messages().length, 6);
  });

  it('learns the bot\'s open_id from bot/v3/info in the background and then sees mentions of it exactly', async () => {
    const learning = testAdapterDeps();
    const unknownBot = createFeishuAdapter(feishuChannel({ apiBase: api.url }), learning);
    // The sender has no user_id, so nothing would be guessed: only the learned open_id tells.
    const payload = messageEvent({ content: { text: '@_user_1 hi' }, mentions: [mention(1, BOT_OPEN_ID, 'imgate')], sender: { open_id: 'ou_sender' } });
    const before = await unknownBot.handleCallback(feishuRequest(feishuCallback(payload)));
    assert.equal(before.kind === 'events' && before.events[0]!.message.mentionsBot, false);
    const stop = new AbortController();
    await unknownBot.runBackground!(stop.signal);
    assert.equal(bearerOf(api.requestsTo('/open-apis/bot/v3/info')[0]!), 't-1');
    const afterwards = await unknownBot.handleCallback(feishuRequest(feishuCallback(payload)));
    assert.equal(afterwards.kind === 'events' && afterwards.events[0]!.message.mentionsBot, true);
    assert.equal(createFeishuAdapter(feishuChannel({ botOpenId: BOT_OPEN_ID }), testAdapterDeps()).runBackground, undefined, 'nothing to learn when configured');
  });

  it('keeps trying bot/v3/info after a failure, showing it as the channel\'s error, until stopped', async () => {
    api.route('/open-apis/bot/v3/info', () => ({ status: 200, body: { code: 99991672, msg: 'Access denied' } }));
    try {
      const failing = testAdapterDeps();
      const unknownBot = createFeishuAdapter(feishuChannel({ apiBase: api.url }), failing);
      const stop = new AbortController();
      const running = unknownBot.runBackground!(stop.signal);
      while (failing.reportedErrors.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      stop.abort();
      await running;
      assert.ok(failing.reportedErrors[0] instanceof ImgateError);
      assert.equal((failing.reportedErrors[0] as ImgateError).details?.code, 99991672);
    } finally {
      api.route('/open-apis/bot/v3/info', null);
    }
  });
});

describe('Feishu and Lark hosts', () => {
  it('defaults feishu to open.feishu.cn and lark to open.larksuite.com', () => {
    assert.equal(feishuApiBase(feishuChannel()), 'https://open.feishu.cn');
    assert.equal(feishuApiBase(feishuChannel({ id: 'lark', platform: 'lark' })), 'https://open.larksuite.com');
    assert.deepEqual(FEISHU_API_BASES, { feishu: 'https://open.feishu.cn', lark: 'https://open.larksuite.com' });
  });

  it('takes apiBase over either default, without its trailing slash', () => {
    assert.equal(feishuApiBase(feishuChannel({ id: 'lark', platform: 'lark', apiBase: 'http://127.0.0.1:9/' })), 'http://127.0.0.1:9');
  });

  it('keeps a Feishu and a Lark channel\'s tokens apart, even for the same app id', async () => {
    const api = await new FakeFeishuApi().start();
    try {
      const deps = testAdapterDeps();
      const feishuSide = createFeishuAdapter(feishuChannel({ apiBase: api.url, botOpenId: BOT_OPEN_ID }), deps);
      const larkSide = createFeishuAdapter(feishuChannel({ id: 'lark', platform: 'lark', apiBase: api.url, botOpenId: BOT_OPEN_ID }), deps);
      await feishuSide.send!(sendRequest());
      await larkSide.send!(sendRequest());
      assert.equal(api.tokenFetches(), 2, 'one token per platform, even for the same app id');
    } finally {
      await api.stop();
    }
  });
});
