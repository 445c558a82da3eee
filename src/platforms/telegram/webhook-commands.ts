import { ImgateError } from '../../core/errors.ts';
import type { PlatformCommand } from '../_kit/adapter.ts';
import { callTelegram } from './api.ts';
import type { TelegramChannelConfig } from './config.ts';
import { HANDLED_UPDATES } from './normalize.ts';

const DROP_PENDING = { flags: '--drop-pending-updates', description: 'drop the updates Telegram is still holding for the bot' };

/**
 * `imgate telegram set-webhook | delete-webhook | webhook-info`: the webhook is Telegram's to keep
 * (https://core.telegram.org/bots/api#setwebhook), so it is set with the bot token, here, rather
 * than by a gateway at start (which would have to know its public URL, and would fight a polling
 * deployment of the same bot). Each prints what getWebhookInfo then says.
 */
export const telegramCommands: PlatformCommand<TelegramChannelConfig>[] = [
  {
    name: 'set-webhook',
    description: "point the bot's webhook at the channel's /hooks/<id> (setWebhook, with its secretToken)",
    options: [{ flags: '--webhook-url <url>', description: "the public HTTPS URL of the channel's /hooks/<id> (default: the channel's webhookUrl)" }, DROP_PENDING],
    run: async (config, options) => {
      if (config.mode !== 'webhook' || config.secretToken === undefined) {
        throw new ImgateError('IMG_ERR_VALIDATION', {
          message: `channel "${config.id}" is in polling mode: with a webhook set, Telegram refuses its getUpdates (409). Set mode: webhook first`,
        });
      }
      const url = typeof options.webhookUrl === 'string' ? options.webhookUrl : config.webhookUrl;
      if (url === undefined) {
        throw new ImgateError('IMG_ERR_VALIDATION', { message: `give --webhook-url https://<your public host>/hooks/${config.id}, or set the channel's webhookUrl` });
      }
      const result = await callTelegram(config, 'setWebhook', {
        body: { url, secret_token: config.secretToken, allowed_updates: HANDLED_UPDATES, drop_pending_updates: options.dropPendingUpdates === true },
        repeatable: true,
      });
      return { setWebhook: result, webhookInfo: await webhookInfo(config) };
    },
  },
  {
    name: 'delete-webhook',
    description: "remove the bot's webhook (deleteWebhook), as polling mode needs",
    options: [DROP_PENDING],
    run: async (config, options) => {
      const result = await callTelegram(config, 'deleteWebhook', { body: { drop_pending_updates: options.dropPendingUpdates === true }, repeatable: true });
      return { deleteWebhook: result, webhookInfo: await webhookInfo(config) };
    },
  },
  {
    name: 'webhook-info',
    description: "show the bot's webhook as Telegram has it (getWebhookInfo: URL, pending updates, last error)",
    run: (config) => webhookInfo(config),
  },
];

function webhookInfo(config: TelegramChannelConfig): Promise<unknown> {
  return callTelegram(config, 'getWebhookInfo', { repeatable: true });
}
