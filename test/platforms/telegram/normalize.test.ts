import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeTelegramUpdate, type TelegramBotIdentity } from '../../../src/platforms/telegram/normalize.ts';
import {
  ALICE,
  BOB,
  BOT_ID,
  BOT_USER,
  BOT_USERNAME,
  CHANNEL_CHAT,
  DOCUMENT,
  GROUP_CHAT,
  PHOTO,
  PRIVATE_CHAT,
  SUPERGROUP_CHAT,
  VOICE,
  message,
  textWithEntities,
  update,
} from '../../helpers/fake-telegram.ts';

const bot: TelegramBotIdentity = { userId: String(BOT_ID), username: BOT_USERNAME };
const at = new Date('2026-12-05T10:00:00Z');
const normalize = (u: Record<string, unknown>, identity = bot) => {
  const event = normalizeTelegramUpdate(u, identity, at);
  assert.ok(event, 'an event');
  return event;
};

describe('telegram normalize', () => {
  it('a private text message: direct conversation, update_id as dedup key, chat-scoped message id', () => {
    const event = normalize(update(10001, { message: message(42, PRIVATE_CHAT, { text: 'hello' }) }));
    assert.equal(event.dedupKey, '10001');
    assert.equal(event.type, 'message');
    assert.equal(event.message.platformId, `${ALICE.id}:42`);
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, 'hello');
    assert.equal(event.message.createdAt, new Date(1_764_900_000 * 1000).toISOString());
    assert.deepEqual(event.conversation, { id: String(ALICE.id), type: 'direct', name: 'Alice Liddell' });
    assert.deepEqual(event.sender, { id: String(ALICE.id), name: 'Alice Liddell', isSelf: false });
    assert.equal(event.message.content.chatType, 'private');
  });

  it('groups, supergroups and channels are group conversations named by their title', () => {
    for (const chat of [GROUP_CHAT, SUPERGROUP_CHAT]) {
      const event = normalize(update(10002, { message: message(7, chat, { text: 'hi all' }) }));
      assert.deepEqual(event.conversation, { id: String(chat.id), type: 'group', name: chat.title });
      assert.equal(event.message.content.chatType, chat.type);
    }
    // A channel post has no `from`: the channel (sender_chat) is the author.
    const post = normalize(update(10003, { channel_post: { message_id: 9, sender_chat: CHANNEL_CHAT, chat: CHANNEL_CHAT, date: 1_764_900_000, text: 'news' } }));
    assert.deepEqual(post.conversation, { id: String(CHANNEL_CHAT.id), type: 'group', name: 'Rabbit news' });
    assert.deepEqual(post.sender, { id: String(CHANNEL_CHAT.id), name: 'Rabbit news', isSelf: false });
    assert.equal(post.message.content.chatType, 'channel');
  });

  it('@mentions from entities: the bot mention sets mentionsBot and leaves the text, others are kept', () => {
    const event = normalize(update(10004, { message: message(8, SUPERGROUP_CHAT, textWithEntities(`@${BOT_USERNAME} ask @alice_w please`)) }));
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.message.mentions, [{ id: 'alice_w', name: null }]);
    assert.equal(event.message.text, 'ask @alice_w please');
  });

  it('a text_mention names a user without a username by id; the bot by its id (from the token)', () => {
    const text = 'Bob and imgate, look';
    const entities = [
      { type: 'text_mention', offset: 0, length: 3, user: BOB },
      { type: 'text_mention', offset: 8, length: 6, user: BOT_USER },
    ];
    const event = normalize(update(10005, { message: message(9, GROUP_CHAT, { text, entities }) }), { userId: String(BOT_ID), username: null });
    assert.deepEqual(event.message.mentions, [{ id: String(BOB.id), name: 'Bob' }]);
    assert.equal(event.message.mentionsBot, true);
    assert.equal(event.message.text, 'Bob and , look');
  });

  it('/command@bot addresses the bot; an @mention of another bot does not', () => {
    assert.equal(normalize(update(10006, { message: message(10, GROUP_CHAT, textWithEntities(`/start@${BOT_USERNAME}`)) })).message.mentionsBot, true);
    assert.equal(normalize(update(10007, { message: message(11, GROUP_CHAT, textWithEntities('/start@other_bot hi @other_bot')) })).message.mentionsBot, false);
  });

  it('a reply names the replied message; a reply to the bot addresses it', () => {
    const replied = message(5, GROUP_CHAT, { from: BOT_USER, text: 'I am the bot' });
    const event = normalize(update(10008, { message: message(12, GROUP_CHAT, { text: 'thanks', reply_to_message: replied }) }));
    assert.equal(event.message.replyTo, `${GROUP_CHAT.id}:5`);
    assert.equal(event.message.mentionsBot, true);
    const toAlice = normalize(update(10009, { message: message(13, GROUP_CHAT, { text: 'yes', reply_to_message: message(6, GROUP_CHAT, { text: 'q' }) }) }));
    assert.equal(toAlice.message.mentionsBot, false);
  });

  it("the bot's own messages are self", () => {
    const event = normalize(update(10010, { message: message(14, GROUP_CHAT, { from: BOT_USER, text: 'mine' }) }));
    assert.equal(event.sender.isSelf, true);
  });

  it('photos (the largest PhotoSize first-class, every size kept), with the caption as text and its entities', () => {
    const event = normalize(update(10011, { message: message(15, PRIVATE_CHAT, { photo: PHOTO, caption: `look @${BOT_USERNAME}`, caption_entities: [{ type: 'mention', offset: 5, length: 16 }] }) }));
    assert.equal(event.message.type, 'image');
    assert.equal(event.message.text, 'look');
    assert.equal(event.message.mentionsBot, true);
    assert.equal(event.message.content.fileId, 'AgACAgQAAxkBAAIBlarge');
    assert.equal(event.message.content.fileUniqueId, 'AQADlarge');
    assert.equal((event.message.content.photo as unknown[]).length, 2);
  });

  it('voice and documents', () => {
    const voice = normalize(update(10012, { message: message(16, PRIVATE_CHAT, { voice: VOICE }) }));
    assert.equal(voice.message.type, 'voice');
    assert.equal(voice.message.text, null);
    assert.equal(voice.message.content.fileId, VOICE.file_id);
    assert.equal(voice.message.content.duration, 3);
    assert.equal(voice.message.content.mimeType, 'audio/ogg');
    const doc = normalize(update(10013, { message: message(17, PRIVATE_CHAT, { document: DOCUMENT, caption: 'the report' }) }));
    assert.equal(doc.message.type, 'file');
    assert.equal(doc.message.text, 'the report');
    assert.equal(doc.message.content.fileName, 'report.pdf');
    assert.equal(doc.message.content.mimeType, 'application/pdf');
  });

  it('an edited message is an event of its own update, flagged edited, dated by edit_date', () => {
    const event = normalize(update(10014, { edited_message: message(42, PRIVATE_CHAT, { text: 'hello!', edit_date: 1_764_900_060 }) }));
    assert.equal(event.dedupKey, '10014');
    assert.equal(event.message.platformId, `${ALICE.id}:42`);
    assert.equal(event.message.content.edited, true);
    assert.equal(event.message.createdAt, new Date(1_764_900_060 * 1000).toISOString());
  });

  it("a callback query: the button's data as text, in the chat of the button's message", () => {
    const query = {
      id: '4382bfdwdsb323b2d9',
      from: ALICE,
      message: message(30, GROUP_CHAT, { from: BOT_USER, text: 'pick one' }),
      chat_instance: '-2918288178839',
      data: 'choice:1',
    };
    const event = normalize(update(10015, { callback_query: query }));
    assert.equal(event.message.platformId, '4382bfdwdsb323b2d9');
    assert.equal(event.message.text, 'choice:1');
    assert.equal(event.message.replyTo, `${GROUP_CHAT.id}:30`);
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.conversation, { id: String(GROUP_CHAT.id), type: 'group', name: 'Tea party' });
    assert.deepEqual(event.message.content.callbackQuery, { id: '4382bfdwdsb323b2d9', data: 'choice:1', chatInstance: '-2918288178839', inlineMessageId: null });
    // An inline message's button: no message, the presser's private chat.
    const inline = normalize(update(10016, { callback_query: { id: 'q2', from: BOB, inline_message_id: 'AAAA', chat_instance: '1', data: 'x' } }));
    assert.deepEqual(inline.conversation, { id: String(BOB.id), type: 'direct', name: null });
  });

  it('updates of other kinds are no events', () => {
    assert.equal(normalizeTelegramUpdate(update(10017, { my_chat_member: { chat: GROUP_CHAT } }), bot, at), null);
    assert.equal(normalizeTelegramUpdate({ message: message(1, PRIVATE_CHAT, { text: 'no update_id' }) }, bot, at), null);
  });
});
