import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { startTestGateway, removeDir, type TestGateway } from '../helpers/gateway.ts';
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
  message,
  textWithEntities,
  update,
} from '../helpers/fake-telegram.ts';

export function telegramChannel(apiBase: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'tg', platform: 'telegram', token: BOT_TOKEN, secretToken: SECRET_TOKEN, apiBase, ...overrides };
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
