import type { EventConversation, EventSender, Mention, MessageType, NormalizedEvent } from '../../core/event.ts';
import { isJsonObject, jsonObject, optionalNumber, scalarText, type Json } from '../_kit/payload-values.ts';

/** Who the bot is: its user id (from the token) and its @username (from getMe; null until known). */
export interface TelegramBotIdentity {
  userId: string;
  username: string | null;
}

/** The updates imgate asks for and stores (`allowed_updates` of getUpdates and setWebhook). */
export const HANDLED_UPDATES = ['message', 'edited_message', 'channel_post', 'callback_query'] as const;

/**
 * One Update (https://core.telegram.org/bots/api#update) as a unified event, or null for kinds
 * imgate does not handle. The dedup key is `update_id`, which Telegram repeats when it delivers an
 * update again (a webhook answered late, a getUpdates offset not yet confirmed).
 */
export function normalizeTelegramUpdate(update: Json, bot: TelegramBotIdentity, receivedAt: Date): NormalizedEvent | null {
  const updateId = scalarText(update.update_id);
  if (updateId === null) return null;
  const message = jsonObject(update.message) ?? jsonObject(update.channel_post);
  if (message !== null) return normalizeMessage(updateId, message, { edited: false }, update, bot, receivedAt);
  const edited = jsonObject(update.edited_message);
  if (edited !== null) return normalizeMessage(updateId, edited, { edited: true }, update, bot, receivedAt);
  const query = jsonObject(update.callback_query);
  if (query !== null) return normalizeCallbackQuery(updateId, query, update, bot, receivedAt);
  return null;
}

/**
 * A message's platform id: `<chat id>:<message_id>`. Telegram numbers messages per chat, so the
 * chat makes the id one that `replyTo` finds without doubt.
 */
export function telegramMessageId(chatId: string, messageId: string): string {
  return `${chatId}:${messageId}`;
}

/**
 * A Message (https://core.telegram.org/bots/api#message) in a private chat, group, supergroup or
 * channel. Text comes from `text` or a media `caption`, mentions from its MessageEntity list; a
 * reply names the replied message (`reply_to_message`) and, when that message is the bot's,
 * counts as addressing the bot, as Telegram's privacy mode does.
 */
function normalizeMessage(updateId: string, message: Json, how: { edited: boolean }, update: Json, bot: TelegramBotIdentity, receivedAt: Date): NormalizedEvent | null {
  const chat = jsonObject(message.chat);
  const chatId = scalarText(chat?.id);
  const messageId = scalarText(message.message_id);
  if (chat === null || chatId === null || messageId === null) return null;
  const rawText = scalarText(message.text) ?? scalarText(message.caption);
  const entities = entitiesOf(message.text !== undefined ? message.entities : message.caption_entities);
  const replied = jsonObject(message.reply_to_message);
  const { mentions, mentionsBot, botRanges } = mentionsOf(rawText ?? '', entities, bot);
  const repliesToBot = scalarText(jsonObject(replied?.from)?.id) === bot.userId;
  const text = rawText === null ? null : withoutRanges(rawText, botRanges);
  const { type, content } = contentOf(message, text);
  content.chatType = scalarText(chat.type);
  if (how.edited) content.edited = true;
  const repliedId = scalarText(replied?.message_id);
  const at = optionalNumber(how.edited ? message.edit_date : message.date);
  return {
    dedupKey: updateId,
    type: 'message',
    message: {
      platformId: telegramMessageId(chatId, messageId),
      type,
      text: text === '' ? null : text,
      createdAt: at === null ? receivedAt.toISOString() : new Date(at * 1000).toISOString(),
      mentions,
      mentionsBot: mentionsBot || repliesToBot,
      replyTo: repliedId === null ? null : telegramMessageId(chatId, repliedId),
      content,
    },
    sender: senderOf(message, chat, bot),
    conversation: conversationOf(chat),
    flags: { history: false },
    raw: update,
  };
}

