import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import type { SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import type { LimiterClock } from '../../../src/platforms/_kit/send-rate-limiter.ts';
import { normalizeTelegramUpdate } from '../../../src/platforms/telegram/normalize.ts';
import { telegramPacing } from '../../../src/platforms/telegram/pacing.ts';
import { sendTelegramMessage, TELEGRAM_MAX_TEXT, type TelegramSender } from '../../../src/platforms/telegram/send.ts';
import { storedEvent } from '../../helpers/callback-outcome.ts';
import { rejection } from '../../helpers/errors.ts';
import { FakeHttpServer } from '../../helpers/fake-http.ts';
import { ALICE, BOT_ID, BOT_TOKEN, FakeTelegramApi, GROUP_CHAT, PRIVATE_CHAT, failure, message, update } from '../../helpers/fake-telegram.ts';
import { channel } from './helpers.ts';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('png-body')]);
/** What the image host serves (ASCII: the fake server writes text), sent as a JPEG. */
const SERVED = Buffer.from('served-image-bytes');
const unpaced = { run: <T>(_key: string, send: () => Promise<T>) => send() };

function request(overrides: Partial<SendRequest>): SendRequest {
  return { to: String(ALICE.id), mentions: [], replyTo: null, idempotencyKey: 'a'.repeat(64), ...overrides };
}

function received(updateId: number, fields: Record<string, unknown>) {
  const event = normalizeTelegramUpdate(update(updateId, fields), { userId: String(BOT_ID), username: null }, new Date());
  assert.ok(event);
  return storedEvent(event, 'tg', 'telegram');
}

