import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { wecomCredential } from '../_kit/wecom-api.ts';
import { wecomCallbackKeys } from '../_kit/wecom-callback.ts';
import { handleWecomCallback } from './callback.ts';
import { wecomChannelSchema, type WecomChannelConfig } from './config.ts';
import { sendWecomMessage } from './send.ts';
import { simulateWecom } from './simulate.ts';

export const wecom: PlatformDefinition<typeof wecomChannelSchema> = {
  id: 'wecom',
  configSchema: wecomChannelSchema,
  create: createWecomAdapter,
  startupWarnings: wecomStartupWarnings,
  simulate: simulateWecom,
  wecomCredential,
};

export function createWecomAdapter(config: WecomChannelConfig, deps: AdapterDeps): ChannelAdapter {
  // A self-built app's callbacks are encrypted for the CorpID (path/90968): another corp's are refused.
  const keys = wecomCallbackKeys({
    token: config.token,
    encodingAESKey: config.encodingAESKey,
    receiveId: config.corpId,
    timestampWindowSeconds: config.timestampWindowSeconds,
  });
  return {
    handleCallback: (req) => handleWecomCallback(keys, req),
    send: (req) => sendWecomMessage(config, deps, req),
    sendsNews: true,
  };
}

function wecomStartupWarnings(config: WecomChannelConfig): string[] {
  if (config.agentId !== undefined) return [];
  return [`channel "${config.id}" (wecom) has no agentId: it receives callbacks but cannot send; set agentId to the app's AgentId`];
}

export type { WecomChannelConfig } from './config.ts';
export { buildWecomSample } from './simulate.ts';