/**
 * A button of an inline keyboard pressed (https://core.telegram.org/bots/api#callbackquery): a
 * message event whose text is the button's `data`, in the chat of the message that carries the
 * button (which `message.replyTo` names), or the presser's private chat for an inline message.
 */
function normalizeCallbackQuery(updateId: string, query: Json, update: Json, bot: TelegramBotIdentity, receivedAt: Date): NormalizedEvent | null {
  const id = scalarText(query.id);
  const from = jsonObject(query.from);
  if (id === null || from === null) return null;
  const message = jsonObject(query.message);
  const chat = jsonObject(message?.chat);
  const chatId = scalarText(chat?.id);
  const messageId = scalarText(message?.message_id);
  const data = scalarText(query.data);
  const content: Json = { callbackQuery: { id, data, chatInstance: scalarText(query.chat_instance), inlineMessageId: scalarText(query.inline_message_id) } };
  return {
    dedupKey: updateId,
    type: 'message',
    message: {
      platformId: id,
      type: data === null ? 'unknown' : 'text',
      text: data,
      createdAt: receivedAt.toISOString(),
      mentions: [],
      // A button of the bot's own message: the press is meant for the bot.
      mentionsBot: true,
      replyTo: chatId === null || messageId === null ? null : telegramMessageId(chatId, messageId),
      content,
    },
    sender: userOf(from, bot),
    conversation: chat === null ? { id: scalarText(from.id) ?? '', type: 'direct', name: null } : conversationOf(chat),
    flags: { history: false },
    raw: update,
  };
}

/** The message's kind and what it carries beside text: photos, voice, documents (and a few more). */
function contentOf(message: Json, text: string | null): { type: MessageType; content: Json } {
  const content: Json = { messageId: scalarText(message.message_id) };
  const photo = Array.isArray(message.photo) ? message.photo.filter(isJsonObject) : [];
  if (photo.length > 0) {
    // PhotoSize list, smallest first (https://core.telegram.org/bots/api#photosize); the last is the largest.
    content.photo = photo.map((size) => ({ ...fileOf(size), width: optionalNumber(size.width), height: optionalNumber(size.height) }));
    return { type: 'image', content: { ...content, ...fileOf(photo.at(-1) as Json) } };
  }
  const voice = jsonObject(message.voice);
  if (voice !== null) return { type: 'voice', content: { ...content, ...fileOf(voice), duration: optionalNumber(voice.duration), mimeType: scalarText(voice.mime_type) } };
  const document = jsonObject(message.document);
  if (document !== null) {
    return { type: 'file', content: { ...content, ...fileOf(document), fileName: scalarText(document.file_name), mimeType: scalarText(document.mime_type) } };
  }
  const video = jsonObject(message.video);
  if (video !== null) return { type: 'video', content: { ...content, ...fileOf(video), duration: optionalNumber(video.duration) } };
  const sticker = jsonObject(message.sticker);
  if (sticker !== null) return { type: 'emoji', content: { ...content, ...fileOf(sticker), emoji: scalarText(sticker.emoji) } };
  const location = jsonObject(message.location);
  if (location !== null) return { type: 'location', content: { ...content, latitude: optionalNumber(location.latitude), longitude: optionalNumber(location.longitude) } };
  if (text !== null) return { type: 'text', content };
  // Service messages (members joining, a title changed, a pin …) and kinds imgate does not read.
  return { type: 'unknown', content };
}

/** A file's ids and size: `file_id` is what getFile and a resend take; `file_unique_id` stays the same across bots. */
function fileOf(file: Json): Json {
  return { fileId: scalarText(file.file_id), fileUniqueId: scalarText(file.file_unique_id), fileSize: optionalNumber(file.file_size) };
}

interface Entity {
  type: string;
  offset: number;
  length: number;
  user: Json | null;
}

