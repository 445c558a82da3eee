import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseLossless } from 'lossless-json';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { makeTempDir, removeDir, spawnGateway, startTestGateway, API_TOKEN, type GatewayProcess, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import { ALICE, BOB, BOT_ID, BOT_TOKEN, FakeIlinkApi, textItem, userMessage } from '../helpers/fake-ilink.ts';

const SECRET_KEY = randomBytes(32).toString('base64');
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ilinkChannel(api: FakeIlinkApi): Record<string, unknown> {
  return { id: 'wx', platform: 'wechat-ilink', apiBase: api.url, cdnBase: `${api.url}/c2c`, reconnect: { initialDelayMs: 100, maxDelayMs: 300 } };
}
const wxChannel = async (url: string) => (await admin('GET', `${url}/v1/channels`)).json.data.find((c: { id: string }) => c.id === 'wx');
const loginView = async (url: string) => (await admin('GET', `${url}/v1/channels/wx/login`)).json.login;

/** Logs the channel in: the fake confirms at once. */
async function logIn(api: FakeIlinkApi, url: string): Promise<void> {
  api.qrStatuses.push({ status: 'confirmed', bot_token: BOT_TOKEN, ilink_bot_id: BOT_ID, ilink_user_id: 'owner@im.wechat', baseurl: api.url });
  assert.equal((await admin('POST', `${url}/v1/channels/wx/login`)).status, 200);
  await waitFor(async () => ((await loginView(url))?.status === 'confirmed' ? true : undefined), 10_000, 'the login confirmed');
}

describe('wechat-ilink: login, receive, send, session end (real gateway, fake iLink and CDN)', () => {
  const api = new FakeIlinkApi();
  const redirected = new FakeHttpServer();
  const subscriber = new FakeHttpServer();
  const dir = makeTempDir();
  let gateway: TestGateway;

  before(async () => {
    await api.start();
    await redirected.start();
    await subscriber.start();
    delete process.env.IMGATE_SECRET_KEY;
    gateway = await startTestGateway({ channels: [ilinkChannel(api)], subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'ilink-subscriber-secret' }] }, dir);
  });
  after(async () => {
    await gateway?.close();
    await api.stop();
    await redirected.stop();
    await subscriber.stop();
    delete process.env.IMGATE_SECRET_KEY;
    removeDir(dir);
  });

  it('refuses a login without IMGATE_SECRET_KEY, saying how to make one', async () => {
    const answer = await admin('POST', `${gateway.url}/v1/channels/wx/login`);
    assert.equal(answer.status, 503);
    assert.equal(answer.json.error.code, 'IMG_ERR_SECRET_KEY_MISSING');
    assert.match(answer.json.error.message, /IMGATE_SECRET_KEY is not set.*openssl rand -base64 32/);
    assert.equal(api.requestsTo('/ilink/bot/get_bot_qrcode').length, 0, 'no code shown that could not be kept');
    assert.equal((await wxChannel(gateway.url)).needsLogin, true);
  });

  it('follows a QR login through wait, scanned, expired (a fresh code), the redirect and confirmed, and keeps the token sealed', async () => {
    process.env.IMGATE_SECRET_KEY = SECRET_KEY;
    api.qrStatuses.push({ status: 'wait' }, { status: 'scaned' }, { status: 'expired' }, { status: 'scaned_but_redirect', redirect_host: new URL(redirected.url).host });
    redirected.setDefault(() => ({ status: 200, body: { status: 'confirmed', bot_token: BOT_TOKEN, ilink_bot_id: BOT_ID, ilink_user_id: 'owner@im.wechat', baseurl: api.url } }));
    const started = await admin('POST', `${gateway.url}/v1/channels/wx/login`);
    assert.equal(started.status, 200);
    assert.equal(started.json.login.status, 'wait');
    assert.match(started.json.login.qrcodeUrl, /qrcode=qr-1&/);
    assert.match(started.json.login.qrImage, /^data:image\/png;base64,/);
    const statuses = new Set<string>();
    const urls = new Set<string>();
    await waitFor(async () => {
      const view = await loginView(gateway.url);
      statuses.add(view.status);
      if (view.qrcodeUrl) urls.add(view.qrcodeUrl);
      return view.status === 'confirmed' ? true : undefined;
    }, 15_000, 'the login confirmed');
    assert.ok(statuses.has('scanned'), 'scanned shown');
    assert.ok([...urls].some((url) => url.includes('qr-2')), 'a fresh code after the first expired');
    assert.deepEqual(api.requestsTo('/ilink/bot/get_bot_qrcode').map((r) => new URL(r.url, 'http://x').searchParams.get('bot_type')), ['3', '3']);
    assert.equal(new URL(redirected.requests[0]!.url, 'http://x').searchParams.get('qrcode'), 'qr-2', 'the status polled at the redirect host');
    await waitFor(async () => ((await wxChannel(gateway.url)).needsLogin === false ? true : undefined), 5000, 'needsLogin false');
    const db = readFileSync(join(dir, 'imgate.db')).toString('latin1') + (() => {
      try {
        return readFileSync(join(dir, 'imgate.db-wal')).toString('latin1');
      } catch {
        return '';
      }
    })();
    assert.ok(!db.includes(BOT_TOKEN), 'the bot token is in the store in the clear');
    assert.ok(!gateway.logText().includes(BOT_TOKEN), 'the bot token is in the log');
  });

  it('stores and delivers received messages once, uint64 ids exact, and answers with the right context_token', async () => {
    const first = userMessage(ALICE, [textItem('hello imgate')]);
    const voice = userMessage(BOB, [{ type: 3, voice_item: { encode_type: 6, playtime: 2300, text: 'transcribed voice' } }]);
    const image = userMessage(ALICE, [{ type: 2, image_item: { aeskey: '00112233445566778899aabbccddeeff', media: { encrypt_query_param: 'dl-img', aes_key: 'MDAxMTIy', encrypt_type: 1 } } }]);
    const quote = userMessage(ALICE, [{ type: 1, text_item: { text: 'about that' }, ref_msg: { title: 'hello imgate', message_item: textItem('hello imgate') } }]);
    api.messages.push(first, voice, image, quote);
    await subscriber.waitForRequests(4);
    // The same message again in a later answer (as after a buffer iLink did not take): stored once.
    api.messages.push(first);
    await waitFor(() => (api.calls('getupdates').some((c) => c.get_updates_buf === 'buf-5') ? true : undefined), 5000, 'the repeat polled past');
    await delay(300);
    assert.equal(subscriber.requests.length, 4);
    // Deliveries run in parallel: put them in the order of their (equally long) message ids.
    const delivered = subscriber.requests.map((r) => JSON.parse(r.body.toString('utf8'))).sort((a, b) => (a.message.platformId < b.message.platformId ? -1 : 1));
    assert.deepEqual(delivered.map((e) => [e.message.type, e.message.text]), [
      ['text', 'hello imgate'],
      ['voice', 'transcribed voice'],
      ['image', null],
      ['text', 'about that'],
    ]);
    const expectedId = (parseLossless(JSON.stringify({ id: String(first.message_id) })) as { id: string }).id;
    assert.equal(delivered[0].message.platformId, expectedId);
    assert.equal(delivered[0].message.platformId, first.message_id!.toString());
    assert.equal(delivered[0].conversation.id, ALICE);
    assert.equal(delivered[2].message.content.items[0].aesKeyHex, '00112233445566778899aabbccddeeff');
    assert.equal(delivered[3].message.content.quote.title, 'hello imgate');

    const sent = await call('POST', `${gateway.url}/v1/messages`, { token: API_TOKEN, headers: { 'idempotency-key': 'reply-1' }, body: { channel: 'wx', to: ALICE, text: 'hi Alice' } });
    assert.equal(sent.status, 200, sent.text);
    const [message] = api.calls('sendmessage').map((c) => c.msg as Record<string, unknown>);
    assert.equal(message!.to_user_id, ALICE);
    assert.equal(message!.context_token, quote.context_token, "the token of Alice's latest message");
    assert.deepEqual(message!.item_list, [{ type: 1, text_item: { text: 'hi Alice' } }]);
    assert.match(String(message!.client_id), /^imgate-[0-9a-f]{32}$/);
    assert.equal(api.requestsTo('/ilink/bot/sendmessage')[0]!.headers.authorization, `Bearer ${BOT_TOKEN}`);

    const unknown = await call('POST', `${gateway.url}/v1/messages`, { token: API_TOKEN, body: { channel: 'wx', to: 'never-wrote@im.wechat', text: 'hi' } });
    assert.equal(unknown.status, 409);
    assert.equal(unknown.json.error.code, 'IMG_ERR_SEND_NO_CONTEXT');
  });

  it('uploads a sent image to the CDN encrypted with AES-128-ECB under the key given to getuploadurl', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(300)]);
    const sent = await call('POST', `${gateway.url}/v1/messages`, { token: API_TOKEN, body: { channel: 'wx', to: BOB, image: { base64: png.toString('base64') } } });
    assert.equal(sent.status, 200, sent.text);
    const [uploadUrl] = api.calls('getuploadurl');
    const [upload] = api.uploads();
    assert.equal(upload!.query.get('encrypted_query_param'), `up-${String(uploadUrl!.filekey)}`);
    const decipher = createDecipheriv('aes-128-ecb', Buffer.from(String(uploadUrl!.aeskey), 'hex'), null);
    assert.deepEqual(Buffer.concat([decipher.update(upload!.body), decipher.final()]), png);
    assert.equal(uploadUrl!.rawsize, png.length);
    assert.equal(uploadUrl!.filesize, upload!.body.length);
    const message = api.calls('sendmessage').at(-1)!.msg as { item_list: { image_item: { media: { encrypt_query_param: string; aes_key: string } } }[]; context_token: string };
    assert.equal(message.item_list[0]!.image_item.media.encrypt_query_param, `dl-${String(uploadUrl!.filekey)}`);
    assert.equal(Buffer.from(message.item_list[0]!.image_item.media.aes_key, 'base64').toString('utf8'), uploadUrl!.aeskey);
    assert.match(message.context_token, /^ctx-o9cq800kQ2Bob/);
  });

  it('a session WeChat ends (-14) shows as needing login, is announced as a system event, and stops polling', async () => {
    const before = subscriber.requests.length;
    api.expired = true;
    await subscriber.waitForRequests(before + 1);
    const announced = JSON.parse(subscriber.requests.at(-1)!.body.toString('utf8'));
    assert.equal(announced.type, 'system');
    assert.equal(announced.message.content.reason, 'session_expired');
    const channel = await wxChannel(gateway.url);
    assert.equal(channel.needsLogin, true);
    const polls = api.requestsTo('/ilink/bot/getupdates').length;
    await delay(1500);
    assert.equal(api.requestsTo('/ilink/bot/getupdates').length, polls, 'no polling without a login');
    const refused = await call('POST', `${gateway.url}/v1/messages`, { token: API_TOKEN, body: { channel: 'wx', to: ALICE, text: 'anyone?' } });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error.code, 'IMG_ERR_LOGIN_NEEDED');

    api.expired = false;
    api.messages.push(userMessage(ALICE, [textItem('back again')]));
    await logIn(api, gateway.url);
    await waitFor(async () => ((await eventsOf(gateway.url)).some((e) => e.message.text === 'back again') ? true : undefined), 10_000, 'polling again after the login');
  });
});

