import type { ChannelConfig } from '../config/schema.ts';
import type { SimulatedCallback, SimulateOptions } from '../platforms/_kit/callback-sample.ts';
import { findPlatform, simulatedPlatformIds } from '../platforms/registry.ts';

export type { SimulateOptions };

/** The platforms `imgate simulate` knows. */
export const SIMULATED_PLATFORMS = simulatedPlatformIds;

/**
 * A correctly signed (and, where the platform encrypts, encrypted) sample callback for this channel,
 * and a line saying what it is. Built with imgate's own signing code, from the channel's config.
 */
export function simulatedCallback(channel: ChannelConfig, options: SimulateOptions): SimulatedCallback {
  const simulate = findPlatform(channel.platform)?.simulate;
  if (!simulate) throw new Error(`imgate simulate does not know ${channel.platform} yet`);
  return simulate(channel, options);
}
