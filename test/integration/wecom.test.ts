import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as official from '@wecom/crypto';
import { Webhook } from 'standardwebhooks';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call, eventsOf, waitFor } from '../helpers/http.ts';
import {
  FakeWecomApi,
  WECOM_KEYS,
  WECOM_VECTOR as VECTOR,
  tokenOf,
  uploadedMedia,
  wecomCallback,
  wecomUrlCheck,
  wecomVectorQuery,
  type WecomCallbackRequest,
} from '../helpers/wecom.ts';

const SECRET = 'wecom-integration-corp-secret';
/** Own secrets for the token tests, so their gettoken calls can be told apart from the others'. */
const BURST_SECRET = 'wecom-integration-burst-secret';
const EXPIRY_SECRET = 'wecom-integration-expiry-secret';
const AGENT_ID = 1000002;
const SUB_SECRET = `whsec_${Buffer.from('wecom-subscriber-key-32-bytes-xx').toString('base64')}`;
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('integration png')]);

function textXml(msgId: string, text: string, from = 'zhangsan'): string {
  const now = Math.floor(Date.now() / 1000);
  return `<xml><ToUserName><![CDATA[${WECOM_KEYS.corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${msgId}</MsgId><AgentID>${AGENT_ID}</AgentID></xml>`;
}

function postCallback(gw: TestGateway, callback: WecomCallbackRequest, channel = 'wecom') {
  return call('POST', `${gw.url}/hooks/${channel}?${callback.query}`, { body: callback.body, headers: { 'content-type': 'text/xml' } });
}

const send = (gw: TestGateway, body: object) => call('POST', `${gw.url}/v1/messages`, { body, token: API_TOKEN });

