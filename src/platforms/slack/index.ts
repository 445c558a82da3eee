import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { isJsonObject } from '../_kit/payload-values.ts';
import { handleSlackCallback } from './callback.ts';
import { slackChannelSchema, type SlackChannelConfig } from './config.ts';
import { simulateSlack } from './simulate.ts';

export const slack: PlatformDefinition<typeof slackChannelSchema> = {
  id: 'slack',
  configSchema: slackChannelSchema,
  create: (config, deps) => createSlackAdapter(config, deps),
  redactRaw: redactVerificationToken,
  simulate: simulateSlack,
};

/**
 * A Slack app's bot: events from the Events API at `/hooks/<id>` (events mode) or from Socket Mode,
 * sends through `chat.postMessage`.
 */
export function createSlackAdapter(config: SlackChannelConfig, _deps: AdapterDeps): ChannelAdapter {
  return {
    handleCallback: (req) => handleSlackCallback(config, req),
  };
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
