import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { handleWechatPadCallback } from './callback.ts';
import { wechatPadChannelSchema, type WechatPadChannelConfig } from './config.ts';
import { sendWechatPadMessage } from './send.ts';
import { simulateWechatPad } from './simulate.ts';

export const wechatPad: PlatformDefinition<typeof wechatPadChannelSchema> = {
  id: 'wechat-pad',
  configSchema: wechatPadChannelSchema,
  create: createWechatPadAdapter,
  startupWarnings: wechatPadStartupWarnings,
  simulate: simulateWechatPad,
  webhookConfigKey: (config) => config.key ?? null,
};

export function createWechatPadAdapter(config: WechatPadChannelConfig, deps: AdapterDeps): ChannelAdapter {
  return {
    handleCallback: (req) => handleWechatPadCallback(config, deps, req),
    send: (req) => sendWechatPadMessage(config, req, deps.downloads),
  };
}

function wechatPadStartupWarnings(config: WechatPadChannelConfig): string[] {
  if (config.auth !== 'none') return [];
  return [
    `channel "${config.id}" (wechat-pad) has auth "none": anyone who can reach /hooks/${config.id} can inject messages; use "signature" or "path-token" outside a trusted network`,
  ];
}

export type { WechatPadChannelConfig } from './config.ts';
export { buildWechatPadSample } from './simulate.ts';
