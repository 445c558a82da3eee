import type { ChannelConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { ChannelAdapter } from '../platforms/_kit/adapter.ts';
import { findPlatform } from '../platforms/registry.ts';

export interface ChannelStatus {
  /** Null for webhook-only channels; true/false while a long connection is up/down. */
  connected: boolean | null;
  lastEventAt: string | null;
  lastError: { at: string; code: string; message: string } | null;
}

export interface ChannelRuntime {
  id: string;
  platform: string;
  config: ChannelConfig;
  adapter: ChannelAdapter;
  status: ChannelStatus;
}

/** Builds an adapter for every enabled channel. Disabled channels are left out: they answer 404. */
export function createChannels(configs: ChannelConfig[], logger: Logger): Map<string, ChannelRuntime> {
  const channels = new Map<string, ChannelRuntime>();
  for (const config of configs) {
    if (!config.enabled) continue;
    const platform = findPlatform(config.platform);
    if (!platform) throw new Error(`channel ${config.id}: platform ${config.platform} is not available`);
    const adapter = platform.create(config, { logger: logger.child({ channel: config.id }) });
    channels.set(config.id, {
      id: config.id,
      platform: config.platform,
      config,
      adapter,
      status: { connected: adapter.connect ? false : null, lastEventAt: null, lastError: null },
    });
  }
  return channels;
}
