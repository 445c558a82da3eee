import { randomInt } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import { botUserIdOf, type TelegramChannelConfig } from './config.ts';

export interface TelegramSampleOptions {
  text?: string;
  /** A supergroup message mentioning the bot, instead of a private message. */
  group?: boolean;
}

/** The user and group that sample updates come from (made-up ids). */
const TELEGRAM_SAMPLE_USER = 111111111;
const TELEGRAM_SAMPLE_GROUP = -1001111111111;

/**
 * An Update with a text Message (https://core.telegram.org/bots/api#update) as Telegram posts it
 * to a webhook, with the channel's `secretToken` in `X-Telegram-Bot-Api-Secret-Token`: a private
 * message, or with `group` a supergroup message whose `text_mention` entity names the bot (by its
 * id, from the token: the @username would need getMe). For `imgate simulate telegram` and tests.
 */
export function buildTelegramSample(config: TelegramChannelConfig, options: TelegramSampleOptions = {}): CallbackSample {
  if (config.mode !== 'webhook' || config.secretToken === undefined) {
    throw new Error(`channel "${config.id}" is in polling mode: it takes no webhook calls to simulate`);
  }
  const date = Math.floor(Date.now() / 1000);
  const from = { id: TELEGRAM_SAMPLE_USER, is_bot: false, first_name: 'Sample', last_name: 'User', username: 'imgate_sample', language_code: 'en' };
  const text = options.text ?? 'hello from imgate simulate';
  const message = options.group
    ? {
        message_id: randomInt(1, 2 ** 31),
        from,
        chat: { id: TELEGRAM_SAMPLE_GROUP, title: 'imgate sample group', type: 'supergroup' },
        date,
        text: `Bot ${text}`,
        entities: [{ type: 'text_mention', offset: 0, length: 3, user: { id: Number(botUserIdOf(config.token)), is_bot: true, first_name: 'Bot' } }],
      }
    : {
        message_id: randomInt(1, 2 ** 31),
        from,
        chat: { id: TELEGRAM_SAMPLE_USER, first_name: 'Sample', last_name: 'User', username: 'imgate_sample', type: 'private' },
        date,
        text,
      };
  return {
    path: `/hooks/${encodeURIComponent(config.id)}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': config.secretToken },
    body: JSON.stringify({ update_id: randomInt(1, 2 ** 31), message }),
  };
}

/** `imgate simulate telegram`. */
export function simulateTelegram(config: TelegramChannelConfig, options: SimulateOptions): SimulatedCallback {
  return {
    sample: buildTelegramSample(config, { text: options.text, group: options.group }),
    what: options.group ? 'a supergroup message mentioning the bot, with the secret token' : 'a private text message, with the secret token',
  };
}
