import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { buildSlackSample } from '../../src/platforms/slack/index.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { FakeSlackApi } from '../helpers/fake-slack.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import { BOT_TOKEN, BOT_USER, CHANNEL, SIGNING_SECRET, USER, channel, eventCallback, messageEvent, nextTs, signedHeaders, type SignOptions } from '../platforms/slack/helpers.ts';

const SUB_SECRET = `whsec_${Buffer.from('slack-subscriber-key-32-bytes-xx').toString('base64')}`;

describe('the slack channel over the Events API, end to end', () => {
  let gw: TestGateway;
  const subscriber = new FakeHttpServer();
  const api = new FakeSlackApi(BOT_TOKEN);
  const send = (body: object) => call('POST', `${gw.url}/v1/messages`, { body, token: API_TOKEN });
  const post = (payload: unknown, options: SignOptions = {}) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return call('POST', `${gw.url}/hooks/slack`, { body, headers: signedHeaders(body, options) });
  };
  const storedWith = async (platformId: string) => (await eventsOf(gw.url)).filter((e) => e.channel === 'slack' && e.message.platformId === platformId);
  const delivered = () => subscriber.requests.map((r) => new Webhook(SUB_SECRET).verify(r.body.toString('utf8'), r.headers as Record<string, string>) as any);

  before(async () => {
    await Promise.all([subscriber.start(), api.start()]);
    gw = await startTestGateway({
      channels: [{ id: 'slack', platform: 'slack', botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiBase: api.url }],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/events`, secret: SUB_SECRET }],
    });
  });

  after(async () => {
    await gw.close();
    await subscriber.stop();
    await api.stop();
    removeDir(gw.dir);
  });

  it('answers url_verification with its challenge, and refuses one that is not signed', async () => {
    const verification = { token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge: 'p-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' };
    const answer = await post(verification);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { challenge: verification.challenge });
    const unsigned = await call('POST', `${gw.url}/hooks/slack`, { body: verification });
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.json.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
  });

  it('stores a signed message, answers 200 well within 3 s, and delivers it as a unified event', async () => {
    const message = messageEvent({ text: `<@${BOT_USER}> where is the report?` });
    const started = Date.now();
    const answer = await post(eventCallback(message));
    const tookMs = Date.now() - started;
    assert.equal(answer.status, 200, answer.text);
    assert.ok(tookMs < 3000, `answered in ${tookMs} ms`);
    // The answer came after the commit: the event is there already.
    const [stored] = await storedWith(message.ts as string);
    assert.equal(stored.platform, 'slack');
    assert.equal(stored.message.text, 'where is the report?');
    assert.equal(stored.message.mentionsBot, true);
    assert.deepEqual(stored.conversation, { id: CHANNEL, type: 'group', name: null });
    const event = await waitFor(() => delivered().find((e) => e.message.platformId === message.ts), 5000, 'the delivery');
    assert.equal(event.sender.id, USER);
  });

  it("stores a message once across Slack's retries (X-Slack-Retry-Num) and its app_mention twin", async () => {
    const message = messageEvent({ text: `<@${BOT_USER}> retried` });
    const payload = eventCallback(message);
    assert.equal((await post(payload)).status, 200);
    for (const retryNum of [1, 2]) assert.equal((await post(payload, { retryNum })).status, 200);
    const mention = eventCallback({ ...message, type: 'app_mention', channel_type: undefined });
    assert.equal((await post(mention)).status, 200);
    await waitFor(() => delivered().find((e) => e.message.platformId === message.ts), 5000, 'the delivery');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await storedWith(message.ts as string)).length, 1);
    assert.equal(delivered().filter((e) => e.message.platformId === message.ts).length, 1);
  });

  it('refuses a stale or forged request with 401 so that nothing is stored', async () => {
    const message = messageEvent();
    const stale = await post(eventCallback(message), { timestamp: Math.floor(Date.now() / 1000) - 600 });
    assert.equal(stale.status, 401);
    assert.equal(stale.json.error.code, 'IMG_ERR_INBOUND_STALE_TIMESTAMP');
    const forged = await post(eventCallback(message), { secret: 'not-the-signing-secret' });
    assert.equal(forged.status, 401);
    assert.equal((await storedWith(message.ts as string)).length, 0);
  });

  it('stores edits and deletions as their own events, and keeps the bot\'s own messages from subscribers', async () => {
    const original = messageEvent({ text: 'teh report' });
    await post(eventCallback(original));
    const editTs = nextTs();
    const edit = {
      type: 'message', subtype: 'message_changed', hidden: true, channel: CHANNEL, ts: editTs, event_ts: editTs, channel_type: 'channel',
      message: { type: 'message', user: USER, text: 'the report', ts: original.ts, edited: { user: USER, ts: editTs } },
      previous_message: { type: 'message', user: USER, text: 'teh report', ts: original.ts },
    };
    assert.equal((await post(eventCallback(edit))).status, 200);
    const deleteTs = nextTs();
    assert.equal((await post(eventCallback({ type: 'message', subtype: 'message_deleted', hidden: true, channel: CHANNEL, ts: deleteTs, deleted_ts: original.ts, event_ts: deleteTs }))).status, 200);
    const own = messageEvent({ user: BOT_USER, bot_id: 'B0OURS', text: 'posted by the bot' });
    assert.equal((await post(eventCallback(own))).status, 200);

    const stored = await waitFor(async () => {
      const found = await storedWith(original.ts as string);
      return found.length === 3 ? found : undefined;
    }, 5000, 'the message, its edit and its deletion');
    assert.deepEqual(stored.map((e) => e.type).sort(), ['message', 'message.recalled', 'system']);
    const edited = stored.find((e) => e.type === 'system');
    assert.equal(edited.message.text, 'the report');
    assert.equal(edited.message.content.editedPlatformId, original.ts);
    const [ownStored] = await storedWith(own.ts as string);
    assert.equal(ownStored.sender.isSelf, true);
    await waitFor(() => delivered().find((e) => e.type === 'message.recalled' && e.message.platformId === original.ts), 5000, 'the recall delivered');
    assert.equal(delivered().filter((e) => e.message.platformId === own.ts).length, 0, 'includeSelf is off');
  });

  it('takes the sample of imgate simulate slack, and shows the payload without its verification token', async () => {
    const sample = buildSlackSample(channel({ id: 'slack' }), { text: 'simulated' });
    const answer = await call('POST', `${gw.url}${sample.path}`, { body: sample.body, headers: sample.headers });
    assert.equal(answer.status, 200, answer.text);
    const [stored] = (await eventsOf(gw.url)).filter((e) => e.message.text === 'simulated');
    const shown = await admin('GET', `${gw.url}/v1/events/${stored.id}`);
    assert.equal(shown.json.raw.token, '[redacted]');
    assert.ok(!gw.logText().includes(SIGNING_SECRET), 'the signing secret is never logged');
  });

  it("replies into a received message's thread through the send API, with chat.postMessage and thread_ts", async () => {
    const message = messageEvent({ channel: 'C0THREADS', text: 'question' });
    await post(eventCallback(message));
    const [stored] = await storedWith(message.ts as string);
    const answer = await send({ channel: 'slack', to: 'C0THREADS', text: 'answer', replyTo: stored.message.id });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.platformMessageId, api.postedTs.at(-1));
    const posted = api.posts().at(-1)!;
    assert.deepEqual(posted, { channel: 'C0THREADS', text: 'answer', thread_ts: message.ts });
    const byPlatformId = await send({ channel: 'slack', to: 'C0THREADS', markdown: '*again*', replyTo: message.ts });
    assert.equal(byPlatformId.status, 200, byPlatformId.text);
    assert.equal(api.posts().at(-1)!.thread_ts, message.ts);
  });

  it('posts to one Slack channel at most once a second, queueing the rest', async () => {
    const before = api.requestsTo('/api/chat.postMessage').length;
    const answers = await Promise.all([1, 2, 3].map((n) => send({ channel: 'slack', to: 'C0PACED', text: `paced ${n}` })));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    const times = api.requestsTo('/api/chat.postMessage').slice(before).map((r) => r.at);
    assert.equal(times.length, 3);
    for (let i = 1; i < times.length; i += 1) assert.ok(times[i]! - times[i - 1]! >= 950, `posts ${times[i]! - times[i - 1]!} ms apart`);
  });

  it("answers Slack's 429 as 429 with retry_after and Retry-After, and names Slack's refusals", async () => {
    api.server.respondWith({ status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } });
    const limited = await send({ channel: 'slack', to: 'C0LIMITED', text: 'too fast' });
    assert.equal(limited.status, 429, limited.text);
    assert.equal(limited.json.error.code, 'IMG_ERR_PLATFORM_RATE_LIMITED');
    assert.equal(limited.json.retry_after, 30);
    assert.equal(limited.headers['retry-after'], '30');
    api.server.respondWith({ status: 200, body: { ok: false, error: 'channel_not_found' } });
    const refused = await send({ channel: 'slack', to: 'C0MISSING', text: 'hello?' });
    assert.equal(refused.status, 422);
    assert.equal(refused.json.error.details.error, 'channel_not_found');
    assert.ok(!gw.logText().includes(BOT_TOKEN), 'the bot token is never logged');
  });
});
