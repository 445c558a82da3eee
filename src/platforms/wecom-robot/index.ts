import { ClusterSendLimiter } from '../_kit/cluster-send-limiter.ts';
import type { LimiterClock } from '../_kit/send-rate-limiter.ts';
import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { handleRobotCallback, robotCallbackKeys } from './callback.ts';
import { wecomRobotChannelSchema, type WecomRobotChannelConfig } from './config.ts';
import { sendWecomRobotMessage } from './send.ts';
import { simulateWecomRobot } from './simulate.ts';

export const wecomRobot: PlatformDefinition<typeof wecomRobotChannelSchema> = {
  id: 'wecom-robot',
  configSchema: wecomRobotChannelSchema,
  create: (config, deps) => createWecomRobotAdapter(config, deps),
  redactRaw: redactWebhookKey,
  simulate: simulateWecomRobot,
};

/** The callback's WebhookUrl carries the robot's key: shown as `key=[redacted]` outside the store. */
function redactWebhookKey(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || !('WebhookUrl' in raw) || typeof raw.WebhookUrl !== 'string') return raw;
  return { ...raw, WebhookUrl: raw.WebhookUrl.replace(/([?&]key=)[^&]*/g, '$1[redacted]') };
}

/**
 * A WeCom group robot: receives its callbacks when `token` and `encodingAESKey` are set, and sends
 * through its webhook, at most `rateLimit.messages` per `rateLimit.perSeconds` per robot (each
 * webhook key is limited on its own: the channel's and those of reply WebhookUrls), counted for the
 * whole cluster.
 */
export function createWecomRobotAdapter(
  config: WecomRobotChannelConfig,
  deps: AdapterDeps,
  clock?: LimiterClock,
): ChannelAdapter {
  const keys = robotCallbackKeys(config);
  const limiter = new ClusterSendLimiter(config.rateLimit, deps.sendSlots, `wecom-robot:${config.id}`, clock);
  return {
    handleCallback: (req) => handleRobotCallback(config, keys, req),
    send: (req) => sendWecomRobotMessage(config, limiter, deps.downloads, req),
    sendsNews: true,
  };
}

export type { WecomRobotChannelConfig } from './config.ts';
export { buildWecomRobotSample, type WecomRobotSampleOptions } from './simulate.ts';
