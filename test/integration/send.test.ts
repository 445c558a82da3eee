import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeHttpServer, type RecordedRequest } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call, eventsOf, padproHeaders } from '../helpers/http.ts';

const PAD_KEY = 'padpro-auth-key-123';
const GEWE_TOKEN = 'gewe-token-456';
const SECRET = 'send-test-secret';
const SCOPED_TOKEN = 'scoped-api-token-0123456789';

function padproOk(request: RecordedRequest) {
  const body = JSON.parse(request.body.toString());
  return {
    status: 200,
    body: `{"Code":200,"Data":[{"isSendSuccess":true,"resp":{"NewMsgId":8765432109876543210},"toUSerName":"${body.MsgItem[0].ToUserName}"}],"Text":""}`,
  };
}

const send = (gw: TestGateway, body: object, headers: Record<string, string> = {}, token = API_TOKEN) =>
  call('POST', `${gw.url}/v1/messages`, { body, headers, token });

describe('the send API', () => {
  let gw: TestGateway;
  const padpro = new FakeHttpServer(padproOk);
  const gewe = new FakeHttpServer(() => ({ status: 200, body: { ret: 200, msg: 'ok', data: { newMsgId: '5556667778889990001' } } }));

  before(async () => {
    await padpro.start();
    await gewe.start();
    gw = await startTestGateway({
      channels: [
        { id: 'wx', platform: 'wechat-pad', secret: SECRET, apiBase: padpro.url, key: PAD_KEY },
        { id: 'gewe', platform: 'wechat-pad', secret: SECRET, server: 'gewechat', apiBase: gewe.url, token: GEWE_TOKEN, appId: 'wx_app_1' },
        { id: 'receive-only', platform: 'wechat-pad', secret: SECRET },
      ],
      apiKeys: [
        { id: 'test', token: API_TOKEN, channels: ['*'] },
        { id: 'scoped', token: SCOPED_TOKEN, channels: ['gewe'] },
      ],
    });
  });

  beforeEach(() => {
    padpro.setDefault(padproOk);
  });

  after(async () => {
    await gw.close();
    await padpro.stop();
    await gewe.stop();
    removeDir(gw.dir);
  });

  it('sends text through WeChatPadPro and answers with both message ids', async () => {
    const before = padpro.requests.length;
    const answer = await send(gw, { channel: 'wx', to: '123@chatroom', text: 'hi all', mentions: ['wxid_a'] });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.json.messageId, /^msg_/);
    assert.equal(answer.json.platformMessageId, '8765432109876543210');
    assert.deepEqual({ channel: answer.json.channel, to: answer.json.to }, { channel: 'wx', to: '123@chatroom' });
    const request = padpro.requests[before]!;
    assert.equal(request.url, `/message/SendTextMessage?key=${PAD_KEY}`);
    assert.deepEqual(JSON.parse(request.body.toString()), {
      MsgItem: [{ ToUserName: '123@chatroom', TextContent: 'hi all', MsgType: 1, AtWxIDList: ['wxid_a'], ImageContent: '' }],
    });
  });

  it('sends text through gewechat with its token header', async () => {
    const answer = await send(gw, { channel: 'gewe', to: 'wxid_bob', text: 'hello' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.platformMessageId, '5556667778889990001');
    const request = gewe.requests.at(-1)!;
    assert.equal(request.url, '/message/postText');
    assert.equal(request.headers['x-gewe-token'], GEWE_TOKEN);
    assert.deepEqual(JSON.parse(request.body.toString()), { appId: 'wx_app_1', toWxid: 'wxid_bob', content: 'hello' });
  });

  it('answers the OpenClaw route with {messageId}', async () => {
    const answer = await call('POST', `${gw.url}/api/channels/wx/messages/send`, { body: { to: 'wxid_bob', text: 'from openclaw' }, token: API_TOKEN });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(Object.keys(answer.json), ['messageId']);
  });

  it('reaches the pad server once for two sends with one Idempotency-Key, and answers the same', async () => {
    const before = padpro.requests.length;
    const body = { channel: 'wx', to: 'wxid_bob', text: 'only once' };
    const [first, second] = await Promise.all([
      send(gw, body, { 'idempotency-key': 'key-1' }),
      send(gw, body, { 'idempotency-key': 'key-1' }),
    ]);
    const third = await send(gw, body, { 'idempotency-key': 'key-1' });
    assert.equal(first.status, 200);
    assert.deepEqual(second.json, first.json);
    assert.deepEqual(third.json, first.json);
    assert.equal(padpro.requests.length, before + 1);
  });

  it('treats requestId like an Idempotency-Key, on the OpenClaw route too', async () => {
    const before = padpro.requests.length;
    const body = { to: 'wxid_bob', text: 'once more', requestId: 'req-77' };
    const first = await call('POST', `${gw.url}/api/channels/wx/messages/send`, { body, token: API_TOKEN });
    const second = await call('POST', `${gw.url}/api/channels/wx/messages/send`, { body, token: API_TOKEN });
    assert.equal(second.json.messageId, first.json.messageId);
    assert.equal(padpro.requests.length, before + 1);
  });

  it('answers 409 for the same Idempotency-Key with another body', async () => {
    await send(gw, { channel: 'wx', to: 'wxid_bob', text: 'one' }, { 'idempotency-key': 'key-2' });
    const conflict = await send(gw, { channel: 'wx', to: 'wxid_bob', text: 'two' }, { 'idempotency-key': 'key-2' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.error.code, 'IMG_ERR_IDEMPOTENCY_CONFLICT');
  });

  it('retries a pad server answering 503 and 502, then succeeds', async () => {
    const before = padpro.requests.length;
    padpro.respondWith({ status: 503 }, { status: 502 });
    const answer = await send(gw, { channel: 'wx', to: 'wxid_bob', text: 'persistent' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(padpro.requests.length, before + 3);
  });

  it('answers 502 when the pad server stays unreachable, and the same key may then be tried again', async () => {
    padpro.setDefault(() => ({ status: 503 }));
    const failed = await send(gw, { channel: 'wx', to: 'wxid_bob', text: 'later' }, { 'idempotency-key': 'key-3' });
    assert.equal(failed.status, 502);
    assert.equal(failed.json.error.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    padpro.setDefault(padproOk);
    const retried = await send(gw, { channel: 'wx', to: 'wxid_bob', text: 'later' }, { 'idempotency-key': 'key-3' });
    assert.equal(retried.status, 200);
  });

  it('passes a platform 429 on as 429 with retry_after and Retry-After', async () => {
    padpro.respondWith({ status: 429, headers: { 'retry-after': '7' } });
    const answer = await send(gw, { channel: 'wx', to: 'wxid_bob', text: 'too fast' });
    assert.equal(answer.status, 429);
    assert.equal(answer.json.retry_after, 7);
    assert.equal(answer.headers['retry-after'], '7');
  });

  it('answers 422 with the platform code when the pad server refuses', async () => {
    padpro.respondWith({ status: 200, body: { Code: -1, Data: null, Text: 'not logged in' } });
    const answer = await send(gw, { channel: 'wx', to: 'wxid_bob', text: 'refused' });
    assert.equal(answer.status, 422);
    assert.equal(answer.json.error.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.equal(answer.json.error.details.platformCode, -1);
  });

  it('refuses news on a channel that has no link cards, before calling the platform', async () => {
    const calls = padpro.requests.length;
    const answer = await send(gw, { channel: 'wx', to: 'wxid_bob', news: { articles: [{ title: 'T', url: 'https://example.com/' }] } });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'IMG_ERR_SEND_UNSUPPORTED');
    assert.equal(padpro.requests.length, calls);
  });

  it('routes a reply to a stored message by its unified id or its platform id, and refuses an unknown one', async () => {
    const body = JSON.stringify({ msgId: '424242', fromUser: 'wxid_carol', toUser: 'wxid_bot', msgType: 1, content: 'question?', createTime: 1700000000 });
    assert.equal((await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) })).status, 200);
    const event = (await eventsOf(gw.url)).find((e) => e.message.platformId === '424242');
    for (const replyTo of [event.message.id, '424242']) {
      const answer = await send(gw, { channel: 'wx', to: event.conversation.id, text: 'answer', replyTo });
      assert.equal(answer.status, 200, answer.text);
    }
    const unknown = await send(gw, { channel: 'wx', to: 'wxid_carol', text: 'answer', replyTo: 'msg_nope' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'IMG_ERR_SEND_UNKNOWN_MESSAGE');
  });

  describe('refuses with the catalogue error', () => {
    const cases: [string, () => Promise<{ status: number; json: any }>, number, string][] = [
      ['no API key', () => call('POST', `${gw.url}/v1/messages`, { body: { channel: 'wx', to: 'a', text: 'x' } }), 401, 'IMG_ERR_AUTH_MISSING'],
      ['a wrong API key', () => send(gw, { channel: 'wx', to: 'a', text: 'x' }, {}, 'not-a-key-0000000000'), 401, 'IMG_ERR_AUTH_INVALID'],
      ['a key not scoped to the channel', () => send(gw, { channel: 'wx', to: 'a', text: 'x' }, {}, SCOPED_TOKEN), 403, 'IMG_ERR_AUTH_SCOPE'],
      ['an unknown channel', () => send(gw, { channel: 'nope', to: 'a', text: 'x' }), 404, 'IMG_ERR_SEND_UNKNOWN_CHANNEL'],
      ['a missing text', () => send(gw, { channel: 'wx', to: 'a' }), 400, 'IMG_ERR_VALIDATION'],
      ['text and markdown together', () => send(gw, { channel: 'wx', to: 'a', text: 'x', markdown: '*x*' }), 400, 'IMG_ERR_VALIDATION'],
      ['markdown on WeChat', () => send(gw, { channel: 'wx', to: 'a', markdown: '*x*' }), 400, 'IMG_ERR_SEND_UNSUPPORTED'],
      ['a channel with no apiBase', () => send(gw, { channel: 'receive-only', to: 'a', text: 'x' }), 400, 'IMG_ERR_SEND_UNSUPPORTED'],
      [
        'malformed JSON',
        () => call('POST', `${gw.url}/v1/messages`, { body: '{"channel":', token: API_TOKEN, headers: { 'content-type': 'application/json' } }),
        400,
        'IMG_ERR_VALIDATION',
      ],
    ];
    for (const [name, run, status, code] of cases) {
      it(`${name}: ${status} ${code}`, async () => {
        const answer = await run();
        assert.equal(answer.status, status);
        assert.equal(answer.json.error.code, code);
      });
    }
  });

  it('never shows the pad key or token in answers or logs', async () => {
    padpro.respondWith({ status: 500, body: { echo: PAD_KEY } });
    const answer = await send(gw, { channel: 'wx', to: 'wxid_bob', text: 'leak?' });
    assert.ok(!answer.text.includes(PAD_KEY));
    assert.ok(!gw.logText().includes(PAD_KEY));
    assert.ok(!gw.logText().includes(GEWE_TOKEN));
    assert.ok(!gw.logText().includes(API_TOKEN));
  });
});