describe('wechat-ilink across a SIGKILL (the gateway as its own process)', () => {
  const api = new FakeIlinkApi();
  const subscriber = new FakeHttpServer();
  const dir = makeTempDir();
  const children: GatewayProcess[] = [];
  const start = async () => {
    const child = await spawnGateway(dir, { channels: [ilinkChannel(api)], subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'ilink-subscriber-secret' }] });
    children.push(child);
    return child;
  };
  const delivered = () => subscriber.requests.map((r) => JSON.parse(r.body.toString('utf8')).message.text as string).sort();

  before(async () => {
    process.env.IMGATE_SECRET_KEY = SECRET_KEY;
    await api.start();
    await subscriber.start();
  });
  after(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await api.stop();
    await subscriber.stop();
    delete process.env.IMGATE_SECRET_KEY;
    removeDir(dir);
  });

  it('a kill after a batch is stored, before the next getupdates is answered, neither loses nor repeats a message', async () => {
    api.messages.push(userMessage(ALICE, [textItem('one')]), userMessage(ALICE, [textItem('two')]));
    // The call after the batch (with its buffer) is never answered: the gateway dies waiting.
    api.heldBufs.add('buf-2');
    const first = await start();
    await logIn(api, first.url);
    await subscriber.waitForRequests(2);
    await waitFor(() => (api.calls('getupdates').some((c) => c.get_updates_buf === 'buf-2') ? true : undefined), 5000, 'the next poll');
    first.child.kill('SIGKILL');
    await first.exited;

    api.heldBufs.clear();
    api.messages.push(userMessage(ALICE, [textItem('three')]));
    const callsBefore = api.calls('getupdates').length;
    const second = await start();
    await subscriber.waitForRequests(3, 15_000);
    assert.equal(api.calls('getupdates')[callsBefore]?.get_updates_buf, 'buf-2', 'the restarted gateway polls with the stored buffer');
    await delay(500);
    assert.deepEqual(delivered(), ['one', 'three', 'two']);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
