import { randomBytes, randomInt } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import type { DiscordChannelConfig } from './config.ts';
import { signDiscordInteraction } from './verify.ts';

export interface DiscordSampleOptions {
  text?: string;
  now?: Date;
}

/** The DM channel and user that sample commands come from (made-up ids). */
export const DISCORD_SAMPLE_CHANNEL = '1100000000000000001';
export const DISCORD_SAMPLE_USER = '1100000000000000002';
const SAMPLE_APPLICATION = '1100000000000000003';
const SAMPLE_COMMAND = '1100000000000000004';
const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/**
 * A `/imgate text:<text>` slash command (APPLICATION_COMMAND) in a DM, as Discord posts it to the
 * Interactions Endpoint URL, signed with the channel's `testPrivateKey`. Discord signs with its own
 * private key, of which a channel knows only the public half; so a sample can be signed only with a
 * key pair of the user's own, whose public half the channel then has as `publicKey` (a test setup:
 * real interactions are refused with it). For `imgate simulate discord` and tests. Its interaction
 * token is made up: a reply through imgate is refused by Discord, visibly.
 */
export function buildDiscordSample(config: DiscordChannelConfig, options: DiscordSampleOptions = {}): CallbackSample {
  if (config.testPrivateKey === undefined) {
    throw new Error(
      `channel "${config.id}" has no testPrivateKey. Discord signs interactions with its own private key, so imgate cannot make one that the application's real publicKey accepts: make a test key pair, set its private half as testPrivateKey and its public half as publicKey (docs/channels/discord.md, "Trying it without Discord")`,
    );
  }
  const now = options.now ?? new Date();
  const body = JSON.stringify({
    id: snowflakeAt(now),
    application_id: config.applicationId ?? SAMPLE_APPLICATION,
    type: 2,
    data: { id: SAMPLE_COMMAND, name: 'imgate', type: 1, options: [{ name: 'text', type: 3, value: options.text ?? 'hello from imgate simulate' }] },
    channel_id: DISCORD_SAMPLE_CHANNEL,
    channel: { id: DISCORD_SAMPLE_CHANNEL, type: 1 },
    user: { id: DISCORD_SAMPLE_USER, username: 'imgate-sample', global_name: 'Sample User' },
    token: `imgate-sample-${randomBytes(24).toString('base64url')}`,
    version: 1,
    locale: 'en-US',
  });
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    path: `/hooks/${encodeURIComponent(config.id)}`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-signature-timestamp': timestamp,
      'x-signature-ed25519': signDiscordInteraction(config.testPrivateKey, timestamp, Buffer.from(body, 'utf8')),
    },
    body,
  };
}

/** A snowflake for a moment: milliseconds since Discord's epoch in the top bits, random below. */
function snowflakeAt(at: Date): string {
  return (((BigInt(at.getTime()) - DISCORD_EPOCH_MS) << 22n) | BigInt(randomInt(1 << 22))).toString();
}

/** `imgate simulate discord`. */
export function simulateDiscord(config: DiscordChannelConfig, options: SimulateOptions): SimulatedCallback {
  return {
    sample: buildDiscordSample(config, { text: options.text }),
    what: "a /imgate slash command (APPLICATION_COMMAND) signed with the channel's testPrivateKey",
  };
}
