import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import {
  BOT_OPEN_ID,
  CHAT_ID,
  FEISHU_KEYS,
  FakeFeishuApi,
  bearerOf,
  feishuCallback,
  jsonOf,
  mention,
  messageEvent,
  uploadedImage,
  type PostedCallback,
} from '../platforms/feishu/helpers.ts';

const { appSecret, encryptKey, verificationToken } = FEISHU_KEYS;
/** Own app ids, so that each test's token fetches can be counted apart. */
const APP = { main: 'cli_main0001', burst: 'cli_burst0001', expiry: 'cli_expiry0001', lark: 'cli_lark0001' };
const SUB_SECRET = `whsec_${Buffer.from('feishu-subscriber-key-32-bytes-x').toString('base64')}`;
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('integration png')]);

const post = (gw: TestGateway, channel: string, callback: PostedCallback) =>
  call('POST', `${gw.url}/hooks/${channel}`, { body: callback.body, headers: callback.headers });
const send = (gw: TestGateway, body: object, headers: Record<string, string> = {}) =>
  call('POST', `${gw.url}/v1/messages`, { body, token: API_TOKEN, headers });

describe('the feishu and lark channels, end to end', () => {
  let gw: TestGateway;
  const api = new FakeFeishuApi();
  const subscriber = new FakeHttpServer();

  const channel = (id: string, appId: string, extra: Record<string, unknown> = {}) => ({
    id,
    platform: 'feishu',
    appId,
    appSecret,
    encryptKey,
    verificationToken,
    apiBase: api.url,
    ...extra,
  });

  before(async () => {
    await Promise.all([api.start(), subscriber.start()]);
    gw = await startTestGateway({
      channels: [
        // No botOpenId: learned from bot/v3/info at start.
        channel('feishu', APP.main),
        channel('feishu-burst', APP.burst, { botOpenId: BOT_OPEN_ID }),
        channel('feishu-expiry', APP.expiry, { botOpenId: BOT_OPEN_ID }),
        { id: 'lark', platform: 'lark', appId: APP.lark, appSecret, verificationToken, apiBase: `${api.url}/`, botOpenId: BOT_OPEN_ID },
      ],
      subscriptions: [{ id: 'unified', url: `${subscriber.url}/events`, secret: SUB_SECRET, channels: ['feishu', 'lark'] }],
    });
    await waitFor(() => (api.requestsTo('/open-apis/bot/v3/info').length > 0 ? true : undefined), 10_000, 'the bot/v3/info call');
  });

  after(async () => {
    await gw.close();
    await Promise.all([api.stop(), subscriber.stop()]);
    removeDir(gw.dir);
  });

  const storedWith = async (messageId: string) => (await eventsOf(gw.url)).filter((event) => event.message.platformId === messageId);

  describe('url_verification', () => {
    it('answers a plain check with {challenge} and stores nothing', async () => {
      const before = (await eventsOf(gw.url)).length;
      const answer = await post(gw, 'feishu', feishuCallback({ challenge: 'ch-plain-1', token: verificationToken, type: 'url_verification' }));
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json, { challenge: 'ch-plain-1' });
      assert.match(String(answer.headers['content-type']), /^application\/json/);
      assert.equal((await eventsOf(gw.url)).length, before);
    });

    it('answers an encrypted check with its decrypted challenge', async () => {
      const check = feishuCallback({ challenge: 'ch-enc-2', token: verificationToken, type: 'url_verification' }, { encryptKey, sign: false });
      const answer = await post(gw, 'feishu', check);
      assert.deepEqual(answer.json, { challenge: 'ch-enc-2' });
    });

    it('refuses a check with another app\'s token with 401', async () => {
      const answer = await post(gw, 'feishu', feishuCallback({ challenge: 'ch', token: 'someone-else', type: 'url_verification' }));
      assert.equal(answer.status, 401);
      assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_BAD_TOKEN');
    });
  });

  it('stores an encrypted, signed message once and delivers it once, though Feishu posts it three times', async () => {
    const payload = messageEvent({
      messageId: 'om_int_once',
      content: { text: '@_user_1 deploy please' },
      mentions: [mention(1, BOT_OPEN_ID, 'imgate')],
      sender: { open_id: 'ou_alice' },
    });
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await post(gw, 'feishu', feishuCallback(payload, { encryptKey })));
    assert.deepEqual(answers.map((answer) => [answer.status, answer.text]), [[200, '{}'], [200, '{}'], [200, '{}']]);

    const isThis = (body: Buffer) => body.toString('utf8').includes('om_int_once');
    await waitFor(() => subscriber.requests.find((request) => isThis(request.body)), 10_000, 'the delivery');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const deliveries = subscriber.requests.filter((request) => isThis(request.body));
    assert.equal(deliveries.length, 1);
    const event = new Webhook(SUB_SECRET).verify(deliveries[0]!.body.toString('utf8'), deliveries[0]!.headers as Record<string, string>) as any;
    assert.equal(event.platform, 'feishu');
    assert.equal(event.message.text, 'deploy please');
    assert.deepEqual(event.message.mentions, [{ id: BOT_OPEN_ID, name: 'imgate' }]);
    assert.equal(event.message.mentionsBot, true, 'the bot open_id learned at start is recognized (the sender has no user_id to guess with)');
    assert.deepEqual(event.sender, { id: 'ou_alice', name: null, isSelf: false });
    assert.deepEqual(event.conversation, { id: CHAT_ID, type: 'group', name: null });
    const [stored] = await storedWith('om_int_once');
    const withRaw = await admin('GET', `${gw.url}/v1/events/${stored.id}`);
    assert.equal(withRaw.json.raw.event.message.message_id, 'om_int_once', 'raw is the decrypted event');
    assert.equal(withRaw.json.raw.header.token, '[redacted]');
    assert.ok(!withRaw.text.includes(verificationToken), 'the verification token is not in the stored raw event');
  });

  describe('refuses bad callbacks and stores nothing', () => {
    const cases: [string, () => PostedCallback, number, string][] = [
      [
        'a bad signature',
        () => {
          const callback = feishuCallback(messageEvent({ messageId: 'om_int_forged' }), { encryptKey });
          return { ...callback, headers: { ...callback.headers, 'x-lark-signature': 'f'.repeat(64) } };
        },
        401,
        'IMG_ERR_INBOUND_BAD_SIGNATURE',
      ],
      ['an unsigned encrypted event', () => feishuCallback(messageEvent({ messageId: 'om_int_unsigned' }), { encryptKey, sign: false }), 401, 'IMG_ERR_INBOUND_BAD_SIGNATURE'],
      [
        'a stale timestamp',
        () => feishuCallback(messageEvent({ messageId: 'om_int_stale' }), { encryptKey, timestamp: String(Math.floor(Date.now() / 1000) - 3600) }),
        401,
        'IMG_ERR_INBOUND_STALE_TIMESTAMP',
      ],
      ['a wrong verification token', () => feishuCallback(messageEvent({ messageId: 'om_int_token' }, { token: 'nope' }), { encryptKey }), 401, 'IMG_ERR_INBOUND_BAD_TOKEN'],
      ['a body that is not JSON', () => ({ body: '{"encrypt":', headers: { 'content-type': 'application/json' } }), 400, 'IMG_ERR_INBOUND_MALFORMED'],
    ];
    for (const [name, make, status, code] of cases) {
      it(`refuses ${name} with ${status} ${code}`, async () => {
        const before = (await eventsOf(gw.url)).length;
        const answer = await post(gw, 'feishu', make());
        assert.equal(answer.status, status, answer.text);
        assert.equal(answer.json.error.code, code);
        assert.equal((await eventsOf(gw.url)).length, before, 'nothing may be stored');
      });
    }

    it('answers GET with 405 IMG_ERR_INBOUND_METHOD', async () => {
      const answer = await call('GET', `${gw.url}/hooks/feishu`);
      assert.equal(answer.status, 405);
      assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_METHOD');
    });
  });

  describe('send', () => {
    const messages = () => api.requestsTo('/open-apis/im/v1/messages');

    it('sends text with a mention to a chat and answers Feishu\'s message_id', async () => {
      const answer = await send(gw, { channel: 'feishu', to: CHAT_ID, text: 'on it', mentions: ['ou_alice'] });
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.json.platformMessageId, /^om_sent_\d+$/);
      const body = jsonOf(messages().at(-1)!);
      assert.equal(body.receive_id, CHAT_ID);
      assert.equal(body.msg_type, 'text');
      assert.equal(JSON.parse(body.content).text, '<at user_id="ou_alice"></at> on it');
      assert.match(body.uuid, /^[0-9a-f]{32}$/);
    });

    it('sends markdown as a post with an md element', async () => {
      const answer = await send(gw, { channel: 'feishu', to: CHAT_ID, markdown: '**done**' });
      assert.equal(answer.status, 200, answer.text);
      const body = jsonOf(messages().at(-1)!);
      assert.equal(body.msg_type, 'post');
      assert.deepEqual(JSON.parse(body.content).zh_cn.content, [[{ tag: 'md', text: '**done**' }]]);
    });

    it('uploads an image and sends its image_key', async () => {
      const answer = await send(gw, { channel: 'feishu', to: CHAT_ID, image: { base64: PNG.toString('base64') } });
      assert.equal(answer.status, 200, answer.text);
      const upload = await uploadedImage(api.requestsTo('/open-apis/im/v1/images').at(-1)!);
      assert.equal(upload.imageType, 'message');
      assert.deepEqual(Buffer.from(await upload.file.arrayBuffer()), PNG);
      assert.deepEqual(JSON.parse(jsonOf(messages().at(-1)!).content), { image_key: 'img_v3_test_key' });
    });

    it('replies to a stored message through the reply endpoint, by unified id or by Feishu\'s id', async () => {
      assert.equal((await post(gw, 'feishu', feishuCallback(messageEvent({ messageId: 'om_int_question' }), { encryptKey }))).status, 200);
      const [stored] = await waitFor(async () => {
        const found = await storedWith('om_int_question');
        return found.length > 0 ? found : undefined;
      });
      const byUnified = await send(gw, { channel: 'feishu', to: stored.conversation.id, text: 'answer 1', replyTo: stored.message.id });
      assert.equal(byUnified.status, 200, byUnified.text);
      const byPlatform = await send(gw, { channel: 'feishu', to: stored.conversation.id, text: 'answer 2', replyTo: 'om_int_question' });
      assert.equal(byPlatform.status, 200, byPlatform.text);
      const replies = api.requestsTo('/open-apis/im/v1/messages/om_int_question/reply');
      assert.deepEqual(replies.map((request) => JSON.parse(jsonOf(request).content).text), ['answer 1', 'answer 2']);
    });

    it('keeps the uuid across the retries of one send and a retried request with the same Idempotency-Key', async () => {
      const uuidsOf = (text: string) =>
        messages()
          .filter((request) => JSON.parse(jsonOf(request).content).text === text)
          .map((request) => jsonOf(request).uuid);
      // Feishu unreachable: the send service tries three times, then answers 502 and frees the key.
      api.route('/open-apis/im/v1/messages', () => ({ status: 503, body: 'busy' }));
      let failed;
      try {
        failed = await send(gw, { channel: 'feishu', to: CHAT_ID, text: 'exactly once' }, { 'idempotency-key': 'int-key-1' });
      } finally {
        api.route('/open-apis/im/v1/messages', null);
      }
      assert.equal(failed.status, 502, failed.text);
      const retried = await send(gw, { channel: 'feishu', to: CHAT_ID, text: 'exactly once' }, { 'idempotency-key': 'int-key-1' });
      assert.equal(retried.status, 200, retried.text);
      const uuids = uuidsOf('exactly once');
      assert.equal(uuids.length, 4);
      assert.equal(new Set(uuids).size, 1, 'one uuid, so Feishu sends the message once however often it was asked');

      await send(gw, { channel: 'feishu', to: CHAT_ID, text: 'exactly once' }, { 'idempotency-key': 'int-key-2' });
      assert.equal(new Set(uuidsOf('exactly once')).size, 2, 'another key, another uuid');
    });

    it('fetches exactly one token for 20 concurrent sends', async () => {
      const sends = Array.from({ length: 20 }, (_, i) => send(gw, { channel: 'feishu-burst', to: `oc_burst_${i}`, text: `burst ${i}` }));
      const answers = await Promise.all(sends);
      assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
      assert.equal(api.tokenFetches(APP.burst), 1);
    });

    it('fetches a new token exactly once when Feishu answers 99991663, and the send succeeds', async () => {
      assert.equal((await send(gw, { channel: 'feishu-expiry', to: CHAT_ID, text: 'first' })).status, 200);
      assert.equal(api.tokenFetches(APP.expiry), 1);
      const stale = bearerOf(messages().at(-1)!)!;
      api.invalidTokens.add(stale);
      const answer = await send(gw, { channel: 'feishu-expiry', to: CHAT_ID, text: 'second' });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(api.tokenFetches(APP.expiry), 2);
      const tries = messages().filter((request) => JSON.parse(jsonOf(request).content).text === 'second');
      assert.deepEqual(tries.map((request) => bearerOf(request) === stale), [true, false]);
    });

    it('paces one chat to 5 messages a second', async () => {
      const chat = 'oc_paced_chat';
      const answers = await Promise.all(Array.from({ length: 7 }, (_, i) => send(gw, { channel: 'feishu-burst', to: chat, text: `paced ${i}` })));
      assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
      const times = messages()
        .filter((request) => jsonOf(request).receive_id === chat)
        .map((request) => request.at)
        .sort((a, b) => a - b);
      assert.equal(times.length, 7);
      assert.ok(times[5]! - times[0]! >= 950, `the sixth went out ${times[5]! - times[0]!} ms after the first`);
    });

    it('answers 422 with Feishu\'s code and msg when it refuses', async () => {
      api.route('/open-apis/im/v1/messages', () => ({ status: 400, body: { code: 230002, msg: 'Bot/User can NOT be out of the chat.' } }));
      try {
        const answer = await send(gw, { channel: 'feishu', to: 'oc_not_a_member', text: 'hi' });
        assert.equal(answer.status, 422);
        assert.equal(answer.json.error.code, 'IMG_ERR_PLATFORM_REJECTED');
        assert.equal(answer.json.error.details.code, 230002);
        assert.equal(answer.json.error.details.msg, 'Bot/User can NOT be out of the chat.');
      } finally {
        api.route('/open-apis/im/v1/messages', null);
      }
    });
  });

  describe('lark', () => {
    it('takes Lark events and sends through its apiBase, with its own token', async () => {
      const check = await post(gw, 'lark', feishuCallback({ challenge: 'lark-ch', token: verificationToken, type: 'url_verification' }));
      assert.deepEqual(check.json, { challenge: 'lark-ch' });
      assert.equal((await post(gw, 'lark', feishuCallback(messageEvent({ messageId: 'om_lark_1', content: { text: 'hi lark' } })))).status, 200);
      const [event] = await waitFor(async () => {
        const found = (await eventsOf(gw.url)).filter((e) => e.channel === 'lark');
        return found.length > 0 ? found : undefined;
      });
      assert.equal(event.platform, 'lark');
      assert.equal(event.message.text, 'hi lark');

      const answer = await send(gw, { channel: 'lark', to: CHAT_ID, text: 'hello from lark', replyTo: event.message.id });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(api.tokenFetches(APP.lark), 1);
      const reply = api.requestsTo('/open-apis/im/v1/messages/om_lark_1/reply').at(-1)!;
      assert.equal(JSON.parse(jsonOf(reply).content).text, 'hello from lark');
    });
  });

  it('learns the bot open_id at start for the channel without botOpenId, and only for it', async () => {
    const learned = gw.logs.filter((line) => String(line.msg).includes("learned the bot's open_id"));
    assert.deepEqual(learned.map((line) => [line.channel, line.botOpenId]), [['feishu', BOT_OPEN_ID]]);
    const channels = (await admin('GET', `${gw.url}/v1/channels`)).json.data as any[];
    assert.deepEqual(channels.filter((c) => c.id.startsWith('feishu') || c.id === 'lark').map((c) => c.platform).sort(), ['feishu', 'feishu', 'feishu', 'lark']);
  });

  it('never shows the App Secret, the Encrypt Key, the verification token or a tenant token in logs or answers', async () => {
    const answer = await send(gw, { channel: 'feishu', to: CHAT_ID, text: 'leak?' });
    assert.equal(answer.status, 200);
    const logs = gw.logText();
    assert.ok(logs.length > 0);
    for (const secret of [appSecret, encryptKey, verificationToken, SUB_SECRET]) {
      assert.ok(!logs.includes(secret), 'a secret reached the logs');
      assert.ok(!answer.text.includes(secret));
    }
    assert.doesNotMatch(logs, /"t-\d+"|Bearer/);
  });
});
