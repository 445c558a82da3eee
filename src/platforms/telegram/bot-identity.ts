import { setTimeout as sleep } from 'node:timers/promises';
import type { AdapterDeps } from '../_kit/adapter.ts';
import { isJsonObject, scalarText } from '../_kit/payload-values.ts';
import { callTelegram } from './api.ts';
import type { TelegramChannelConfig } from './config.ts';
import type { TelegramBotIdentity } from './normalize.ts';

const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 60_000;

/**
 * Asks getMe (https://core.telegram.org/bots/api#getme) for the bot's @username, which `mention`
 * entities name it by, and keeps it in `bot`; retried with a doubling pause until it answers or
 * the node stops. Until then an @mention of the bot reads as anyone's (its id, from the token,
 * is known from the start).
 */
export async function learnBotUsername(config: TelegramChannelConfig, bot: TelegramBotIdentity, deps: AdapterDeps, signal: AbortSignal): Promise<void> {
  let pause = FIRST_RETRY_MS;
  while (!signal.aborted) {
    try {
      const me = await callTelegram(config, 'getMe', { signal, repeatable: true });
      bot.username = isJsonObject(me) ? scalarText(me.username) : null;
      deps.logger.info({ username: bot.username }, 'telegram bot identified');
      return;
    } catch (error) {
      if (signal.aborted) return;
      deps.reportError(error);
      deps.logger.warn({ err: error, retryMs: pause }, 'telegram getMe failed; @mentions of the bot are not recognized until it answers');
    }
    await sleep(pause, undefined, { signal }).catch(() => undefined);
    pause = Math.min(LONGEST_RETRY_MS, pause * 2);
  }
}