describe('telegram send', () => {
  const api = new FakeTelegramApi();
  const images = new FakeHttpServer(() => ({ status: 200, body: SERVED.toString('latin1'), headers: { 'content-type': 'image/jpeg' } }));
  // Loopback allowed here: the guard itself is tested with imageBytes and in the integration test.
  const downloads = new Agent();
  let sender: TelegramSender;

  before(async () => {
    await api.start();
    await images.start();
    sender = { config: channel({ apiBase: api.url }), limiter: unpaced, downloads };
  });
  after(async () => {
    await api.stop();
    await images.stop();
    await downloads.close();
  });

  it('sends text with sendMessage, split at 4096 characters, the reply quoted on the first part', async () => {
    const replyTo = received(1, { message: message(42, PRIVATE_CHAT, { text: 'question' }) });
    const text = `${'a'.repeat(3000)}\n${'b'.repeat(3000)}`;
    const result = await sendTelegramMessage(sender, request({ text, replyTo }));
    const calls = await api.calls('sendMessage');
    assert.deepEqual(calls, [
      { chat_id: ALICE.id, text: 'a'.repeat(3000), reply_parameters: { message_id: 42, allow_sending_without_reply: true } },
      { chat_id: ALICE.id, text: 'b'.repeat(3000) },
    ]);
    assert.ok(calls.every((call) => String(call.text).length <= TELEGRAM_MAX_TEXT));
    assert.equal(result.platformMessageId, `${ALICE.id}:500`);
  });

  it('sends markdown with the channel\'s parse mode, mentions first (escaped for MarkdownV2)', async () => {
    await sendTelegramMessage(sender, request({ to: String(GROUP_CHAT.id), markdown: '*bold*', mentions: ['@alice_w'] }));
    assert.deepEqual((await api.calls('sendMessage')).at(-1), { chat_id: GROUP_CHAT.id, text: '@alice\\_w *bold*', parse_mode: 'MarkdownV2' });
    const html = { ...sender, config: channel({ apiBase: api.url, markdownParseMode: 'HTML' }) };
    await sendTelegramMessage(html, request({ markdown: '<b>bold</b>', mentions: ['alice_w'] }));
    assert.deepEqual((await api.calls('sendMessage')).at(-1), { chat_id: ALICE.id, text: '@alice_w <b>bold</b>', parse_mode: 'HTML' });
  });

  it('a reply to a button press quotes the message that carries the button', async () => {
    const press = received(2, { callback_query: { id: 'cbq', from: ALICE, message: message(77, PRIVATE_CHAT, { text: 'menu' }), chat_instance: '1', data: 'go' } });
    await sendTelegramMessage(sender, request({ text: 'done', replyTo: press }));
    assert.deepEqual((await api.calls('sendMessage')).at(-1)?.reply_parameters, { message_id: 77, allow_sending_without_reply: true });
  });

  it('sends an image with sendPhoto as a multipart upload, from base64 or from its URL', async () => {
    const replyTo = received(3, { message: message(43, PRIVATE_CHAT, { text: 'a picture please' }) });
    const result = await sendTelegramMessage(sender, request({ image: { base64: PNG.toString('base64') }, replyTo }));
    assert.match(String(result.platformMessageId), new RegExp(`^${ALICE.id}:\\d+$`));
    await sendTelegramMessage(sender, request({ image: { url: `${images.url}/chart.png` }, mentions: ['alice_w'] }));
    const [fromBase64, fromUrl] = (await api.calls('sendPhoto')) as Record<string, any>[];
    assert.equal(fromBase64!.chat_id, String(ALICE.id));
    assert.deepEqual(fromBase64!.photo.file, PNG);
    assert.equal(fromBase64!.photo.type, 'image/png');
    assert.deepEqual(JSON.parse(fromBase64!.reply_parameters), { message_id: 43, allow_sending_without_reply: true });
    assert.deepEqual(fromUrl!.photo.file, SERVED);
    assert.equal(fromUrl!.photo.type, 'image/jpeg');
    assert.equal(fromUrl!.caption, '@alice_w');
  });

  it("turns a 429 into IMG_ERR_PLATFORM_RATE_LIMITED with Telegram's parameters.retry_after, the token blanked", async () => {
    api.route(api.pathOf('sendMessage'), () => failure(429, 'Too Many Requests: retry after 7', { retry_after: 7 }));
    const error = await rejection(sendTelegramMessage(sender, request({ text: 'hi' })));
    api.route(api.pathOf('sendMessage'), null);
    assert.equal(error.code, 'IMG_ERR_PLATFORM_RATE_LIMITED');
    assert.equal(error.retryAfter, 7);
    assert.ok(!JSON.stringify({ message: error.message, details: error.details }).includes(BOT_TOKEN.split(':')[1]!));
  });

  it("names Telegram's error_code and description, and a group's move to a supergroup", async () => {
    api.route(api.pathOf('sendMessage'), () => failure(403, 'Forbidden: bot was blocked by the user'));
    const blocked = await rejection(sendTelegramMessage(sender, request({ text: 'hi' })));
    assert.equal(blocked.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.equal(blocked.message, 'Telegram answered sendMessage with 403: Forbidden: bot was blocked by the user');
    api.route(api.pathOf('sendMessage'), () => failure(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: -1009999999999 }));
    const moved = await rejection(sendTelegramMessage(sender, request({ to: String(GROUP_CHAT.id), text: 'hi' })));
    api.route(api.pathOf('sendMessage'), null);
    assert.match(moved.message, /send to chat -1009999999999/);
    assert.equal(moved.details?.migrateToChatId, '-1009999999999');
  });

  it('a later part failing says the message is partly sent (outcome unknown)', async () => {
    let n = 0;
    api.route(api.pathOf('sendMessage'), () => (++n === 1 ? { status: 200, body: { ok: true, result: { message_id: 1, chat: { id: ALICE.id } } } } : failure(400, 'Bad Request: message is too long')));
    const error = await rejection(sendTelegramMessage(sender, request({ text: `${'a'.repeat(4000)} ${'b'.repeat(100)}` })));
    api.route(api.pathOf('sendMessage'), null);
    assert.equal(error.details?.outcome, 'unknown');
    assert.equal(error.details?.partsSent, 1);
  });

  it('refuses a bad `to`, a reply into another chat, and mentions that are not usernames, before any call', async () => {
    const before = api.server.requests.length;
    const replyTo = received(4, { message: message(44, PRIVATE_CHAT, { text: 'q' }) });
    for (const req of [request({ to: 'alice', text: 'x' }), request({ to: String(GROUP_CHAT.id), text: 'x', replyTo }), request({ text: 'x', mentions: ['12345'] })]) {
      assert.equal((await rejection(sendTelegramMessage(sender, req))).code, 'IMG_ERR_VALIDATION');
    }
    assert.equal(api.server.requests.length, before);
  });

  it('keeps the token out of the error when Telegram cannot be reached', async () => {
    const closed = { ...sender, config: channel({ apiBase: 'http://127.0.0.1:9' }) };
    const error = await rejection(sendTelegramMessage(closed, request({ text: 'hi' })));
    assert.equal(error.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.match(error.message, /bot\[redacted\]\/sendMessage/);
    assert.ok(!error.message.includes(BOT_TOKEN));
  });
});

describe('telegram pacing', () => {
  let now = 0;
  // Time moves only when the test says; with maxWaitSeconds 0 nothing queues, so no timer is ever set.
  const clock: LimiterClock = { now: () => now, setTimer: () => assert.fail('no send should queue') };
  const slots = { takeSendSlot: async () => ({ token: 'one-node' }), releaseSendSlot: async () => undefined };
  const send = () => Promise.resolve('sent');

  it('one message a second in a chat, 20 a minute in a group, 30 a second in all', async () => {
    const pacing = telegramPacing(String(BOT_ID), 0, slots, clock);
    assert.equal(await pacing.run('111', send), 'sent');
    assert.equal((await rejection(pacing.run('111', send))).code, 'IMG_ERR_SEND_RATE_LIMITED', 'a second message in the same second');
    now += 1000;
    assert.equal(await pacing.run('111', send), 'sent');

    for (let i = 0; i < 20; i += 1, now += 1000) assert.equal(await pacing.run('-100200', send), 'sent', `group message ${i + 1}`);
    const group = await rejection(pacing.run('-100200', send));
    assert.equal(group.code, 'IMG_ERR_SEND_RATE_LIMITED');
    assert.equal(group.details?.messages, 20);
    now += 40_000;
    assert.equal(await pacing.run('-100200', send), 'sent', 'a minute after the first');

    now += 60_000;
    for (let i = 0; i < 30; i += 1) assert.equal(await pacing.run(String(1000 + i), send), 'sent');
    const all = await rejection(pacing.run('2000', send));
    assert.equal(all.details?.messages, 30);
  });
});
