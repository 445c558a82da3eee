import { Blob } from 'node:buffer';
import { FormData, type Dispatcher } from 'undici';
import type { UnifiedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { imageBytes } from '../_kit/image-bytes.ts';
import { withUnknownOutcome } from '../_kit/platform-http.ts';
import { isJsonObject, jsonObject, scalarText } from '../_kit/payload-values.ts';
import type { SendLimiter } from '../_kit/send-rate-limiter.ts';
import { splitMessageText } from '../_kit/split-text.ts';
import { imageFileName } from '../_kit/wecom-media.ts';
import { callTelegram } from './api.ts';
import type { TelegramChannelConfig } from './config.ts';
import { telegramMessageId } from './normalize.ts';

/** sendMessage takes 1–4096 characters of text (https://core.telegram.org/bots/api#sendmessage). */
export const TELEGRAM_MAX_TEXT = 4096;
/** A chat id (a user's, a group's negative one) or a channel's @username. */
const CHAT_ID = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/;
/** Telegram usernames: 5–32 characters of letters, digits and `_`. */
const USERNAME = /^@?([A-Za-z][A-Za-z0-9_]{4,31})$/;

export interface TelegramSender {
  config: TelegramChannelConfig;
  /** Telegram's pacing, by chat (`telegramPacing`). */
  limiter: SendLimiter;
  /** For an image sent by URL (`AdapterDeps.downloads`). */
  downloads: Dispatcher;
}

/**
 * Sends to the chat `to` (an event's `conversation.id`, or a channel's @username). Text goes with
 * sendMessage, split into messages of at most 4096 characters; `markdown` the same with the
 * channel's `markdownParseMode` (MarkdownV2 or HTML). An image goes with sendPhoto as an upload
 * (`image.base64`, or the bytes of `image.url` fetched by imgate). A reply quotes the message with
 * `reply_parameters` (on the first message), and still arrives if that message is gone. Every
 * call waits for its turn in Telegram's pacing. The result names the first message.
 */
export async function sendTelegramMessage(sender: TelegramSender, req: SendRequest): Promise<SendResult> {
  const chatId = req.to.trim();
  if (!CHAT_ID.test(chatId)) {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: "`to` must be a Telegram chat id (an event's conversation.id) or a channel's @username", details: { field: 'to' } });
  }
  const reply = replyParameters(req.replyTo, chatId);
  const mentions = mentionPrefix(req.mentions, req.markdown !== undefined ? sender.config.markdownParseMode : null);
  const target = /^-?\d+$/.test(chatId) ? Number(chatId) : chatId;
  const calls = await callsOf(sender, req, target, mentions, reply);
  let first: string | null = null;
  for (const [index, call] of calls.entries()) {
    const message = await sender.limiter.run(chatId, () => call()).catch((error: unknown) => {
      // A later part failing leaves the earlier ones sent: the message is partly there.
      throw index === 0 ? error : withUnknownOutcome(error, { partsSent: index });
    });
    first ??= messageIdOf(message, chatId);
  }
  return { platformMessageId: first };
}

type Call = () => Promise<unknown>;

async function callsOf(sender: TelegramSender, req: SendRequest, chatId: number | string, mentions: string, reply: Record<string, unknown> | null): Promise<Call[]> {
  const { config } = sender;
  const text = req.text ?? req.markdown;
  if (text !== undefined) {
    const parseMode = req.markdown !== undefined ? config.markdownParseMode : null;
    return splitMessageText(`${mentions}${text}`, TELEGRAM_MAX_TEXT).map((part, index) => () => {
      const body: Record<string, unknown> = { chat_id: chatId, text: part };
      if (parseMode !== null) body.parse_mode = parseMode;
      if (index === 0 && reply !== null) body.reply_parameters = reply;
      return callTelegram(config, 'sendMessage', { body });
    });
  }
  if (req.image === undefined) throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'Telegram channels send text, markdown or an image (no news cards)' });
  const bytes = await imageBytes(req.image, sender.downloads);
  const { name, type } = imageFileName(bytes);
  return [
    () => {
      // Built per call: a FormData body is read once.
      const form = new FormData();
      form.append('chat_id', String(chatId));
      form.append('photo', new Blob([bytes], { type }), name);
      if (mentions !== '') form.append('caption', mentions.trimEnd());
      if (reply !== null) form.append('reply_parameters', JSON.stringify(reply));
      return callTelegram(config, 'sendPhoto', { form });
    },
  ];
}

/**
 * ReplyParameters (https://core.telegram.org/bots/api#replyparameters) quoting the replied message,
 * or for a button press the message that carries the button; `allow_sending_without_reply`, so a
 * reply to a message deleted meanwhile still arrives.
 */
function replyParameters(event: UnifiedEvent | null, chatId: string): Record<string, unknown> | null {
  if (event === null) return null;
  if (event.conversation.id !== chatId) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: `replyTo names a message of chat ${event.conversation.id}: a reply goes to that chat, so \`to\` must be it`,
      details: { field: 'to' },
    });
  }
  const quoted = jsonObject(event.message.content.callbackQuery) === null ? event.message.platformId : event.message.replyTo;
  const messageId = quoted === null ? null : Number(quoted.slice(quoted.lastIndexOf(':') + 1));
  if (messageId === null || !Number.isSafeInteger(messageId)) return null;
  return { message_id: messageId, allow_sending_without_reply: true };
}

/**
 * `@username ` for each mention, before the text: Telegram links it. A user without a username
 * cannot be named in text without markup of the bot's own (`tg://user?id=`), so mentions take
 * usernames; in MarkdownV2 their `_` is escaped.
 */
function mentionPrefix(mentions: string[], parseMode: TelegramChannelConfig['markdownParseMode'] | null): string {
  return mentions
    .map((mention) => {
      const username = USERNAME.exec(mention.trim())?.[1];
      if (username === undefined) {
        throw new ImgateError('IMG_ERR_VALIDATION', { message: `mentions takes Telegram @usernames, not "${mention}"`, details: { field: 'mentions' } });
      }
      return `@${parseMode === 'MarkdownV2' ? username.replaceAll('_', '\\_') : username} `;
    })
    .join('');
}

/** The sent Message's id as inbound events name messages (`<chat id>:<message_id>`). */
function messageIdOf(message: unknown, chatId: string): string | null {
  if (!isJsonObject(message)) return null;
  const messageId = scalarText(message.message_id);
  const chat = scalarText(jsonObject(message.chat)?.id) ?? chatId;
  return messageId === null ? null : telegramMessageId(chat, messageId);
}
