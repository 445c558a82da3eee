import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handleTelegramUpdate } from '../../../src/platforms/telegram/callback.ts';
import { buildTelegramSample } from '../../../src/platforms/telegram/simulate.ts';
import { telegram } from '../../../src/platforms/telegram/index.ts';
import { onlyEvent } from '../../helpers/callback-outcome.ts';
import { failsWith } from '../../helpers/errors.ts';
import { ALICE, BOT_ID, BOT_TOKEN, PRIVATE_CHAT, SECRET_TOKEN, message, update } from '../../helpers/fake-telegram.ts';
import { channel, updateRequest } from './helpers.ts';

const bot = { userId: String(BOT_ID), username: null };

describe('telegram webhook', () => {
  const config = channel();

  it('takes an update with the secret token and acknowledges it with an empty 200 once stored', () => {
    const outcome = handleTelegramUpdate(config, bot, updateRequest(update(1, { message: message(1, PRIVATE_CHAT, { text: 'hi' }) })));
    assert.equal(onlyEvent(outcome).message.text, 'hi');
    assert.deepEqual(outcome.kind === 'events' && outcome.ack, { status: 200, body: null });
  });

  it('refuses a missing or wrong X-Telegram-Bot-Api-Secret-Token before reading the body', () => {
    for (const headers of [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }, { 'x-telegram-bot-api-secret-token': `${SECRET_TOKEN}x` }]) {
      assert.throws(() => handleTelegramUpdate(config, bot, updateRequest('not even json', headers)), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
    }
  });

  it('answers an update it does not handle 200 without storing it', () => {
    const outcome = handleTelegramUpdate(config, bot, updateRequest(update(2, { my_chat_member: {} })));
    assert.deepEqual(outcome, { kind: 'reply', reply: { status: 200, body: null } });
  });

  it('answers a button press with answerCallbackQuery in the webhook answer', () => {
    const outcome = handleTelegramUpdate(config, bot, updateRequest(update(3, { callback_query: { id: 'cbq-1', from: ALICE, chat_instance: '1', data: 'go' } })));
    assert.equal(outcome.kind, 'events');
    assert.deepEqual(outcome.kind === 'events' && outcome.ack.body, { method: 'answerCallbackQuery', callback_query_id: 'cbq-1' });
  });

  it('refuses malformed bodies, other methods, and any call in polling mode', () => {
    assert.throws(() => handleTelegramUpdate(config, bot, updateRequest('[1]')), failsWith('IMG_ERR_INBOUND_MALFORMED'));
    assert.throws(() => handleTelegramUpdate(config, bot, { ...updateRequest('{}'), method: 'GET' }), failsWith('IMG_ERR_INBOUND_METHOD'));
    assert.throws(() => handleTelegramUpdate(channel({ mode: 'polling' }), bot, updateRequest('{}')), failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (e) => assert.match(e.message, /polling mode/)));
  });

  it("the simulate sample passes the channel's own check, private and in a group mentioning the bot", () => {
    const sample = buildTelegramSample(config, { text: 'sampled' });
    const event = onlyEvent(handleTelegramUpdate(config, bot, updateRequest(sample.body, sample.headers)));
    assert.equal(event.conversation.type, 'direct');
    assert.equal(event.message.text, 'sampled');
    const group = buildTelegramSample(config, { group: true, text: 'in the group' });
    const groupEvent = onlyEvent(handleTelegramUpdate(config, bot, updateRequest(group.body, group.headers)));
    assert.equal(groupEvent.conversation.type, 'group');
    assert.equal(groupEvent.message.mentionsBot, true);
    assert.equal(groupEvent.message.text, 'in the group');
  });
});

describe('telegram config', () => {
  it('needs a secretToken in webhook mode, not in polling mode', () => {
    const base = { id: 'tg', platform: 'telegram', token: BOT_TOKEN };
    const missing = telegram.configSchema.safeParse(base);
    assert.equal(missing.success, false);
    assert.match(JSON.stringify(missing.error?.issues), /secretToken/);
    assert.equal(telegram.configSchema.safeParse({ ...base, mode: 'polling' }).success, true);
  });

  it('refuses a token that is not a bot token, and a secretToken Telegram would refuse', () => {
    assert.equal(telegram.configSchema.safeParse({ id: 'tg', platform: 'telegram', token: 'abc', secretToken: SECRET_TOKEN }).success, false);
    assert.equal(telegram.configSchema.safeParse({ id: 'tg', platform: 'telegram', token: BOT_TOKEN, secretToken: 'has space' }).success, false);
  });
});
