import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, startTestGateway, removeDir, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import {
  ALICE,
  BOT_TOKEN,
  BOT_USERNAME,
  DOCUMENT,
  FakeTelegramApi,
  PHOTO,
  PRIVATE_CHAT,
  SECRET_TOKEN,
  SUPERGROUP_CHAT,
  VOICE,
  failure,
  message,
  textWithEntities,
  update,
} from '../helpers/fake-telegram.ts';

export function telegramChannel(apiBase: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'tg', platform: 'telegram', token: BOT_TOKEN, secretToken: SECRET_TOKEN, apiBase, ...overrides };
}

function send(gateway: TestGateway, body: object) {
  return call('POST', `${gateway.url}/v1/messages`, { token: API_TOKEN, body });
}

/** Posts an update to the channel's webhook as Telegram does, with the secret token unless told otherwise. */
function postUpdate(gateway: TestGateway, body: unknown, secret: string | null = SECRET_TOKEN) {
  const headers: Record<string, string> = secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret };
  return call('POST', `${gateway.url}/hooks/tg`, { body: body as object, headers });
}

describe('telegram webhook mode (in-process gateway, fake Bot API)', () => {
  const api = new FakeTelegramApi();
  const subscriber = new FakeHttpServer();
  let gateway: TestGateway;

  before(async () => {
    await api.start();
    await subscriber.start();
    gateway = await startTestGateway({
      channels: [telegramChannel(api.url)],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'tg-subscriber-secret', channels: ['tg'] }],
    });
    // The bot's @username comes from getMe, asked once the gateway runs.
    await waitFor(() => (api.requestsTo(api.pathOf('getMe')).length > 0 ? true : undefined), 5000, 'getMe');
  });

  after(async () => {
    await gateway.close();
    await api.stop();
    await subscriber.stop();
    removeDir(gateway.dir);
  });

  it('stores a private message, answers 200 only then, and delivers it', async () => {
    const answer = await postUpdate(gateway, update(900001, { message: message(1, PRIVATE_CHAT, { text: 'hello bot' }) }));
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '');
    await subscriber.waitForRequests(1);
    const delivered = JSON.parse(subscriber.requests[0]!.body.toString('utf8'));
    assert.equal(delivered.platform, 'telegram');
    assert.equal(delivered.message.text, 'hello bot');
    assert.deepEqual(delivered.conversation, { id: String(ALICE.id), type: 'direct', name: 'Alice Liddell' });
  });

  it('deduplicates on update_id: Telegram sending the update again stores and delivers it once', async () => {
    const body = update(900002, { message: message(2, SUPERGROUP_CHAT, textWithEntities(`@${BOT_USERNAME} what time is it?`)) });
    for (let i = 0; i < 3; i += 1) assert.equal((await postUpdate(gateway, body)).status, 200);
    await subscriber.waitForRequests(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = (await eventsOf(gateway.url)).filter((e) => e.message.platformId === `${SUPERGROUP_CHAT.id}:2`);
    assert.equal(events.length, 1);
    assert.equal(subscriber.requests.length, 2);
    assert.equal(events[0].message.mentionsBot, true);
    assert.equal(events[0].message.text, 'what time is it?');
    assert.equal(events[0].conversation.type, 'group');
  });

  it('refuses an update without the right secret token (401), storing nothing', async () => {
    for (const secret of [null, 'not-the-secret']) {
      const answer = await postUpdate(gateway, update(900003, { message: message(3, PRIVATE_CHAT, { text: 'forged' }) }), secret);
      assert.equal(answer.status, 401);
      assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    }
    assert.equal((await eventsOf(gateway.url)).some((e) => e.message.text === 'forged'), false);
  });

  it('stores photos, voice and documents with their file ids, edits, and button presses (answered in the webhook reply)', async () => {
    await postUpdate(gateway, update(900004, { message: message(4, PRIVATE_CHAT, { photo: PHOTO, caption: 'a photo' }) }));
    await postUpdate(gateway, update(900005, { message: message(5, PRIVATE_CHAT, { voice: VOICE }) }));
    await postUpdate(gateway, update(900006, { message: message(6, PRIVATE_CHAT, { document: DOCUMENT }) }));
    await postUpdate(gateway, update(900007, { edited_message: message(1, PRIVATE_CHAT, { text: 'hello bot!', edit_date: 1_764_900_100 }) }));
    const press = await postUpdate(gateway, update(900008, { callback_query: { id: 'cbq-77', from: ALICE, message: message(7, PRIVATE_CHAT, { text: 'menu' }), chat_instance: '5', data: 'opt:2' } }));
    assert.deepEqual(press.json, { method: 'answerCallbackQuery', callback_query_id: 'cbq-77' });
    const events = await eventsOf(gateway.url);
    const byUpdate = (n: number) => events.find((e) => e.message.platformId === `${ALICE.id}:${n}` && !e.message.content.edited);
    assert.equal(byUpdate(4).message.type, 'image');
    assert.equal(byUpdate(4).message.content.fileId, PHOTO[1]!.file_id);
    assert.equal(byUpdate(5).message.type, 'voice');
    assert.equal(byUpdate(6).message.type, 'file');
    assert.equal(byUpdate(6).message.content.fileName, 'report.pdf');
    assert.equal(events.filter((e) => e.message.platformId === `${ALICE.id}:1`).length, 2, 'the message and its edit');
    assert.equal(events.find((e) => e.message.platformId === 'cbq-77').message.text, 'opt:2');
  });

  it('sends a reply with sendMessage and reply_parameters, long text in 4096-character parts', async () => {
    const question = (await eventsOf(gateway.url)).find((e) => e.message.text === 'hello bot');
    const text = `${'x'.repeat(4000)}\n${'y'.repeat(500)}`;
    const answer = await send(gateway, { channel: 'tg', to: question.conversation.id, text, replyTo: question.message.id });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.json.platformMessageId, new RegExp(`^${ALICE.id}:\\d+$`));
    const calls = (await api.calls('sendMessage')).slice(-2);
    assert.deepEqual(calls, [
      { chat_id: ALICE.id, text: 'x'.repeat(4000), reply_parameters: { message_id: 1, allow_sending_without_reply: true } },
      { chat_id: ALICE.id, text: 'y'.repeat(500) },
    ]);
    // The two parts go to one chat: Telegram's one message a second there.
    const [first, second] = api.requestsTo(api.pathOf('sendMessage')).slice(-2);
    assert.ok(second!.at - first!.at >= 900, `parts ${second!.at - first!.at} ms apart`);
  });

  it('sends markdown as MarkdownV2 and images with sendPhoto; an image.url on the gateway\'s own network is refused', async () => {
    assert.equal((await send(gateway, { channel: 'tg', to: String(SUPERGROUP_CHAT.id), markdown: '*hi*' })).status, 200);
    assert.deepEqual((await api.calls('sendMessage')).at(-1), { chat_id: SUPERGROUP_CHAT.id, text: '*hi*', parse_mode: 'MarkdownV2' });
    const photo = await send(gateway, { channel: 'tg', to: String(SUPERGROUP_CHAT.id), image: { base64: Buffer.from('jpeg-bytes').toString('base64') } });
    assert.equal(photo.status, 200, photo.text);
    const upload = (await api.calls('sendPhoto')).at(-1) as Record<string, any>;
    assert.equal(upload.chat_id, String(SUPERGROUP_CHAT.id));
    assert.deepEqual(upload.photo.file, Buffer.from('jpeg-bytes'));
    const internal = await send(gateway, { channel: 'tg', to: String(SUPERGROUP_CHAT.id), image: { url: `${api.url}/secret.png` } });
    assert.equal(internal.status, 400);
    assert.equal(internal.json.error.code, 'IMG_ERR_VALIDATION');
  });

  it("answers Telegram's 429 with 429 and its retry_after, and a refusal with 422 and Telegram's description", async () => {
    api.route(api.pathOf('sendMessage'), () => failure(429, 'Too Many Requests: retry after 12', { retry_after: 12 }));
    const limited = await send(gateway, { channel: 'tg', to: String(ALICE.id), text: 'slow down?' });
    api.route(api.pathOf('sendMessage'), () => failure(400, 'Bad Request: chat not found'));
    const refused = await send(gateway, { channel: 'tg', to: '-100123', text: 'anyone?' });
    api.route(api.pathOf('sendMessage'), null);
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.code, 'IMG_ERR_PLATFORM_RATE_LIMITED');
    assert.equal(limited.json.retry_after, 12);
    assert.equal(limited.headers['retry-after'], '12');
    assert.equal(refused.status, 422);
    assert.equal(refused.json.error.message, 'Telegram answered sendMessage with 400: Bad Request: chat not found');
    for (const answer of [limited, refused]) assert.ok(!answer.text.includes(BOT_TOKEN.split(':')[1]!), 'the token in an answer');
  });

  it('shows the channel in /v1/channels and keeps the token and secret out of logs and answers', async () => {
    const channels = await admin('GET', `${gateway.url}/v1/channels`);
    assert.equal(channels.status, 200);
    assert.ok(!channels.text.includes(BOT_TOKEN.split(':')[1]!));
    assert.ok(!channels.text.includes(SECRET_TOKEN));
    const logs = gateway.logText();
    assert.ok(!logs.includes(BOT_TOKEN.split(':')[1]!), 'the token is in the log');
    assert.ok(!logs.includes(SECRET_TOKEN), 'the secret token is in the log');
  });
});
