import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { FakeSlackApi } from '../helpers/fake-slack.ts';
import { FakeSlackSocket } from '../helpers/fake-slack-socket.ts';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import { APP_TOKEN, BOT_TOKEN, BOT_USER, SIGNING_SECRET, eventCallback, messageEvent, signedHeaders } from '../platforms/slack/helpers.ts';

const SUB_SECRET = `whsec_${Buffer.from('slack-socket-subscriber-32-bytes').toString('base64')}`;
const OPEN = '/api/apps.connections.open';

describe('the slack channel in Socket Mode, end to end', () => {
  let gw: TestGateway;
  const api = new FakeSlackApi(BOT_TOKEN);
  const socket = new FakeSlackSocket();
  const subscriber = new FakeHttpServer();
  /** While set, apps.connections.open answers this instead of a URL. */
  let refusal: { status: number; body: unknown; headers?: Record<string, string> } | null = null;
  const status = async () => (await admin('GET', `${gw.url}/v1/channels`)).json.data.find((c: any) => c.id === 'slack-socket');
  const storedWith = async (ts: string, channel = 'slack-socket') => (await eventsOf(gw.url)).filter((e) => e.channel === channel && e.message.platformId === ts);
  const deliveredWith = (ts: string) =>
    subscriber.requests
      .map((r) => new Webhook(SUB_SECRET).verify(r.body.toString('utf8'), r.headers as Record<string, string>) as any)
      .filter((e) => e.channel === 'slack-socket' && e.message.platformId === ts);
  const acked = (envelopeId: string) => waitFor(() => (socket.acksOf(envelopeId).length > 0 ? true : undefined), 5000, `the ack of ${envelopeId}`);

  before(async () => {
    await Promise.all([api.start(), socket.start(), subscriber.start()]);
    api.route(OPEN, (request) => {
      if (refusal !== null) return refusal;
      if (request.headers.authorization !== `Bearer ${APP_TOKEN}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
      return { status: 200, body: { ok: true, url: socket.issueUrl() } };
    });
    gw = await startTestGateway({
      channels: [
        { id: 'slack-socket', platform: 'slack', mode: 'socket', botToken: BOT_TOKEN, appToken: APP_TOKEN, apiBase: api.url, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } },
        { id: 'slack-events', platform: 'slack', botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiBase: api.url },
      ],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/hook`, secret: SUB_SECRET }],
    });
    await waitFor(() => socket.current, 10_000, 'the Socket Mode connection');
  });

  after(async () => {
    await gw.close();
    await socket.stop();
    await api.stop();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  it('opens the connection with the app-level token, and shows it connected after hello', async () => {
    const [open] = api.requestsTo(OPEN);
    assert.equal(open!.headers.authorization, `Bearer ${APP_TOKEN}`);
    const shown = await waitFor(async () => ((await status())?.connected === true ? status() : undefined), 5000, 'connected');
    assert.equal(shown.lastError, null);
    assert.ok(!gw.logText().includes(APP_TOKEN), 'the app token is never logged');
    assert.ok(!gw.logText().includes('ticket-'), 'the connection URL is never logged');
  });

  it('stores an events_api envelope before acknowledging it, and delivers it once though sent twice', async () => {
    const message = messageEvent({ text: `<@${BOT_USER}> over the socket` });
    const first = socket.pushEvent(eventCallback(message));
    await acked(first);
    // The ack comes only after the commit: the event is in the store by the time it arrives.
    assert.equal((await storedWith(message.ts as string)).length, 1);
    assert.deepEqual(socket.acksOf(first), [{ envelope_id: first }]);
    const again = socket.pushEvent(eventCallback(message));
    await acked(again);
    await waitFor(() => (deliveredWith(message.ts as string).length > 0 ? true : undefined), 5000, 'the delivery');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(deliveredWith(message.ts as string).length, 1, 'delivered once');
    assert.equal((await storedWith(message.ts as string)).length, 1);
  });

  it('makes the same event of a message whichever way it came', async () => {
    const payload = eventCallback(messageEvent({ text: 'both ways' }));
    const ts = (payload.event as { ts: string }).ts;
    socket.pushEvent(payload);
    const body = JSON.stringify(payload);
    const viaHttp = await call('POST', `${gw.url}/hooks/slack-events`, { body, headers: signedHeaders(body) });
    assert.equal(viaHttp.status, 200, viaHttp.text);
    const a = await waitFor(async () => (await storedWith(ts))[0], 5000, 'the socket event');
    const [b] = await storedWith(ts, 'slack-events');
    const comparable = (e: any) => ({ type: e.type, platform: e.platform, sender: e.sender, conversation: e.conversation, flags: e.flags, message: { ...e.message, id: undefined } });
    assert.deepEqual(comparable(a), comparable(b));
  });

  it('acknowledges what it stores nothing of, and an event it cannot read, keeping the connection', async () => {
    const before = (await eventsOf(gw.url)).length;
    const reaction = socket.pushEvent(eventCallback({ type: 'reaction_added', user: 'U0ALICE' }));
    const command = 'env-slash-command';
    socket.pushRaw({ envelope_id: command, type: 'slash_commands', payload: { command: '/imgate' }, accepts_response_payload: true });
    const unreadable = socket.pushEvent(eventCallback({ type: 'message', text: 'no channel, no ts' }));
    await Promise.all([acked(reaction), acked(command), acked(unreadable)]);
    assert.equal((await eventsOf(gw.url)).length, before);
    assert.equal((await status()).connected, true);
  });

  it('moves to a fresh URL when Slack sends disconnect, closing the old connection cleanly and reporting no error', async () => {
    const connections = socket.sockets.length;
    const opens = api.requestsTo(OPEN).length;
    const closes = socket.closeCodes.length;
    const errorBefore = (await status()).lastError;
    socket.disconnect('refresh_requested');
    await waitFor(() => (socket.sockets.length > connections && socket.current ? true : undefined), 10_000, 'a new connection');
    assert.equal(api.requestsTo(OPEN).length, opens + 1, 'a fresh URL was asked for');
    assert.equal(socket.closeCodes.length, closes + 1);
    assert.equal(socket.closeCodes.at(-1), 1000);
    assert.deepEqual((await status()).lastError, errorBefore, 'a refresh is not a failure');
  });

  it('reconnects after a drop, shows the outage, and stores an unacknowledged event once when Slack sends it again', async () => {
    const connections = socket.sockets.length;
    refusal = { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
    const message = messageEvent({ text: 'across a drop' });
    const lost = socket.pushEvent(eventCallback(message));
    socket.drop();
    const down = await waitFor(async () => {
      const shown = await status();
      return shown.connected === false && shown.lastError ? shown : undefined;
    }, 5000, 'the outage shown');
    assert.ok(['IMG_ERR_PLATFORM_UNREACHABLE', 'IMG_ERR_PLATFORM_RATE_LIMITED'].includes(down.lastError.code), down.lastError.code);
    refusal = null;
    await waitFor(() => (socket.sockets.length > connections && socket.current ? true : undefined), 10_000, 'a new connection');
    await waitFor(async () => ((await status()).connected ? true : undefined), 5000, 'connected again');
    assert.ok(socket.unacked.has(lost), 'the ack never reached Slack');
    socket.resendUnacked();
    await waitFor(() => (socket.unacked.has(lost) ? undefined : true), 5000, 'the ack after the resend');
    await waitFor(() => (deliveredWith(message.ts as string).length > 0 ? true : undefined), 5000, 'the delivery');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await storedWith(message.ts as string)).length, 1);
    assert.equal(deliveredWith(message.ts as string).length, 1);
  });

  it('shows a refused app-level token as the last error, never the token', async () => {
    const connections = socket.sockets.length;
    refusal = { status: 200, body: { ok: false, error: 'invalid_auth' } };
    socket.disconnect('refresh_requested');
    const shown = await waitFor(async () => {
      const s = await status();
      return s.lastError?.code === 'IMG_ERR_PLATFORM_REJECTED' ? s : undefined;
    }, 5000, 'the refusal shown');
    assert.match(shown.lastError.message, /invalid_auth/);
    assert.ok(!JSON.stringify(shown).includes(APP_TOKEN));
    refusal = null;
    await waitFor(() => (socket.sockets.length > connections && socket.current ? true : undefined), 10_000, 'connected again after the refusal');
  });
});
