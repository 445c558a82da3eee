import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { ClusterSendLimiter } from '../_kit/cluster-send-limiter.ts';
import type { LimiterClock } from '../_kit/send-rate-limiter.ts';
import { isJsonObject } from '../_kit/payload-values.ts';
import { handleSlackCallback } from './callback.ts';
import { slackApiBase, slackChannelSchema, type SlackChannelConfig } from './config.ts';
import { holdSlackSocket } from './connection.ts';
import { sendSlackMessage } from './send.ts';
import { simulateSlack } from './simulate.ts';

export const slack: PlatformDefinition<typeof slackChannelSchema> = {
  id: 'slack',
  configSchema: slackChannelSchema,
  create: (config, deps) => createSlackAdapter(config, deps),
  redactRaw: redactVerificationToken,
  simulate: simulateSlack,
};

/**
 * A Slack app's bot: events from the Events API at `/hooks/<id>` (events mode) or from Socket Mode
 * (socket mode, held by the runtime through `connect`, one WebSocket per call),
 * sends through `chat.postMessage`, at most `rateLimit.messages` per `rateLimit.perSeconds` per
 * Slack channel across the cluster. `chat.postMessage` takes no idempotency key, so a post whose
 * answer was lost is never repeated (no `dedupedByPlatform`).
 */
export function createSlackAdapter(config: SlackChannelConfig, deps: AdapterDeps, clock?: LimiterClock): ChannelAdapter {
  const sender = {
    apiBase: slackApiBase(config),
    botToken: config.botToken,
    limiter: new ClusterSendLimiter(config.rateLimit, deps.sendSlots, `slack:${config.id}`, clock),
  };
  const adapter: ChannelAdapter = {
    handleCallback: (req) => handleSlackCallback(config, req),
    send: (req) => sendSlackMessage(sender, req),
  };
  if (config.mode === 'socket') adapter.connect = (session) => holdSlackSocket(config, deps, session);
  return adapter;
}

/**
 * Every payload carries the app's legacy verification token (`token`), which still authenticates
 * requests to apps that check it: blanked outside the store (API answers, `includeRaw`).
 */
function redactVerificationToken(raw: unknown): unknown {
  if (!isJsonObject(raw) || typeof raw.token !== 'string') return raw;
  return { ...raw, token: '[redacted]' };
}

export type { SlackChannelConfig } from './config.ts';
export { buildSlackSample, type SlackSampleOptions } from './simulate.ts';
