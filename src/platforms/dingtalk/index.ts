import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { handleDingtalkCallback } from './callback.ts';
import { dingtalkChannelSchema, type DingtalkChannelConfig } from './config.ts';
import { sendDingtalkMessage } from './send.ts';
import { holdDingtalkStream } from './connection.ts';
import { simulateDingtalk } from './simulate.ts';

export const dingtalk: PlatformDefinition<typeof dingtalkChannelSchema> = {
  id: 'dingtalk',
  configSchema: dingtalkChannelSchema,
  create: createDingtalkAdapter,
  startupWarnings: dingtalkStartupWarnings,
  redactRaw: redactSessionWebhook,
  simulate: simulateDingtalk,
};

/**
 * A callback's sessionWebhook posts into its chat for as long as it lasts: shown as
 * `session=[redacted]` outside the store (API answers, `includeRaw`), kept whole for replies.
 */
function redactSessionWebhook(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || !('sessionWebhook' in raw) || typeof raw.sessionWebhook !== 'string') return raw;
  return { ...raw, sessionWebhook: raw.sessionWebhook.replace(/([?&]session=)[^&]*/g, '$1[redacted]') };
}

/**
 * A DingTalk enterprise internal robot: HTTP-mode callbacks or the Stream-mode connection in, replies through their sessionWebhook,
 * and proactive sends through the robot API with the app's access token (shared by every channel
 * of the same app through the token service).
 */
export function createDingtalkAdapter(config: DingtalkChannelConfig, deps: AdapterDeps, now?: () => number): ChannelAdapter {
  const adapter: ChannelAdapter = {
    handleCallback: (req) => handleDingtalkCallback(config, req),
    send: (req) => sendDingtalkMessage(config, { tokens: deps.tokens, logger: deps.logger, now }, req),
  };
  if (config.mode === 'stream') adapter.connect = (session) => holdDingtalkStream(config, deps, session);
  return adapter;
}

function dingtalkStartupWarnings(config: DingtalkChannelConfig): string[] {
  const warnings: string[] = [];
  if (config.mode === 'http' && config.timestampWindowSeconds === 0) {
    warnings.push(
      `channel "${config.id}" (dingtalk) has timestampWindowSeconds 0: DingTalk's sign covers only the timestamp, so one captured callback's headers would be accepted for ever`,
    );
  }
  return warnings;
}

export type { DingtalkChannelConfig } from './config.ts';
export { buildDingtalkSample, type DingtalkSampleOptions } from './simulate.ts';
