import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { BOT_OPEN_ID, CHAT_ID, FEISHU_KEYS } from '../platforms/feishu/helpers.ts';

const BOT_A_TOKEN = 'bot-a-token-0123456789abcdef';
const BOT_B_TOKEN = 'bot-b-token-0123456789abcdef';
const FEISHU_MESSAGES = '/open-apis/im/v1/messages';
const PAD_SEND = '/message/SendTextMessage';

type Json = Record<string, unknown>;
/** An HTTP answer, or `drop`: the connection is closed after the request was read, as when a platform took the message and its answer was lost. */
type ScriptedAnswer = { status: number; body?: unknown } | 'drop';

/** A platform API on 127.0.0.1 that records each request and answers it as `script` says. */
class ScriptedPlatform {
  readonly requests: { path: string; body: Json }[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly script: (path: string, body: Json) => ScriptedAnswer) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const path = new URL(req.url ?? '/', 'http://fake').pathname;
        const body = text === '' ? {} : (JSON.parse(text) as Json);
        this.requests.push({ path, body });
        const answer = this.script(path, body);
        if (answer === 'drop') {
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  requestsTo(path: string): Json[] {
    return this.requests.filter((request) => request.path === path).map((request) => request.body);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** What the pad server answers the next sends (a drop comes after it took the message); then it takes each one. */
const padScript: ScriptedAnswer[] = [];
let padMessages = 0;
const pad = new ScriptedPlatform((): ScriptedAnswer => {
  const next = padScript.shift();
  if (next !== undefined) return next;
  padMessages += 1;
  return { status: 200, body: { Code: 200, Data: [{ isSendSuccess: true, resp: { NewMsgId: String(7000 + padMessages) } }], Text: '' } };
});

/** Feishu as documented: one message per uuid, a repeat answers the first; `dropAnswers` answers lost after the message was made. */
const feishuChats = new Map<string, { messageId: string; text: string }>();
let dropAnswers = 0;
const feishu = new ScriptedPlatform((path, body) => {
  if (path === '/open-apis/auth/v3/tenant_access_token/internal') return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: 't-1', expire: 7200 } };
  if (path !== FEISHU_MESSAGES) return { status: 404, body: { code: 404, msg: 'not found' } };
  const uuid = String(body.uuid);
  let message = feishuChats.get(uuid);
  if (message === undefined) {
    message = { messageId: `om_${feishuChats.size + 1}`, text: (JSON.parse(String(body.content)) as { text: string }).text };
    feishuChats.set(uuid, message);
  }
  if (dropAnswers > 0) {
    dropAnswers -= 1;
    return 'drop';
  }
  return { status: 200, body: { code: 0, msg: 'success', data: { message_id: message.messageId } } };
});

const send = (gw: TestGateway, body: object, headers: Record<string, string> = {}, token = API_TOKEN) =>
  call('POST', `${gw.url}/v1/messages`, { body, headers, token });

describe('sends and their idempotency keys, end to end', () => {
  let gw: TestGateway;

  before(async () => {
    await Promise.all([pad.start(), feishu.start()]);
    const { appId, appSecret, encryptKey, verificationToken } = FEISHU_KEYS;
    gw = await startTestGateway({
      channels: [
        { id: 'wx', platform: 'wechat-pad', secret: 'idempotency-test-secret', apiBase: pad.url, key: 'pad-key-0123' },
        { id: 'fs', platform: 'feishu', appId, appSecret, encryptKey, verificationToken, apiBase: feishu.url, botOpenId: BOT_OPEN_ID },
      ],
      apiKeys: [
        { id: 'test', token: API_TOKEN, channels: ['*'] },
        { id: 'bot-a', token: BOT_A_TOKEN, channels: ['fs'] },
        { id: 'bot-b', token: BOT_B_TOKEN, channels: ['fs'] },
      ],
    });
  });

  beforeEach(() => {
    padScript.length = 0;
    dropAnswers = 0;
  });

  after(async () => {
    await gw.close();
    await Promise.all([pad.stop(), feishu.stop()]);
    removeDir(gw.dir);
  });

  it('keeps two API keys that use the same requestId apart on the platform, so Feishu drops neither message', async () => {
    const before = feishu.requestsTo(FEISHU_MESSAGES).length;
    const a = await send(gw, { channel: 'fs', to: CHAT_ID, text: 'from bot A: order shipped', requestId: '1' }, {}, BOT_A_TOKEN);
    const b = await send(gw, { channel: 'fs', to: CHAT_ID, text: 'from bot B: refund approved', requestId: '1' }, {}, BOT_B_TOKEN);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.notEqual(b.json.platformMessageId, a.json.platformMessageId);
    const uuids = feishu.requestsTo(FEISHU_MESSAGES).slice(before).map((body) => String(body.uuid));
    assert.equal(uuids.length, 2);
    assert.notEqual(uuids[0], uuids[1]);
    assert.ok(uuids.every((uuid) => /^[0-9a-f]{32}$/.test(uuid)), 'within Feishu\'s 50 characters');
    const texts = [...feishuChats.values()].map((message) => message.text);
    assert.ok(texts.includes('from bot A: order shipped') && texts.includes('from bot B: refund approved'), 'the chat got both');

    const again = await send(gw, { channel: 'fs', to: CHAT_ID, text: 'from bot A: order shipped', requestId: '1' }, {}, BOT_A_TOKEN);
    assert.deepEqual(again.json, a.json, 'the same key of the same API key answers as before');
    assert.equal(feishu.requestsTo(FEISHU_MESSAGES).length, before + 2);
  });

  it('answers 502 of unknown outcome when the pad server took the message and the connection dropped, and never sends it again under that key', async () => {
    const before = pad.requestsTo(PAD_SEND).length;
    padScript.push('drop');
    const body = { channel: 'wx', to: 'wxid_alice', text: 'transfer 100 yuan' };
    const lost = await send(gw, body, { 'idempotency-key': 'pay-1' });
    assert.equal(lost.status, 502, lost.text);
    assert.equal(lost.json.error.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.equal(lost.json.error.details.outcome, 'unknown');
    assert.match(lost.json.error.message, /may have been sent/);
    assert.equal(pad.requestsTo(PAD_SEND).length, before + 1, 'not retried: a pad server drops no repeats');

    const retried = await send(gw, body, { 'idempotency-key': 'pay-1' });
    assert.equal(retried.status, 502);
    assert.deepEqual(retried.json, lost.json, 'the key keeps its answer');
    assert.equal(pad.requestsTo(PAD_SEND).length, before + 1);

    const anew = await send(gw, body, { 'idempotency-key': 'pay-2' });
    assert.equal(anew.status, 200, 'a new key sends');
    assert.equal(pad.requestsTo(PAD_SEND).length, before + 2);
  });

  it('takes a 504 from a proxy in front of the pad server as of unknown outcome too, on the OpenClaw route as well', async () => {
    const before = pad.requestsTo(PAD_SEND).length;
    padScript.push({ status: 504, body: 'gateway timeout' });
    const body = { to: 'wxid_bob', text: 'see you at 5', requestId: 'oc-1' };
    const url = `${gw.url}/api/channels/wx/messages/send`;
    const lost = await call('POST', url, { body, token: API_TOKEN });
    assert.equal(lost.status, 502, lost.text);
    assert.deepEqual(lost.json.error.details, { httpStatus: 504, outcome: 'unknown' });
    const retried = await call('POST', url, { body, token: API_TOKEN });
    assert.deepEqual(retried.json, lost.json);
    assert.equal(pad.requestsTo(PAD_SEND).length, before + 1);
  });

  it('still retries a pad server that answered 503 (it did not take the message), and frees the key when it stays down', async () => {
    const before = pad.requestsTo(PAD_SEND).length;
    padScript.push({ status: 503 }, { status: 503 }, { status: 503 });
    const body = { channel: 'wx', to: 'wxid_carol', text: 'later' };
    const down = await send(gw, body, { 'idempotency-key': 'down-1' });
    assert.equal(down.status, 502);
    assert.equal(down.json.error.details.outcome, 'not-sent');
    assert.equal(pad.requestsTo(PAD_SEND).length, before + 3);
    const retried = await send(gw, body, { 'idempotency-key': 'down-1' });
    assert.equal(retried.status, 200, retried.text);
  });

  it('retries Feishu after a lost answer with the same uuid, and the chat gets the message once', async () => {
    const before = feishu.requestsTo(FEISHU_MESSAGES).length;
    dropAnswers = 1;
    const answer = await send(gw, { channel: 'fs', to: CHAT_ID, text: 'exactly once, after a lost answer' }, { 'idempotency-key': 'fs-lost-1' });
    assert.equal(answer.status, 200, answer.text);
    const requests = feishu.requestsTo(FEISHU_MESSAGES).slice(before);
    assert.equal(requests.length, 2);
    assert.equal(requests[0]!.uuid, requests[1]!.uuid);
    const made = [...feishuChats.values()].filter((message) => message.text === 'exactly once, after a lost answer');
    assert.equal(made.length, 1);
    assert.equal(answer.json.platformMessageId, made[0]!.messageId);
  });
});