function entitiesOf(value: unknown): Entity[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isJsonObject).flatMap((entity) => {
    const type = scalarText(entity.type);
    const offset = optionalNumber(entity.offset);
    const length = optionalNumber(entity.length);
    return type === null || offset === null || length === null ? [] : [{ type, offset, length, user: jsonObject(entity.user) }];
  });
}

/**
 * Mentions from MessageEntity (https://core.telegram.org/bots/api#messageentity): `mention`
 * (`@username`: the username is all Telegram gives, so it is the id) and `text_mention` (a user
 * without a username: their id). The bot's own mention is left out of `mentions` and out of the
 * text (its ranges returned), and sets `mentionsBot`, as does a `/command@botname`. Offsets and
 * lengths are UTF-16 code units, as JavaScript strings index.
 */
function mentionsOf(text: string, entities: Entity[], bot: TelegramBotIdentity): { mentions: Mention[]; mentionsBot: boolean; botRanges: Entity[] } {
  const mentions: Mention[] = [];
  const botRanges: Entity[] = [];
  let mentionsBot = false;
  const isBotName = (name: string) => bot.username !== null && name.toLowerCase() === bot.username.toLowerCase();
  for (const entity of entities) {
    const slice = text.slice(entity.offset, entity.offset + entity.length);
    if (entity.type === 'mention') {
      const username = slice.replace(/^@/, '');
      if (isBotName(username)) {
        mentionsBot = true;
        botRanges.push(entity);
      } else mentions.push({ id: username, name: null });
    } else if (entity.type === 'text_mention' && entity.user !== null) {
      const id = scalarText(entity.user.id) ?? '';
      if (id === bot.userId) {
        mentionsBot = true;
        botRanges.push(entity);
      } else mentions.push({ id, name: fullName(entity.user) });
    } else if (entity.type === 'bot_command' && isBotName(slice.split('@')[1] ?? '')) {
      mentionsBot = true;
    }
  }
  return { mentions, mentionsBot, botRanges };
}

/** The text without the given ranges, and without the doubled or edge spaces they leave. */
function withoutRanges(text: string, ranges: Entity[]): string {
  if (ranges.length === 0) return text;
  let out = text;
  for (const range of [...ranges].sort((a, b) => b.offset - a.offset)) out = out.slice(0, range.offset) + out.slice(range.offset + range.length);
  return out.replace(/[ \t]{2,}/g, ' ').trim();
}

/**
 * The author: `from` (a user, or a bot), else `sender_chat` (a channel post, an anonymous group
 * admin): then the chat is the sender.
 */
function senderOf(message: Json, chat: Json, bot: TelegramBotIdentity): EventSender {
  const from = jsonObject(message.from);
  if (from !== null) return userOf(from, bot);
  const senderChat = jsonObject(message.sender_chat) ?? chat;
  return { id: scalarText(senderChat.id) ?? '', name: scalarText(senderChat.title) ?? fullName(senderChat), isSelf: false };
}

function userOf(user: Json, bot: TelegramBotIdentity): EventSender {
  const id = scalarText(user.id) ?? '';
  return { id, name: fullName(user) ?? scalarText(user.username), isSelf: id === bot.userId };
}

/**
 * The Chat (https://core.telegram.org/bots/api#chat): `private` is direct; `group`, `supergroup`
 * and `channel` are groups. Its id is what sendMessage takes as `chat_id`.
 */
function conversationOf(chat: Json): EventConversation {
  const type = scalarText(chat.type);
  return {
    id: scalarText(chat.id) ?? '',
    type: type === 'private' ? 'direct' : 'group',
    name: type === 'private' ? fullName(chat) : scalarText(chat.title),
  };
}

function fullName(who: Json): string | null {
  const name = [scalarText(who.first_name), scalarText(who.last_name)].filter((part) => part !== null).join(' ');
  return name === '' ? null : name;
}
