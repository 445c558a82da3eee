import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';

/** The Bot API's host; calls go to `{apiBase}/bot<token>/<method>` (https://core.telegram.org/bots/api#making-requests). */
export const TELEGRAM_API_BASE = 'https://api.telegram.org';

/** A bot token as @BotFather issues it: the bot's user id, a colon, and the secret part. */
const BOT_TOKEN = /^(\d{1,20}):[A-Za-z0-9_-]{20,}$/;
/** `secret_token` of setWebhook: 1–256 characters, A-Z, a-z, 0-9, `_` and `-` (https://core.telegram.org/bots/api#setwebhook). */
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * A Telegram bot (https://core.telegram.org/bots/api): updates as webhook calls at `/hooks/<id>`
 * (`mode: webhook`) or pulled with `getUpdates` (`mode: polling`); sends with the bot token.
 */
export const telegramChannelSchema = channelBaseSchema
  .extend({
    platform: z.literal('telegram').describe('A Telegram bot (Bot API).'),
    token: z
      .string()
      .regex(BOT_TOKEN, "a bot token as @BotFather gives it: the bot's id, ':' and the secret part")
      .describe("The bot's token from @BotFather. It authorizes every Bot API call (it is part of each call's URL) and names the bot's own user id. A secret."),
    mode: z
      .enum(['webhook', 'polling'])
      .default('webhook')
      .describe(
        '`webhook`: Telegram posts updates to `/hooks/<id>` (set it with `imgate telegram set-webhook`). `polling`: imgate asks `getUpdates` itself, one node at a time, for bots without a public URL. Telegram allows only one of the two per bot: getUpdates fails while a webhook is set.',
      ),
    secretToken: z
      .string()
      .regex(SECRET_TOKEN, '1 to 256 characters of A-Z, a-z, 0-9, _ and -')
      .optional()
      .describe(
        'Webhook mode: the `secret_token` given to setWebhook, which Telegram sends in `X-Telegram-Bot-Api-Secret-Token` with every update; an update without it is refused (401). Required in webhook mode. A secret.',
      ),
    webhookUrl: z
      .url({ protocol: /^https$/ })
      .optional()
      .describe(
        'The public HTTPS URL of this channel\'s `/hooks/<id>`, which `imgate telegram set-webhook` hands to Telegram (or pass `--webhook-url`). Telegram calls webhooks on ports 443, 80, 88 and 8443 only.',
      ),
    pollTimeoutSeconds: configNumber(z.number().int().min(0).max(50))
      .default(30)
      .describe('Polling mode: how long one `getUpdates` call waits for updates (its `timeout`); 0 is short polling.'),
    markdownParseMode: z
      .enum(['MarkdownV2', 'HTML'])
      .default('MarkdownV2')
      .describe("The `parse_mode` a send's `markdown` goes with; `text` is sent without one, as written."),
    rateLimit: z
      .strictObject({
        // At most 60, as for the other channels: a waiting send holds its idempotency claim.
        maxWaitSeconds: configNumber(z.number().int().min(0).max(60))
          .default(10)
          .describe(
            "A send that Telegram's pacing (1 message a second in a chat, 20 a minute in a group, 30 a second in all) would hold back longer than this is refused with 429 `IMG_ERR_SEND_RATE_LIMITED` and `retry_after`; shorter waits are waited out.",
          ),
      })
      .prefault({})
      .describe('How long a send may wait for its turn.'),
  })
  .refine((config) => config.mode !== 'webhook' || config.secretToken !== undefined, {
    path: ['secretToken'],
    // Without it anyone who learns the URL could post updates as Telegram.
    message: 'webhook mode needs a secretToken, which Telegram then sends with every update',
  })
  .describe(
    'Receives updates (messages, edits, channel posts, button presses) as webhook calls or with `getUpdates`, and sends with `sendMessage` and `sendPhoto`. See docs/channels/telegram.md.',
  );

export type TelegramChannelConfig = z.infer<typeof telegramChannelSchema>;

/** The API host of a channel: its `apiBase`, else Telegram's, without a trailing slash. */
export function telegramApiBase(config: Pick<TelegramChannelConfig, 'apiBase'>): string {
  return (config.apiBase ?? TELEGRAM_API_BASE).replace(/\/+$/, '');
}

/** The bot's own user id: the part of its token before the colon. */
export function botUserIdOf(token: string): string {
  return token.slice(0, token.indexOf(':'));
}
