import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterSendLimiter } from '../_kit/cluster-send-limiter.ts';
import type { LimiterClock } from '../_kit/send-rate-limiter.ts';
import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { OutageLog } from '../_kit/outage-log.ts';
import { feishuCredential, fetchFeishuBotOpenId, type FeishuCredential } from './api.ts';
import { handleFeishuCallback } from './callback.ts';
import { feishuChannelSchema, larkChannelSchema, type FeishuChannelConfig } from './config.ts';
import { holdFeishuLongConnection } from './connection.ts';
import type { BotIdentity } from './normalize.ts';
import { sendFeishuMessage } from './send.ts';
import { simulateFeishu } from './simulate.ts';

/** Feishu (open.feishu.cn). */
export const feishu: PlatformDefinition<typeof feishuChannelSchema> = {
  id: 'feishu',
  configSchema: feishuChannelSchema,
  create: (config, deps) => createFeishuAdapter(config, deps),
  startupWarnings: feishuStartupWarnings,
  simulate: simulateFeishu,
};

/** Lark (open.larksuite.com): the same protocol and code, another host (larksuite/node-sdk, `utils/format-domain.ts`). */
export const lark: PlatformDefinition<typeof larkChannelSchema> = {
  id: 'lark',
  configSchema: larkChannelSchema,
  create: (config, deps) => createFeishuAdapter(config, deps),
  startupWarnings: feishuStartupWarnings,
  simulate: simulateFeishu,
};

/** Waits between attempts to learn the bot's open_id; the last one repeats. */
const BOT_INFO_RETRY_MS = [5_000, 30_000, 120_000, 600_000];

/**
 * A `feishu` or `lark` channel: events from callbacks at `/hooks/<id>` (webhook mode) or from the
 * long connection (websocket mode), sends through `im/v1/messages`, at most `rateLimit.messages`
 * per `rateLimit.perSeconds` per chat. Without a configured `botOpenId` the bot's open_id is asked
 * of Feishu once the gateway runs.
 */
export function createFeishuAdapter(config: FeishuChannelConfig, deps: AdapterDeps, clock?: LimiterClock): ChannelAdapter {
  const bot: BotIdentity = { openId: config.botOpenId ?? null };
  const credential = feishuCredential(config);
  const sender = { channelId: config.id, credential, tokens: deps.tokens, downloads: deps.downloads, limiter: new ClusterSendLimiter(config.rateLimit, deps.sendSlots, `${config.platform}:${config.id}`, clock) };
  const adapter: ChannelAdapter = {
    handleCallback: (req) => handleFeishuCallback({ config, bot }, req),
    send: (req) => sendFeishuMessage(sender, req),
    // Feishu sends at most one message per `uuid` an hour (feishuUuid).
    dedupedByPlatform: () => true,
  };
  if (config.mode === 'websocket') adapter.connect = (session) => holdFeishuLongConnection({ config, bot }, deps, session);
  if (bot.openId === null) adapter.runBackground = (signal) => learnBotOpenId(bot, credential, deps, signal);
  return adapter;
}

/**
 * `GET /open-apis/bot/v3/info` until it answers (or the gateway stops): with the bot's open_id,
 * mentions of the bot and its own messages are told apart exactly; until then they are guessed
 * (src/platforms/feishu/normalize.ts). A failure shows as the channel's last error.
 */
async function learnBotOpenId(bot: BotIdentity, credential: FeishuCredential, deps: AdapterDeps, signal: AbortSignal): Promise<void> {
  const outage = new OutageLog(deps.logger, "bot/v3/info (the bot's open_id; mentions of the bot are guessed until it answers)");
  for (let attempt = 0; !signal.aborted; attempt += 1) {
    try {
      bot.openId = await fetchFeishuBotOpenId(deps.tokens, credential);
      deps.logger.info({ botOpenId: bot.openId }, "learned the bot's open_id");
      return;
    } catch (error) {
      if (signal.aborted) return;
      deps.reportError(error);
      const waitMs = BOT_INFO_RETRY_MS[Math.min(attempt, BOT_INFO_RETRY_MS.length - 1)] as number;
      outage.failed(error, { retryInMs: waitMs });
      await sleep(waitMs, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** What `imgate check` and the start say about a feishu or lark channel. */
export function feishuStartupWarnings(config: FeishuChannelConfig): string[] {
  const warnings: string[] = [];
  const name = `channel "${config.id}" (${config.platform})`;
  // A long connection is opened with the App Secret: nobody else can push events down it.
  if (config.mode === 'webhook' && !config.encryptKey && !config.verificationToken) {
    warnings.push(
      `${name} has neither encryptKey nor verificationToken: anyone who knows its URL can post events to it; set the app's Encrypt Key and Verification Token`,
    );
  }
  return warnings;
}

export { FEISHU_API_BASES, feishuApiBase, type FeishuChannelConfig } from './config.ts';
export { buildFeishuSample, type FeishuSampleOptions } from './simulate.ts';
