import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { abotHeaders, call, eventsOf, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'inbound-test-secret-9f8e7d';
const SUB_SECRET = `whsec_${Buffer.from('subscriber-key-subscriber-key-32').toString('base64')}`;
const PATH_TOKEN = 'path-token-abcdefghijklmnop';

function flatMessage(msgId: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    key: 'wxid_bot',
    msgId,
    timestamp: Math.floor(Date.now() / 1000),
    fromUser: 'wxid_alice',
    toUser: 'wxid_bot',
    msgType: 1,
    content: 'hello imgate',
    isSelfMsg: false,
    createTime: Math.floor(Date.now() / 1000),
    isHistory: false,
    ...overrides,
  });
}

/** Raw pad JSON with NewMsgId written as a bare number above 2^53, as gewechat sends it. */
function padGroupMessage(newMsgId: string, text: string, atList: string): string {
  return `{"TypeName":"AddMsg","Appid":"wx_app","Wxid":"wxid_bot","Data":{"MsgId":1234567,"NewMsgId":${newMsgId},"FromUserName":{"string":"123456@chatroom"},"ToUserName":{"string":"wxid_bot"},"MsgType":1,"Content":{"string":"wxid_carol:\\n${text}"},"CreateTime":1700000000,"MsgSource":"<msgsource><atuserlist><![CDATA[${atList}]]></atuserlist></msgsource>","PushContent":"Carol在群聊中@了你"}}`;
}

