import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { FakeDingtalkStream } from '../helpers/fake-dingtalk-stream.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import { APP_KEY, APP_SECRET, FakeDingtalkApi, SESSION, bodyOf, callbackBody, pathOf, signedHeaders, type BodyOptions } from '../platforms/dingtalk/helpers.ts';

const SUB_SECRET = `whsec_${Buffer.from('dingtalk-stream-subscriber-32byt').toString('base64')}`;
const OPEN = '/v1.0/gateway/connections/open';

describe('dingtalk channel in Stream mode, end to end', () => {
  let gw: TestGateway;
  const api = new FakeDingtalkApi();
  const stream = new FakeDingtalkStream();
  const subscriber = new FakeHttpServer();
  /** While set, connections/open answers this status instead of a ticket. */
  let refuseTickets: number | null = null;
  const body = (options: BodyOptions) => callbackBody({ sessionWebhook: `${api.url}/robot/sendBySession?session=${SESSION}`, ...options });
  const status = async () => (await admin('GET', `${gw.url}/v1/channels`)).json.data.find((c: any) => c.id === 'ding-stream');
  const storedWith = async (msgId: string) => (await eventsOf(gw.url)).filter((e) => e.message.platformId === msgId);
  const deliveredWith = (msgId: string) =>
    subscriber.requests
      .map((r) => new Webhook(SUB_SECRET).verify(r.body.toString('utf8'), r.headers as Record<string, string>) as any)
      .filter((e) => e.message.platformId === msgId);

  before(async () => {
    await api.start();
    await stream.start();
    await subscriber.start();
    api.route(OPEN, (request) => {
      if (refuseTickets !== null) return { status: refuseTickets, body: { code: 'ServiceUnavailable', message: 'try later' } };
      const asked = bodyOf(request);
      if (asked.clientId !== APP_KEY || asked.clientSecret !== APP_SECRET) return { status: 401, body: { code: 'InvalidClient' } };
      return { status: 200, body: { endpoint: stream.endpoint, ticket: stream.issueTicket() } };
    });
    gw = await startTestGateway({
      channels: [
        { id: 'ding-stream', platform: 'dingtalk', mode: 'stream', apiBase: api.url, appKey: APP_KEY, appSecret: APP_SECRET, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
        { id: 'ding-http', platform: 'dingtalk', apiBase: api.url, appKey: APP_KEY, appSecret: APP_SECRET },
      ],
      subscriptions: [{ id: 'ding-events', url: `${subscriber.url}/hook`, secret: SUB_SECRET }],
    });
    await waitFor(() => stream.current, 10_000, 'the stream connection');
  });

  after(async () => {
    await gw.close();
    await stream.stop();
    await api.stop();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  it('asks for a connection with the app credentials and the robot topic, and shows it connected', async () => {
    const asked = bodyOf(api.requestsTo(OPEN)[0]!);
    assert.deepEqual(asked.subscriptions, [{ type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' }]);
    assert.equal(asked.clientId, APP_KEY);
    const shown = await waitFor(async () => ((await status())?.connected === true ? status() : undefined), 5000, 'connected');
    assert.equal(shown.lastError, null);
    assert.ok(!gw.logText().includes(APP_SECRET), 'the app secret is never logged');
    assert.ok(!gw.logText().includes('ticket-'), 'the ticket is never logged');
  });

  it('stores a pushed robot message before acknowledging it, and delivers it once though pushed twice', async () => {
    const first = stream.pushCallback(body({ msgId: 'msgStream0001==' }));
    await waitFor(() => (stream.acksOf(first).length > 0 ? true : undefined), 5000, 'the ack');
    // The ack is sent only after the commit: the event is in the store by the time it arrives.
    assert.equal((await storedWith('msgStream0001==')).length, 1);
    const ack = stream.acksOf(first)[0]!;
    assert.equal(ack.code, 200);
    assert.deepEqual(ack.headers, { contentType: 'application/json', messageId: first });

    const again = stream.pushCallback(body({ msgId: 'msgStream0001==' }));
    await waitFor(() => (stream.acksOf(again).length > 0 ? true : undefined), 5000, 'the second ack');
    await subscriber.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(deliveredWith('msgStream0001==').length, 1, 'delivered once');
    assert.equal((await storedWith('msgStream0001==')).length, 1);
  });

  it('makes the same event out of a message whichever mode it came by', async () => {
    const message = body({ msgId: 'msgBothModes==' });
    stream.pushCallback(message);
    const viaHttp = await call('POST', `${gw.url}/hooks/ding-http`, { body: JSON.stringify(message), headers: signedHeaders() });
    assert.equal(viaHttp.status, 200, viaHttp.text);
    const [a, b] = await waitFor(async () => {
      const found = await storedWith('msgBothModes==');
      return found.length === 2 ? found : undefined;
    }, 5000, 'both events');
    const comparable = (e: any) => ({ type: e.type, platform: e.platform, sender: e.sender, conversation: e.conversation, flags: e.flags, message: { ...e.message, id: undefined } });
    assert.deepEqual(comparable(a), comparable(b));
    assert.deepEqual(new Set([a.channel, b.channel]), new Set(['ding-stream', 'ding-http']));
  });

  it('echoes SYSTEM pings', async () => {
    const ping = stream.pushSystem('ping', JSON.stringify({ opaque: 'p-42' }));
    const echo = await waitFor(() => stream.acksOf(ping)[0], 5000, 'the pong');
    assert.equal(echo.code, 200);
    assert.deepEqual(JSON.parse(echo.data), { opaque: 'p-42' });
  });

  it('acknowledges a callback it cannot read, storing nothing, and keeps the connection', async () => {
    const before = (await eventsOf(gw.url)).length;
    const broken = stream.pushCallback('{"msgId":');
    const noId = stream.pushCallback({ conversationId: 'cid', text: { content: 'no id' } });
    await waitFor(() => (stream.acksOf(broken).length && stream.acksOf(noId).length ? true : undefined), 5000, 'acks');
    assert.equal((await eventsOf(gw.url)).length, before);
    assert.equal((await status()).connected, true);
  });

  it('reconnects after a drop, shows the outage, and stores an unacknowledged message once when it is pushed again', async () => {
    const connections = stream.sockets.length;
    refuseTickets = 503;
    // Pushed and dropped at once: the gateway may store it but cannot acknowledge it.
    const lost = stream.pushCallback(body({ msgId: 'msgAcrossDrop==' }));
    stream.drop();
    const down = await waitFor(async () => {
      const shown = await status();
      return shown.connected === false && shown.lastError ? shown : undefined;
    }, 5000, 'the outage shown');
    assert.equal(down.lastError.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    refuseTickets = null;
    await waitFor(() => (stream.sockets.length > connections && stream.current ? true : undefined), 10_000, 'a new connection');
    await waitFor(async () => ((await status()).connected ? true : undefined), 5000, 'connected again');
    assert.ok(stream.unacked.has(lost), 'the ack never reached DingTalk');
    stream.repushUnacked();
    await waitFor(() => (stream.unacked.has(lost) ? undefined : true), 5000, 'the ack after the re-push');
    await waitFor(() => (deliveredWith('msgAcrossDrop==').length > 0 ? true : undefined), 5000, 'the delivery');
    const after = stream.pushCallback(body({ msgId: 'msgAfterDrop==' }));
    await waitFor(() => (stream.acksOf(after).length > 0 ? true : undefined), 5000, 'the ack after the reconnect');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await storedWith('msgAcrossDrop==')).length, 1);
    assert.equal(deliveredWith('msgAcrossDrop==').length, 1);
  });

  it('moves to a new connection when DingTalk announces a disconnect, closing the old one cleanly and reporting no error', async () => {
    const connections = stream.sockets.length;
    const closes = stream.closeCodes.length;
    const errorBefore = (await status()).lastError;
    stream.pushSystem('disconnect', '{}');
    await waitFor(() => (stream.sockets.length > connections && stream.current ? true : undefined), 10_000, 'a new connection');
    assert.equal(stream.closeCodes.length, closes + 1);
    assert.equal(stream.closeCodes.at(-1), 1000);
    assert.deepEqual((await status()).lastError, errorBefore, 'a move is not a failure');
  });

  it('replies to a stream message through its sessionWebhook', async () => {
    stream.pushCallback(body({ msgId: 'msgStreamReply==' }));
    const [event] = await waitFor(async () => {
      const found = await storedWith('msgStreamReply==');
      return found.length ? found : undefined;
    }, 5000, 'the event');
    const answer = await call('POST', `${gw.url}/v1/messages`, {
      token: API_TOKEN,
      body: { channel: 'ding-stream', to: event.conversation.id, text: 'on it', replyTo: event.message.id },
    });
    assert.equal(answer.status, 200, answer.text);
    const request = api.requestsTo('/robot/sendBySession').at(-1)!;
    assert.equal(pathOf(request), '/robot/sendBySession');
    assert.equal(bodyOf(request).text.content, 'on it');
  });

  it('refuses callbacks at /hooks for a stream-mode channel', async () => {
    const answer = await call('POST', `${gw.url}/hooks/ding-stream`, { body: JSON.stringify(body({})), headers: signedHeaders() });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_UNSUPPORTED');
  });

  it('closes the connection cleanly at shutdown', async () => {
    const closes = stream.closeCodes.length;
    await gw.close();
    await waitFor(() => (stream.closeCodes.length > closes ? true : undefined), 5000, 'the close');
    assert.equal(stream.closeCodes.at(-1), 1000);
  });
});
