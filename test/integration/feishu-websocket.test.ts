import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Webhook } from 'standardwebhooks';
import { FakeFeishuLongConnection, WS_ENDPOINT_PATH, type WsAck } from '../helpers/fake-feishu-ws.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import { BOT_OPEN_ID, CHAT_ID, FEISHU_KEYS, FakeFeishuApi, WS_APP_ID, feishuCallback, jsonOf, mention, messageEvent } from '../platforms/feishu/helpers.ts';

const { appSecret, encryptKey, verificationToken } = FEISHU_KEYS;
const SUB_SECRET = `whsec_${Buffer.from('feishu-ws-subscriber-key-32-byte').toString('base64')}`;

describe('a feishu channel in websocket (long connection) mode, end to end', () => {
  let gw: TestGateway;
  /** A second connection to the gateway's SQLite file, read at the instant an answer reaches Feishu. */
  let db: Database.Database;
  const api = new FakeFeishuApi();
  const feishu = new FakeFeishuLongConnection({ appId: WS_APP_ID, appSecret });
  const subscriber = new FakeHttpServer();

  const status = async () => (await admin('GET', `${gw.url}/v1/channels`)).json.data.find((c: any) => c.id === 'feishu-ws');
  const storedWith = async (messageId: string) => (await eventsOf(gw.url)).filter((event) => event.message.platformId === messageId);
  const deliveredWith = (messageId: string) =>
    subscriber.requests
      .map((request) => new Webhook(SUB_SECRET).verify(request.body.toString('utf8'), request.headers as Record<string, string>) as any)
      .filter((event) => event.message.platformId === messageId);
  const ackOf = (messageId: string, what = 'the answer') => waitFor(() => feishu.acksOf(messageId).at(-1), 10_000, what);
  const connections = () => feishu.sockets.length;

  before(async () => {
    await Promise.all([api.start(), feishu.start(), subscriber.start()]);
    api.route(WS_ENDPOINT_PATH, feishu.endpoint);
    gw = await startTestGateway({
      channels: [
        // No botOpenId: learned from bot/v3/info, as in webhook mode.
        { id: 'feishu-ws', platform: 'feishu', mode: 'websocket', appId: WS_APP_ID, appSecret, apiBase: api.url, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
        { id: 'feishu-hook', platform: 'feishu', appId: WS_APP_ID, appSecret, encryptKey, verificationToken, apiBase: api.url, botOpenId: BOT_OPEN_ID },
      ],
      subscriptions: [{ id: 'all', url: `${subscriber.url}/events`, secret: SUB_SECRET }],
    });
    db = new Database(join(gw.dir, 'imgate.db'), { readonly: true, fileMustExist: true });
    await waitFor(async () => ((await status())?.connected === true ? true : undefined), 10_000, 'the long connection');
    await waitFor(() => (gw.logs.some((line) => line.channel === 'feishu-ws' && line.botOpenId === BOT_OPEN_ID) ? true : undefined), 10_000, "the bot's open_id");
  });

  after(async () => {
    db.close();
    await gw.close();
    await Promise.all([api.stop(), feishu.stop(), subscriber.stop()]);
    removeDir(gw.dir);
  });

  it('asks for the connection with the App ID and Secret and shows it connected in /v1/channels', async () => {
    assert.deepEqual(jsonOf(api.requestsTo(WS_ENDPOINT_PATH)[0]!), { AppID: WS_APP_ID, AppSecret: appSecret });
    const shown = await status();
    assert.equal(shown.connected, true);
    assert.equal(shown.lastError, null);
    assert.equal((await admin('GET', `${gw.url}/v1/channels`)).json.data.find((c: any) => c.id === 'feishu-hook').connected, null);
  });

  it('stores a pushed message before answering it, and delivers it to the subscriber', async () => {
    const count = db.prepare('SELECT count(*) AS n FROM events WHERE channel = ? AND platform_message_id = ?');
    const storedAtAnswer: number[] = [];
    feishu.onAck = () => void storedAtAnswer.push((count.get('feishu-ws', 'om_ws_first') as { n: number }).n);
    try {
      const pushed = feishu.push(messageEvent({ messageId: 'om_ws_first', content: { text: 'hello over the long connection' } }));
      assert.equal((await ackOf(pushed)).code, 200);
      assert.deepEqual(storedAtAnswer, [1], 'the event was committed when its answer reached Feishu');
    } finally {
      feishu.onAck = null;
    }
    const [event] = await waitFor(() => (deliveredWith('om_ws_first').length > 0 ? deliveredWith('om_ws_first') : undefined), 10_000, 'the delivery');
    assert.equal(event.channel, 'feishu-ws');
    assert.equal(event.platform, 'feishu');
    assert.equal(event.message.text, 'hello over the long connection');
    assert.deepEqual(event.conversation, { id: CHAT_ID, type: 'group', name: null });
  });

  it('stores and delivers once an event pushed twice (one event_id)', async () => {
    const payload = messageEvent({ messageId: 'om_ws_twice' });
    const answers = [await ackOf(feishu.push(payload)), await ackOf(feishu.push(payload, 2))];
    assert.deepEqual(answers.map((answer) => answer.code), [200, 200]);
    const stored = await storedWith('om_ws_twice');
    assert.equal(stored.length, 1);
    const withDeliveries = (await admin('GET', `${gw.url}/v1/events/${stored[0].id}`)).json;
    assert.equal(withDeliveries.deliveries.length, 1, 'the second push made no delivery');
    await waitFor(() => (deliveredWith('om_ws_twice').length > 0 ? true : undefined), 10_000, 'the delivery');
    assert.equal(deliveredWith('om_ws_twice').length, 1);
  });

  it('makes the same unified event of one Feishu event in either mode', async () => {
    const payload = messageEvent({
      messageId: 'om_ws_both_modes',
      content: { text: '@_user_1 status?' },
      mentions: [mention(1, BOT_OPEN_ID, 'imgate')],
      parentId: 'om_ws_parent',
    });
    assert.equal((await ackOf(feishu.push(payload))).code, 200);
    const viaHook = await call('POST', `${gw.url}/hooks/feishu-hook`, feishuCallback(payload, { encryptKey }));
    assert.equal(viaHook.status, 200, viaHook.text);
    const both = await waitFor(async () => {
      const found = await storedWith('om_ws_both_modes');
      return found.length === 2 ? found : undefined;
    }, 10_000, 'both events');
    const comparable = (event: any) => ({ ...event, id: undefined, channel: undefined, receivedAt: undefined, message: { ...event.message, id: undefined } });
    const [ws, hook] = ['feishu-ws', 'feishu-hook'].map((channel) => both.find((event) => event.channel === channel));
    assert.deepEqual(comparable(ws), comparable(hook));
    assert.equal(ws.message.text, 'status?');
    assert.equal(ws.message.mentionsBot, true);
    assert.equal(ws.message.replyTo, 'om_ws_parent');
  });

  it('refuses callbacks at /hooks for the websocket channel', async () => {
    const answer = await call('POST', `${gw.url}/hooks/feishu-ws`, feishuCallback(messageEvent({ messageId: 'om_ws_by_hook' })));
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_UNSUPPORTED');
    assert.match(answer.json.error.message, /long connection/);
    assert.equal((await storedWith('om_ws_by_hook')).length, 0);
  });

  it('shows the connection down while Feishu refuses it, reconnects, and stores an unanswered event once when pushed again', async () => {
    const before = connections();
    feishu.refusal = { code: 1000040343, msg: 'internal error' };
    // Pushed and cut at once: the gateway may store it, but its answer cannot reach Feishu.
    const lost = feishu.push(messageEvent({ messageId: 'om_ws_across_drop' }));
    feishu.drop();
    const down = await waitFor(async () => {
      const shown = await status();
      return shown.connected === false && /1000040343/.test(shown.lastError?.message ?? '') ? shown : undefined;
    }, 10_000, 'the outage shown');
    assert.equal(down.lastError.code, 'IMG_ERR_PLATFORM_REJECTED');
    feishu.refusal = null;
    await waitFor(async () => (connections() > before && (await status()).connected ? true : undefined), 10_000, 'connected again');

    assert.ok(feishu.unacked.has(lost), 'no answer reached Feishu before the drop');
    const [again] = feishu.repushUnacked();
    const repushed: WsAck = await ackOf(again!, 'the answer to the re-push');
    assert.equal(repushed.code, 200);
    assert.equal(repushed.connection, connections() - 1);
    const later = await ackOf(feishu.push(messageEvent({ messageId: 'om_ws_after_drop' })));
    assert.equal(later.code, 200);
    assert.equal((await storedWith('om_ws_across_drop')).length, 1);
    assert.equal((await storedWith('om_ws_after_drop')).length, 1);
    await waitFor(() => (deliveredWith('om_ws_across_drop').length > 0 ? true : undefined), 10_000, 'the delivery');
    assert.equal(deliveredWith('om_ws_across_drop').length, 1);
  });

  it('starts a new client after the channel\'s backoff when Feishu refuses the app, showing why', async () => {
    const asked = api.requestsTo(WS_ENDPOINT_PATH).length;
    feishu.refusal = { code: 514, msg: 'auth failed' };
    feishu.drop();
    const refused = await waitFor(async () => {
      const shown = await status();
      return shown.connected === false && /514/.test(shown.lastError?.message ?? '') ? shown : undefined;
    }, 10_000, 'the refusal shown');
    assert.match(refused.lastError.message, /the App ID or App Secret is wrong/);
    // The SDK gives up on 514; only the runtime's backoff asks again.
    await waitFor(() => (api.requestsTo(WS_ENDPOINT_PATH).length >= asked + 2 ? true : undefined), 10_000, 'a second refused request');
    feishu.refusal = null;
    await waitFor(async () => ((await status()).connected ? true : undefined), 10_000, 'connected again');
    assert.equal((await ackOf(feishu.push(messageEvent({ messageId: 'om_ws_after_refusal' })))).code, 200);
  });

  it('replies to a message from the long connection through the reply endpoint', async () => {
    assert.equal((await ackOf(feishu.push(messageEvent({ messageId: 'om_ws_question' })))).code, 200);
    const [stored] = await storedWith('om_ws_question');
    const answer = await call('POST', `${gw.url}/v1/messages`, {
      token: API_TOKEN,
      body: { channel: 'feishu-ws', to: stored.conversation.id, text: 'answered', replyTo: stored.message.id },
    });
    assert.equal(answer.status, 200, answer.text);
    const reply = api.requestsTo('/open-apis/im/v1/messages/om_ws_question/reply').at(-1)!;
    assert.equal(JSON.parse(jsonOf(reply).content).text, 'answered');
  });

  it('never logs the App Secret, a ticket, an access key or the connection URL', () => {
    const logs = gw.logText();
    assert.ok(feishu.credentialsIssued.length >= 2);
    for (const secret of [appSecret, ...feishu.credentialsIssued]) assert.ok(!logs.includes(secret), 'a secret reached the logs');
    assert.doesNotMatch(logs, /ws:\/\/127\.0\.0\.1/);
  });

  it('closes the long connection at shutdown', async () => {
    const closes = feishu.closeCodes.length;
    await gw.close();
    await waitFor(() => (feishu.closeCodes.length > closes ? true : undefined), 5000, 'the close');
    assert.equal(feishu.current, undefined);
  });
});