describe('the wecom channel, end to end', () => {
  let gw: TestGateway;
  const api = new FakeWecomApi();
  const unified = new FakeHttpServer();
  const raw = new FakeHttpServer();

  const channelOf = (id: string, corpSecret: string) => ({
    id,
    platform: 'wecom',
    corpId: WECOM_KEYS.corpId,
    corpSecret,
    agentId: AGENT_ID,
    token: WECOM_KEYS.token,
    encodingAESKey: WECOM_KEYS.encodingAESKey,
    apiBase: api.url,
  });

  before(async () => {
    await Promise.all([api.start(), unified.start(), raw.start()]);
    api.route('/cgi-bin/message/send', (request) => ({
      status: 200,
      body: { errcode: 0, errmsg: 'ok', invaliduser: '', msgid: `msgid-${api.requestsTo('/cgi-bin/message/send').indexOf(request)}` },
    }));
    api.route('/cgi-bin/media/upload', () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', type: 'image', media_id: 'media-int-1' } }));
    gw = await startTestGateway({
      channels: [
        channelOf('wecom', SECRET),
        channelOf('wecom-burst', BURST_SECRET),
        channelOf('wecom-expiry', EXPIRY_SECRET),
        {
          id: 'wecom-vector',
          platform: 'wecom',
          corpId: VECTOR.corpId,
          corpSecret: SECRET,
          token: VECTOR.token,
          encodingAESKey: VECTOR.encodingAESKey,
          timestampWindowSeconds: 0,
        },
      ],
      subscriptions: [
        { id: 'unified', url: `${unified.url}/events`, secret: SUB_SECRET, channels: ['wecom'] },
        { id: 'raw', url: `${raw.url}/wecom/callback?bot=1`, secret: 'raw-secret', format: 'raw', channels: ['wecom'] },
      ],
    });
  });

  after(async () => {
    await gw.close();
    await Promise.all([api.stop(), unified.stop(), raw.stop()]);
    removeDir(gw.dir);
  });

  describe('GET URL check', () => {
    it('answers the decrypted echostr exactly', async () => {
      const answer = await call('GET', `${gw.url}/hooks/wecom?${wecomUrlCheck('echo-4242')}`);
      assert.equal(answer.status, 200);
      assert.equal(answer.text, 'echo-4242');
      assert.match(String(answer.headers['content-type']), /^text\/plain/);
    });

    it('answers the official vector with a literal + in the query and percent-encoded alike', async () => {
      const literal = await call('GET', `${gw.url}/hooks/wecom-vector?${wecomVectorQuery()}`);
      assert.equal(literal.status, 200, literal.text);
      assert.equal(literal.text, VECTOR.message);
      const encoded = await call('GET', `${gw.url}/hooks/wecom-vector?${wecomVectorQuery(encodeURIComponent(VECTOR.echostr))}`);
      assert.equal(encoded.text, VECTOR.message);
    });

    it('refuses a check with a wrong signature with 401', async () => {
      const query = wecomUrlCheck('echo').replace(/msg_signature=[0-9a-f]{8}/, 'msg_signature=00000000');
      const answer = await call('GET', `${gw.url}/hooks/wecom?${query}`);
      assert.equal(answer.status, 401);
      assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    });
  });

  it('stores a callback encrypted by @wecom/crypto, answers "success" and delivers it as a unified event', async () => {
    const answer = await postCallback(gw, wecomCallback(textXml('7000000000000000001', 'hello imgate')));
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'success');
    await unified.waitForRequests(1);
    const delivered = unified.requests[0]!;
    const event = new Webhook(SUB_SECRET).verify(delivered.body.toString('utf8'), delivered.headers as Record<string, string>) as any;
    assert.equal(event.channel, 'wecom');
    assert.equal(event.platform, 'wecom');
    assert.equal(event.type, 'message');
    assert.equal(event.message.platformId, '7000000000000000001');
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, 'hello imgate');
    assert.deepEqual(event.sender, { id: 'zhangsan', name: null, isSelf: false });
    assert.deepEqual(event.conversation, { id: 'zhangsan', type: 'direct', name: null });
    const stored = (await eventsOf(gw.url)).find((e) => e.message.platformId === '7000000000000000001');
    assert.equal(stored.id, event.id);
  });

  it('hands a raw subscriber the encrypted XML as sent, as text/xml, with the signed query on its URL', async () => {
    const callback = wecomCallback(textXml('7000000000000000002', 'raw please'));
    assert.equal((await postCallback(gw, callback)).status, 200);
    const delivered = await waitFor(() => raw.requests.find((r) => r.body.toString('utf8') === callback.body), 10_000, 'the raw delivery');
    assert.match(String(delivered.headers['content-type']), /^text\/xml/);
    assert.equal(delivered.url, `/wecom/callback?bot=1&${callback.query}`);
    // The bot can verify and decrypt it with the official SDK, as if WeCom had called it.
    const query = new URLSearchParams(callback.query);
    const encrypt = /<Encrypt><!\[CDATA\[(.+?)\]\]><\/Encrypt>/.exec(delivered.body.toString('utf8'))![1]!;
    assert.equal(official.getSignature(WECOM_KEYS.token, query.get('timestamp')!, query.get('nonce')!, encrypt), query.get('msg_signature'));
    assert.match(official.decrypt(WECOM_KEYS.encodingAESKey, encrypt).message, /raw please/);
  });

  it('stores an event (enter_agent) as a system event', async () => {
    const now = Math.floor(Date.now() / 1000);
    const xml = `<xml><ToUserName><![CDATA[${WECOM_KEYS.corpId}]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey><AgentID>${AGENT_ID}</AgentID></xml>`;
    assert.equal((await postCallback(gw, wecomCallback(xml))).status, 200);
    assert.equal((await postCallback(gw, wecomCallback(xml))).status, 200, 'a retried event is acknowledged again');
    const events = (await eventsOf(gw.url)).filter((e) => e.sender.id === 'lisi');
    assert.equal(events.length, 1);
    assert.equal(events[0].type, 'system');
    assert.equal(events[0].message.type, 'system');
    assert.equal(events[0].message.content.event, 'enter_agent');
  });

  it('stores and delivers the same MsgId once when WeCom posts it three times', async () => {
    const xml = textXml('7000000000000000003', 'only once');
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await postCallback(gw, wecomCallback(xml)));
    assert.deepEqual(answers.map((a) => [a.status, a.text]), [[200, 'success'], [200, 'success'], [200, 'success']]);
    const isThis = (body: Buffer) => body.toString('utf8').includes('7000000000000000003');
    await waitFor(() => unified.requests.find((r) => isThis(r.body)), 10_000, 'the delivery');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(unified.requests.filter((r) => isThis(r.body)).length, 1);
    assert.equal((await eventsOf(gw.url)).filter((e) => e.message.platformId === '7000000000000000003').length, 1);
  });

  describe('refuses bad callbacks and stores nothing', () => {
    const billionLaughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><xml><Encrypt>&lol2;</Encrypt></xml>';
    const cases: [string, () => WecomCallbackRequest, number, string][] = [
      [
        'a bad signature',
        () => {
          const callback = wecomCallback(textXml('7100000000000000001', 'forged'));
          return { ...callback, query: callback.query.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'0'.repeat(40)}`) };
        },
        401,
        'IMG_ERR_INBOUND_BAD_SIGNATURE',
      ],
      ['a message for another corp', () => wecomCallback(textXml('7100000000000000002', 'not ours'), { receiveId: 'ww_other_corp' }), 401, 'IMG_ERR_INBOUND_BAD_SIGNATURE'],
      [
        'a billion-laughs DOCTYPE body',
        () => ({ query: wecomCallback(textXml('7100000000000000003', 'x')).query, body: billionLaughs }),
        400,
        'IMG_ERR_INBOUND_MALFORMED',
      ],
      [
        'an external entity (file:///etc/passwd) body',
        () => ({
          query: wecomCallback(textXml('7100000000000000004', 'x')).query,
          body: '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Encrypt>&xxe;</Encrypt></xml>',
        }),
        400,
        'IMG_ERR_INBOUND_MALFORMED',
      ],
      [
        'an external entity inside a correctly encrypted message',
        () =>
          wecomCallback(`<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${textXml('7100000000000000005', '&xxe;')}`),
        400,
        'IMG_ERR_INBOUND_MALFORMED',
      ],
      ['a stale timestamp', () => wecomCallback(textXml('7100000000000000006', 'old'), { timestamp: Math.floor(Date.now() / 1000) - 3600 }), 401, 'IMG_ERR_INBOUND_STALE_TIMESTAMP'],
    ];
    for (const [name, make, status, code] of cases) {
      it(`refuses ${name} with ${status} ${code}`, async () => {
        const before = (await eventsOf(gw.url)).length;
        const answer = await postCallback(gw, make());
        assert.equal(answer.status, status, answer.text);
        assert.equal(answer.json.error.code, code);
        assert.equal((await eventsOf(gw.url)).length, before, 'nothing may be stored');
        assert.equal((await call('GET', `${gw.url}/healthz`)).status, 200, 'the gateway keeps serving');
      });
    }
  });

  describe('send', () => {
    const lastSend = () => api.requestsTo('/cgi-bin/message/send').at(-1)!;
    const bodyOf = (request: { body: Buffer }) => JSON.parse(request.body.toString('utf8'));

    it('sends text with the agentid and answers WeCom\'s msgid', async () => {
      const answer = await send(gw, { channel: 'wecom', to: 'zhangsan', text: 'hello member' });
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.json.messageId, /^msg_/);
      assert.match(answer.json.platformMessageId, /^msgid-\d+$/);
      assert.deepEqual(bodyOf(lastSend()), { touser: 'zhangsan', agentid: AGENT_ID, msgtype: 'text', text: { content: 'hello member' } });
    });

    it('sends markdown', async () => {
      const answer = await send(gw, { channel: 'wecom', to: 'zhangsan', markdown: '# title\n**bold**' });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(bodyOf(lastSend()), {
        touser: 'zhangsan',
        agentid: AGENT_ID,
        msgtype: 'markdown',
        markdown: { content: '# title\n**bold**' },
      });
    });

    it('uploads a base64 image and sends its media_id', async () => {
      const answer = await send(gw, { channel: 'wecom', to: 'zhangsan', image: { base64: PNG.toString('base64') } });
      assert.equal(answer.status, 200, answer.text);
      const upload = api.requestsTo('/cgi-bin/media/upload').at(-1)!;
      const media = await uploadedMedia(upload);
      assert.equal(media.name, 'image.png');
      assert.deepEqual(Buffer.from(await media.arrayBuffer()), PNG);
      assert.deepEqual(bodyOf(lastSend()), { touser: 'zhangsan', agentid: AGENT_ID, msgtype: 'image', image: { media_id: 'media-int-1' } });
    });

    it('replies to a stored message by routing to its member', async () => {
      await postCallback(gw, wecomCallback(textXml('7200000000000000001', 'question?', 'wangwu')));
      const event = await waitFor(async () => (await eventsOf(gw.url)).find((e) => e.message.platformId === '7200000000000000001'));
      const answer = await send(gw, { channel: 'wecom', to: event.conversation.id, text: 'answer', replyTo: event.message.id });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(bodyOf(lastSend()).touser, 'wangwu');
    });

    it('refuses mentions with 400 IMG_ERR_SEND_UNSUPPORTED', async () => {
      const answer = await send(gw, { channel: 'wecom', to: 'zhangsan', text: 'hi', mentions: ['lisi'] });
      assert.equal(answer.status, 400);
      assert.equal(answer.json.error.code, 'IMG_ERR_SEND_UNSUPPORTED');
    });

    it('fetches exactly one token for 100 concurrent sends', async () => {
      const gettokens = () => api.requestsTo('/cgi-bin/gettoken').filter((r) => r.url.includes(`corpsecret=${BURST_SECRET}`)).length;
      const sends = Array.from({ length: 100 }, (_, i) => send(gw, { channel: 'wecom-burst', to: 'zhangsan', text: `burst ${i}` }));
      const answers = await Promise.all(sends);
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      assert.equal(gettokens(), 1);
    });

    it('re-fetches an expired token (42001) exactly once, and the send succeeds', async () => {
      const gettokens = () => api.requestsTo('/cgi-bin/gettoken').filter((r) => r.url.includes(`corpsecret=${EXPIRY_SECRET}`)).length;
      assert.equal((await send(gw, { channel: 'wecom-expiry', to: 'zhangsan', text: 'first' })).status, 200);
      assert.equal(gettokens(), 1);
      const stale = tokenOf(lastSend())!;
      api.expiredTokens.add(stale);
      const answer = await send(gw, { channel: 'wecom-expiry', to: 'zhangsan', text: 'second' });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(gettokens(), 2);
      const sent = api.requestsTo('/cgi-bin/message/send').filter((r) => bodyOf(r).text?.content === 'second');
      assert.deepEqual(sent.map(tokenOf).map((token) => token === stale), [true, false]);
    });

    it('answers 422 with the errcode when WeCom refuses (60020)', async () => {
      api.route('/cgi-bin/message/send', () => ({ status: 200, body: { errcode: 60020, errmsg: 'not allow to access from your ip' } }));
      try {
        const answer = await send(gw, { channel: 'wecom', to: 'zhangsan', text: 'refused' });
        assert.equal(answer.status, 422);
        assert.equal(answer.json.error.code, 'IMG_ERR_PLATFORM_REJECTED');
        assert.equal(answer.json.error.details.errcode, 60020);
        assert.equal(answer.json.error.details.errmsg, 'not allow to access from your ip');
      } finally {
        api.route('/cgi-bin/message/send', () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', msgid: 'msgid-restored' } }));
      }
    });

    it('never shows the corp secret or an access token in answers or logs', async () => {
      const answer = await send(gw, { channel: 'wecom', to: 'zhangsan', text: 'leak?' });
      assert.equal(answer.status, 200);
      const logs = gw.logText();
      assert.ok(logs.length > 0);
      for (const secret of [SECRET, BURST_SECRET, EXPIRY_SECRET, WECOM_KEYS.encodingAESKey, SUB_SECRET]) {
        assert.ok(!logs.includes(secret), `a secret reached the logs`);
        assert.ok(!answer.text.includes(secret));
      }
      assert.doesNotMatch(logs, /token-\d+/);
    });
  });
});
