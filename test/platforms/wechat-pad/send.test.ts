import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import { failsWith } from '../../helpers/errors.ts';
import { adapterFor, channel } from './helpers.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

type Responder = (seen: Seen, res: ServerResponse) => void;

let server: Server;
let base: string;
let seen: Seen[] = [];
let respond: Responder = (_seen, res) => json(res, 200, {});

function json(res: ServerResponse, status: number, body: unknown | string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : null };
      seen.push(entry);
      respond(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
});

function sendRequest(overrides: Partial<SendRequest>): SendRequest {
  return { to: 'wxid_alice001', mentions: [], replyTo: null, idempotencyKey: 'idem-1', ...overrides };
}

function padPro(extra: Record<string, unknown> = {}) {
  return adapterFor(channel({ server: 'wechatpadpro', apiBase: `${base}/api`, key: 'pad-key-SECRET', ...extra }));
}

function gewechat() {
  return adapterFor(channel({ server: 'gewechat', apiBase: `${base}/v2/api/`, token: 'gewe-token-SECRET', appId: 'wx_app_0001' }));
}

describe('wechat-pad send through WeChatPadPro', () => {
  it('posts SendTextMessage with the key in the query and returns the NewMsgId exactly', async () => {
    respond = (_s, res) =>
      json(res, 200, '{"Code":200,"Data":[{"isSendSuccess":true,"resp":{"List":[{"Ret":0,"MsgId":123,"NewMsgId":9223372036854775707}]}}],"Text":""}');
    const result = await padPro().send!(sendRequest({ to: '12345678901@chatroom', text: 'hello', mentions: ['wxid_alice001'] }));
    assert.deepEqual(result, { platformMessageId: '9223372036854775707' });
    assert.equal(seen[0]?.method, 'POST');
    assert.equal(seen[0]?.url, '/api/message/SendTextMessage?key=pad-key-SECRET');
    assert.deepEqual(seen[0]?.body, {
      MsgItem: [{ ToUserName: '12345678901@chatroom', TextContent: 'hello', MsgType: 1, AtWxIDList: ['wxid_alice001'], ImageContent: '' }],
    });
  });

  it('answers a null platformMessageId when the response names no id', async () => {
    respond = (_s, res) => json(res, 200, { Code: 200, Data: [{ isSendSuccess: true, resp: {} }] });
    assert.deepEqual(await padPro().send!(sendRequest({ text: 'x' })), { platformMessageId: null });
  });

  it('posts SendImageMessage with base64 content', async () => {
    respond = (_s, res) => json(res, 200, { Code: 200, Data: [{ isSendSuccess: true, resp: { newMsgId: 42 } }] });
    const result = await padPro().send!(sendRequest({ image: { base64: 'aGVsbG8=' } }));
    assert.deepEqual(result, { platformMessageId: '42' });
    assert.equal(seen[0]?.url, '/api/message/SendImageMessage?key=pad-key-SECRET');
    assert.deepEqual(seen[0]?.body, { MsgItem: [{ ToUserName: 'wxid_alice001', ImageContent: 'aGVsbG8=', MsgType: 3 }] });
  });

  it('needs base64 to send an image', async () => {
    await assert.rejects(padPro().send!(sendRequest({ image: { url: 'https://x/y.png' } })), failsWith('IMG_ERR_SEND_UNSUPPORTED'));
    assert.equal(seen.length, 0);
  });

  it('maps Code != 200 to IMG_ERR_PLATFORM_REJECTED (422) with the platform code and message', async () => {
    respond = (_s, res) => json(res, 200, { Code: -2, Data: null, Text: '该链接不存在' });
    await assert.rejects(
      padPro().send!(sendRequest({ text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => {
        assert.equal(e.status, 422);
        assert.deepEqual(e.details, { platformCode: -2, platformMessage: '该链接不存在' });
      }),
    );
  });

  it('maps isSendSuccess false to IMG_ERR_PLATFORM_REJECTED', async () => {
    respond = (_s, res) => json(res, 200, { Code: 200, Data: [{ isSendSuccess: false, errMsg: 'not a friend' }] });
    await assert.rejects(padPro().send!(sendRequest({ text: 'x' })), failsWith('IMG_ERR_PLATFORM_REJECTED'));
  });

  it('maps HTTP 503 to IMG_ERR_PLATFORM_UNREACHABLE without leaking the key', async () => {
    respond = (_s, res) => json(res, 503, { error: 'down' });
    await assert.rejects(
      padPro().send!(sendRequest({ text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => {
        assert.equal(e.status, 502);
        assert.doesNotMatch(JSON.stringify({ m: e.message, d: e.details }), /pad-key-SECRET/);
      }),
    );
    assert.equal(seen.length, 1, 'the adapter itself does not retry');
  });

  it('maps HTTP 429 with Retry-After to IMG_ERR_PLATFORM_RATE_LIMITED with retryAfter', async () => {
    respond = (_s, res) => json(res, 429, { error: 'slow down' }, { 'retry-after': '7' });
    await assert.rejects(
      padPro().send!(sendRequest({ text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_RATE_LIMITED', (e) => assert.equal(e.retryAfter, 7)),
    );
  });

  it('maps a refused connection to IMG_ERR_PLATFORM_UNREACHABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const adapter = adapterFor(channel({ apiBase: `http://127.0.0.1:${port}`, key: 'k' }));
    await assert.rejects(adapter.send!(sendRequest({ text: 'x' })), failsWith('IMG_ERR_PLATFORM_UNREACHABLE'));
  });

  it('refuses markdown, and sending without apiBase names apiBase', async () => {
    await assert.rejects(padPro().send!(sendRequest({ markdown: '**x**' })), failsWith('IMG_ERR_SEND_UNSUPPORTED'));
    await assert.rejects(
      adapterFor(channel()).send!(sendRequest({ text: 'x' })),
      failsWith('IMG_ERR_SEND_UNSUPPORTED', (e) => assert.match(e.message, /apiBase/)),
    );
  });
});

describe('wechat-pad send through gewechat', () => {
  it('posts postText with X-GEWE-TOKEN and comma-joined ats, returning data.newMsgId', async () => {
    respond = (_s, res) => json(res, 200, '{"ret":200,"msg":"操作成功","data":{"toWxid":"x","createTime":1,"msgId":769,"newMsgId":9223372036854775709,"type":1}}');
    const result = await gewechat().send!(sendRequest({ to: '12345678901@chatroom', text: '@Alice hi', mentions: ['wxid_alice001', 'wxid_bob002'] }));
    assert.deepEqual(result, { platformMessageId: '9223372036854775709' });
    assert.equal(seen[0]?.url, '/v2/api/message/postText');
    assert.equal(seen[0]?.headers['x-gewe-token'], 'gewe-token-SECRET');
    assert.deepEqual(seen[0]?.body, { appId: 'wx_app_0001', toWxid: '12345678901@chatroom', content: '@Alice hi', ats: 'wxid_alice001,wxid_bob002' });
  });

  it('posts postImage with the image URL and falls back to data.msgId', async () => {
    respond = (_s, res) => json(res, 200, { ret: 200, msg: 'ok', data: { msgId: 770 } });
    const result = await gewechat().send!(sendRequest({ image: { url: 'https://93.184.215.14/a.png' } }));
    assert.deepEqual(result, { platformMessageId: '770' });
    assert.equal(seen[0]?.url, '/v2/api/message/postImage');
    assert.deepEqual(seen[0]?.body, { appId: 'wx_app_0001', toWxid: 'wxid_alice001', imgUrl: 'https://93.184.215.14/a.png' });
  });

  // The pad server fetches the image from inside the operator's network (a second-hand request forgery).
  for (const url of ['http://127.0.0.1:8080/a.png', 'http://169.254.169.254/latest/meta-data', 'http://[::ffff:10.0.0.1]/a.png', 'http://localhost/a.png', 'http://10.1.2.3/a.png']) {
    it(`refuses an image.url the pad server would fetch from the gateway's network: ${url}`, async () => {
      await assert.rejects(
        gewechat().send!(sendRequest({ image: { url } })),
        failsWith('IMG_ERR_VALIDATION', (e) => assert.match(e.message, /image\.url must be on a public host/)),
      );
      assert.deepEqual(seen, [], 'nothing reached the pad server');
    });
  }

  it('needs a URL to send an image', async () => {
    await assert.rejects(gewechat().send!(sendRequest({ image: { base64: 'aGVsbG8=' } })), failsWith('IMG_ERR_SEND_UNSUPPORTED'));
  });

  it('maps ret != 200 to IMG_ERR_PLATFORM_REJECTED with ret and msg', async () => {
    respond = (_s, res) => json(res, 200, { ret: 500, msg: '对方不是你的好友', data: null });
    await assert.rejects(
      gewechat().send!(sendRequest({ text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => assert.deepEqual(e.details, { platformCode: 500, platformMessage: '对方不是你的好友' })),
    );
  });

  it('maps HTTP 429 with an HTTP-date Retry-After to a retryAfter in seconds', async () => {
    respond = (_s, res) => json(res, 429, {}, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() });
    await assert.rejects(
      gewechat().send!(sendRequest({ text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_RATE_LIMITED', (e) => assert.ok(e.retryAfter !== undefined && e.retryAfter >= 28 && e.retryAfter <= 31)),
    );
  });

  it('maps HTTP 503 to IMG_ERR_PLATFORM_UNREACHABLE without leaking the token', async () => {
    respond = (_s, res) => json(res, 503, 'gewe-token-SECRET is down');
    await assert.rejects(
      gewechat().send!(sendRequest({ text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.doesNotMatch(JSON.stringify({ m: e.message, d: e.details }), /SECRET/)),
    );
  });
});
