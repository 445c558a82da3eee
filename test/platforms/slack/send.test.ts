import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChannelAdapter, SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import type { LimiterClock } from '../../../src/platforms/_kit/send-rate-limiter.ts';
import { buildUnifiedEvent } from '../../../src/pipeline/build-event.ts';
import { createSlackAdapter } from '../../../src/platforms/slack/index.ts';
import { normalizeSlackEventCallback } from '../../../src/platforms/slack/normalize.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { rejection } from '../../helpers/errors.ts';
import { FakeSlackApi } from '../../helpers/fake-slack.ts';
import { BOT_TOKEN, CHANNEL, channel, eventCallback, messageEvent, nextTs } from './helpers.ts';

/** Time stands still: sends beyond the limit are refused or wait forever, never pass. */
const frozenClock: LimiterClock = { now: () => 0, setTimer: () => ({ cancel: () => undefined }) };

function sendRequest(overrides: Partial<SendRequest> = {}): SendRequest {
  return { to: CHANNEL, mentions: [], replyTo: null, idempotencyKey: 'key-1', text: 'hello', ...overrides };
}

/** A received message as the send service hands it over in `replyTo`. */
function received(fields: Record<string, unknown> = {}) {
  const normalized = normalizeSlackEventCallback(eventCallback(messageEvent(fields)), new Date())!;
  return buildUnifiedEvent(normalized, { id: 'slack-test', platform: 'slack' }, new Date());
}

describe('sending through Slack', () => {
  const api = new FakeSlackApi(BOT_TOKEN);
  let adapter: ChannelAdapter;

  before(async () => {
    await api.start();
  });
  after(async () => {
    await api.stop();
  });
  beforeEach(() => {
    api.server.requests.length = 0;
    adapter = createSlackAdapter(channel({ apiBase: api.url, rateLimit: { messages: 100 } }), testAdapterDeps());
  });

  it('posts text with chat.postMessage and the bot token, escaped, mentions in front, and answers its ts', async () => {
    const result = await adapter.send!(sendRequest({ text: 'a < b & c > d', mentions: ['U0BOB'] }));
    assert.equal(result.platformMessageId, api.postedTs.at(-1));
    const [request] = api.requestsTo('/api/chat.postMessage');
    assert.equal(request!.headers.authorization, `Bearer ${BOT_TOKEN}`);
    assert.equal(request!.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(api.posts()[0], { channel: CHANNEL, text: '<@U0BOB> a &lt; b &amp; c &gt; d' });
  });

  it("sends markdown as Slack's mrkdwn, as written", async () => {
    await adapter.send!(sendRequest({ text: undefined, markdown: '*bold* <https://example.com|a link>' }));
    assert.deepEqual(api.posts()[0], { channel: CHANNEL, text: '*bold* <https://example.com|a link>', mrkdwn: true });
  });

  it("replies into the message's thread: a top-level message starts one, a thread reply joins its parent's", async () => {
    const top = received();
    await adapter.send!(sendRequest({ replyTo: top }));
    assert.equal(api.posts()[0]!.thread_ts, top.message.platformId);
    const parent = nextTs();
    await adapter.send!(sendRequest({ replyTo: received({ thread_ts: parent }) }));
    assert.equal(api.posts()[1]!.thread_ts, parent);
    const elsewhere = await rejection(adapter.send!(sendRequest({ to: 'C0OTHER', replyTo: top })));
    assert.equal(elsewhere.code, 'IMG_ERR_VALIDATION');
  });

  it('splits text longer than 4,000 characters into messages, in order, each in the thread', async () => {
    const top = received();
    const text = `${'a'.repeat(3000)}\n${'b'.repeat(3000)}`;
    const result = await adapter.send!(sendRequest({ text, replyTo: top }));
    const posts = api.posts();
    assert.deepEqual(posts.map((post) => post.text), ['a'.repeat(3000), 'b'.repeat(3000)]);
    assert.ok(posts.every((post) => post.thread_ts === top.message.platformId));
    assert.equal(result.platformMessageId, api.postedTs.at(-2), 'the first part names the send');
  });

  it('sends image.url as an image block with a fallback text, and refuses base64', async () => {
    await adapter.send!(sendRequest({ text: undefined, image: { url: 'https://example.com/cat.png' }, mentions: ['U0BOB'] }));
    assert.deepEqual(api.posts()[0], {
      channel: CHANNEL,
      text: '<@U0BOB> image',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '<@U0BOB>' } },
        { type: 'image', image_url: 'https://example.com/cat.png', alt_text: 'image' },
      ],
    });
    assert.equal((await rejection(adapter.send!(sendRequest({ text: undefined, image: { base64: 'aGk=' } })))).code, 'IMG_ERR_SEND_UNSUPPORTED');
  });

  it('refuses a `to` or mention that is no Slack id before any call', async () => {
    assert.equal((await rejection(adapter.send!(sendRequest({ to: '#general' })))).code, 'IMG_ERR_VALIDATION');
    assert.equal((await rejection(adapter.send!(sendRequest({ mentions: ['bob'] })))).code, 'IMG_ERR_VALIDATION');
    assert.equal(api.requestsTo('/api/chat.postMessage').length, 0);
  });

  it("turns Slack's refusals into 422 with its error, never showing the token", async () => {
    api.route('/api/chat.postMessage', () => ({ status: 200, body: { ok: false, error: 'not_in_channel' } }));
    try {
      const error = await rejection(adapter.send!(sendRequest()));
      assert.equal(error.code, 'IMG_ERR_PLATFORM_REJECTED');
      assert.equal(error.status, 422);
      assert.deepEqual(error.details, { error: 'not_in_channel' });
      assert.match(error.message, /invite it/);
    } finally {
      api.route('/api/chat.postMessage', null);
    }
    const wrongToken = createSlackAdapter(channel({ apiBase: api.url, botToken: 'xoxb-wrong-token' }), testAdapterDeps());
    const error = await rejection(wrongToken.send!(sendRequest()));
    assert.equal(error.details?.error, 'invalid_auth');
    assert.ok(!JSON.stringify(error.toBody()).includes('xoxb-'));
  });

  it('answers a 429 as rate limited with the Retry-After Slack gave', async () => {
    api.server.respondWith({ status: 429, headers: { 'retry-after': '7' }, body: { ok: false, error: 'ratelimited' } });
    const error = await rejection(adapter.send!(sendRequest()));
    assert.equal(error.code, 'IMG_ERR_PLATFORM_RATE_LIMITED');
    assert.equal(error.retryAfter, 7);
  });

  it('queues a second message to one channel within the second, and refuses it past maxWaitSeconds', async () => {
    const paced = createSlackAdapter(channel({ apiBase: api.url, rateLimit: { maxWaitSeconds: 0 } }), testAdapterDeps(), frozenClock);
    await paced.send!(sendRequest());
    const error = await rejection(paced.send!(sendRequest()));
    assert.equal(error.code, 'IMG_ERR_SEND_RATE_LIMITED');
    assert.equal(error.retryAfter, 1);
    await paced.send!(sendRequest({ to: 'C0OTHER' }));
    assert.equal(api.requestsTo('/api/chat.postMessage').length, 2, 'another channel has its own limit');
  });
});