describe('inbound wechat-pad callbacks, end to end', () => {
  let gw: TestGateway;
  const subscriber = new FakeHttpServer();

  before(async () => {
    await subscriber.start();
    gw = await startTestGateway({
      server: { bodyLimitBytes: 16 * 1024 },
      channels: [
        { id: 'wx', platform: 'wechat-pad', secret: SECRET, botWxid: 'wxid_bot' },
        { id: 'wx-concat', platform: 'wechat-pad', secret: SECRET, signatureFormat: 'concat' },
        { id: 'wx-path', platform: 'wechat-pad', auth: 'path-token', pathToken: PATH_TOKEN },
        { id: 'wx-open', platform: 'wechat-pad', auth: 'none' },
        { id: 'wx-fenced', platform: 'wechat-pad', auth: 'none', allowIps: ['10.1.0.0/16'] },
        { id: 'wx-off', platform: 'wechat-pad', auth: 'none', enabled: false },
      ],
      subscriptions: [{ id: 'all', url: `${subscriber.url}/hook`, secret: SUB_SECRET, channels: ['wx'] }],
    });
  });

  after(async () => {
    await gw.close();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  it('accepts a signed flat message, stores it and delivers it as a Standard Webhooks unified event', async () => {
    const body = flatMessage('1001');
    const answer = await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
    assert.equal(answer.status, 200);
    await subscriber.waitForRequests(1);
    const delivered = subscriber.requests[0]!;
    const event = new Webhook(SUB_SECRET).verify(delivered.body.toString('utf8'), delivered.headers as Record<string, string>) as any;
    assert.equal(event.channel, 'wx');
    assert.equal(event.message.platformId, '1001');
    assert.equal(event.message.text, 'hello imgate');
    assert.equal(event.sender.id, 'wxid_alice');
    assert.deepEqual(event.conversation, { id: 'wxid_alice', type: 'direct', name: null });
    assert.equal(delivered.headers['webhook-id'], event.id);
  });

  it('accepts the concat signature variant where the channel asks for it', async () => {
    const body = flatMessage('2001');
    const ok = await call('POST', `${gw.url}/hooks/wx-concat`, { body, headers: padproHeaders(SECRET, body, undefined, '') });
    assert.equal(ok.status, 200);
    const colon = await call('POST', `${gw.url}/hooks/wx-concat`, { body: flatMessage('2002'), headers: padproHeaders(SECRET, flatMessage('2002')) });
    assert.equal(colon.status, 401);
  });

  it('accepts raw pad JSON signed with X-Wechat-Abot-Signature, keeping NewMsgId exact and reading the group sender and mentions', async () => {
    const newMsgId = '7654321098765432123';
    const body = padGroupMessage(newMsgId, '@bot\u2005what time is it?', ',wxid_bot,wxid_dave');
    const answer = await call('POST', `${gw.url}/hooks/wx`, { body, headers: abotHeaders(SECRET, body) });
    assert.equal(answer.status, 200);
    const event = await waitFor(async () => (await eventsOf(gw.url)).find((e) => e.message.platformId === newMsgId), 5000, 'the group event');
    assert.equal(event.sender.id, 'wxid_carol');
    assert.equal(event.conversation.id, '123456@chatroom');
    assert.equal(event.conversation.type, 'group');
    assert.equal(event.message.text, 'what time is it?');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.message.mentions.map((m: { id: string }) => m.id), ['wxid_bot', 'wxid_dave']);
  });

  it('accepts a callback on the channel path token and refuses a wrong one', async () => {
    const body = flatMessage('3001');
    assert.equal((await call('POST', `${gw.url}/hooks/wx-path/${PATH_TOKEN}`, { body })).status, 200);
    const wrong = await call('POST', `${gw.url}/hooks/wx-path/${PATH_TOKEN.replace('a', 'b')}`, { body: flatMessage('3002') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, 'IMG_ERR_INBOUND_BAD_TOKEN');
    assert.equal((await call('POST', `${gw.url}/hooks/wx-path`, { body: flatMessage('3003') })).status, 401);
  });

  it('accepts unauthenticated callbacks only on an auth: none channel, warned about at start', async () => {
    assert.equal((await call('POST', `${gw.url}/hooks/wx-open`, { body: flatMessage('4001') })).status, 200);
    assert.ok(gw.logs.some((line) => line.level === 40 && line.channel === 'wx-open' && String(line.msg).includes('auth "none"')));
  });

  describe('rejects bad requests with a precise status and stores nothing', () => {
    const cases: [string, () => Promise<{ status: number; json: any }>, number, string][] = [
      [
        'a wrong signature',
        () => {
          const body = flatMessage('9001');
          return call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders('not-the-secret', body) });
        },
        401,
        'IMG_ERR_INBOUND_BAD_SIGNATURE',
      ],
      [
        'no signature at all',
        () => call('POST', `${gw.url}/hooks/wx`, { body: flatMessage('9002') }),
        401,
        'IMG_ERR_INBOUND_BAD_SIGNATURE',
      ],
      [
        'a timestamp six minutes old',
        () => {
          const body = flatMessage('9003');
          return call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body, Math.floor(Date.now() / 1000) - 360) });
        },
        401,
        'IMG_ERR_INBOUND_STALE_TIMESTAMP',
      ],
      [
        'malformed JSON',
        () => {
          const body = '{"msgId": "9004", ';
          return call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
        },
        400,
        'IMG_ERR_INBOUND_MALFORMED',
      ],
      [
        'a body over the limit',
        () => {
          const body = flatMessage('9005', { content: 'x'.repeat(20 * 1024) });
          return call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
        },
        413,
        'IMG_ERR_BODY_TOO_LARGE',
      ],
      ['an unknown channel', () => call('POST', `${gw.url}/hooks/nope`, { body: flatMessage('9006') }), 404, 'IMG_ERR_INBOUND_UNKNOWN_CHANNEL'],
      ['a disabled channel', () => call('POST', `${gw.url}/hooks/wx-off`, { body: flatMessage('9007') }), 404, 'IMG_ERR_INBOUND_UNKNOWN_CHANNEL'],
      ['an address outside allowIps', () => call('POST', `${gw.url}/hooks/wx-fenced`, { body: flatMessage('9008') }), 403, 'IMG_ERR_IP_NOT_ALLOWED'],
      ['a PUT, which no pad server sends', () => call('PUT', `${gw.url}/hooks/wx`, { body: flatMessage('9009') }), 405, 'IMG_ERR_INBOUND_METHOD'],
      ['a DELETE', () => call('DELETE', `${gw.url}/hooks/wx`), 405, 'IMG_ERR_INBOUND_METHOD'],
    ];
    for (const [name, send, status, code] of cases) {
      it(`rejects ${name} with ${status} ${code}`, async () => {
        const before = (await eventsOf(gw.url)).length;
        const answer = await send();
        assert.equal(answer.status, status);
        assert.equal(answer.json.error.code, code);
        assert.equal((await eventsOf(gw.url)).length, before, 'nothing may be stored');
        assert.equal((await call('GET', `${gw.url}/healthz`)).status, 200, 'the gateway keeps serving');
      });
    }
  });

  it('stores and delivers the same message once when the platform posts it twice', async () => {
    const body = flatMessage('5001');
    const delivered = subscriber.requests.length;
    const first = await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
    const second = await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    await subscriber.waitForRequests(delivered + 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(subscriber.requests.length, delivered + 1);
    assert.equal((await eventsOf(gw.url)).filter((e) => e.message.platformId === '5001').length, 1);
  });

  it('logs every inbound request with channel and status, and never a secret or signature', async () => {
    const body = flatMessage('6001');
    const headers = padproHeaders(SECRET, body);
    await call('POST', `${gw.url}/hooks/wx`, { body, headers });
    const line = await waitFor(() => gw.logs.find((l) => l.msg === 'request' && l.channel === 'wx' && l.conversationId === 'wxid_alice'));
    assert.equal(line.status, 200);
    assert.equal(typeof line.latencyMs, 'number');
    assert.ok(typeof line.eventId === 'string');
    const text = gw.logText();
    for (const secret of [SECRET, SUB_SECRET, PATH_TOKEN, headers['x-webhook-signature']]) assert.ok(!text.includes(secret));
  });
});
