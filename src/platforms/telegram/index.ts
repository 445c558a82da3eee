import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { handleTelegramUpdate } from './callback.ts';
import { botUserIdOf, telegramChannelSchema, type TelegramChannelConfig } from './config.ts';
import { learnBotUsername } from './bot-identity.ts';
import { pollUpdates } from './long-polling.ts';
import type { TelegramBotIdentity } from './normalize.ts';
import { telegramPacing } from './pacing.ts';
import { sendTelegramMessage } from './send.ts';
import { simulateTelegram } from './simulate.ts';
import { telegramCommands } from './webhook-commands.ts';

export const telegram: PlatformDefinition<typeof telegramChannelSchema> = {
  id: 'telegram',
  configSchema: telegramChannelSchema,
  create: (config, deps) => createTelegramAdapter(config, deps),
  simulate: simulateTelegram,
  commands: telegramCommands,
};

/**
 * A Telegram bot: updates at `/hooks/<id>` (webhook mode) or from getUpdates under the runtime's
 * lease (polling mode), sends through the Bot API paced as Telegram asks.
 */
export function createTelegramAdapter(config: TelegramChannelConfig, deps: AdapterDeps): ChannelAdapter {
  const bot: TelegramBotIdentity = { userId: botUserIdOf(config.token), username: null };
  const sender = { config, downloads: deps.downloads, limiter: telegramPacing(bot.userId, config.rateLimit.maxWaitSeconds, deps.sendSlots) };
  // No dedupedByPlatform: Telegram does not drop a repeated sendMessage.
  const adapter: ChannelAdapter = {
    handleCallback: (req) => handleTelegramUpdate(config, bot, req),
    send: (req) => sendTelegramMessage(sender, req),
    runBackground: (signal) => learnBotUsername(config, bot, deps, signal),
  };
  if (config.mode === 'polling') adapter.connect = (session) => pollUpdates({ config, bot, deps }, session);
  return adapter;
}

export type { TelegramChannelConfig } from './config.ts';
export { buildTelegramSample, type TelegramSampleOptions } from './simulate.ts';
