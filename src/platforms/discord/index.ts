import type { NormalizedEvent } from '../../core/event.ts';
import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { handleDiscordInteraction } from './callback.ts';
import { discordChannelSchema, type DiscordChannelConfig } from './config.ts';
import { freshDiscordGatewayState, holdDiscordGateway, type DiscordGatewayState } from './connection.ts';
import { fetchGatewayUrl } from './gateway-url.ts';
import { INTENT_BITS, intentBitfield } from './intents.ts';
import { redactInteractionToken } from './interaction.ts';
import { normalizeDiscordDispatch, type DispatchFrame } from './normalize.ts';
import { createDiscordRest } from './api.ts';
import { discordDropsRepeats, sendDiscordMessage } from './send.ts';
import { discordPublicKey, publicKeyHexOf } from './verify.ts';
import { simulateDiscord } from './simulate.ts';

export const discord: PlatformDefinition<typeof discordChannelSchema> = {
  id: 'discord',
  configSchema: discordChannelSchema,
  create: (config, deps) => createDiscordAdapter(config, deps),
  startupWarnings: discordStartupWarnings,
  redactRaw: redactInteractionToken,
  simulate: simulateDiscord,
};

/**
 * A Discord bot: messages over the Gateway (held by the runtime through `connect`, one WebSocket
 * per call, resumed across calls), slash commands as HTTP interactions at `/hooks/<id>`, sends
 * through the REST API with Discord's rate limits kept.
 */
export function createDiscordAdapter(config: DiscordChannelConfig, deps: AdapterDeps, now?: () => number): ChannelAdapter {
  const rest = createDiscordRest(config);
  const publicKey = config.publicKey === undefined ? null : discordPublicKey(config.publicKey);
  const sender = { config, rest, logger: deps.logger, now };
  const adapter: ChannelAdapter = {
    handleCallback: (req) => handleDiscordInteraction({ config, publicKey }, req),
    send: (req) => sendDiscordMessage(sender, req),
    dedupedByPlatform: (req) => discordDropsRepeats(sender, req),
  };
  if (!config.gateway) return adapter;
  const state = freshDiscordGatewayState();
  const intents = intentBitfield(config.intents);
  adapter.connect = (session) =>
    holdDiscordGateway({
      token: config.token,
      intents,
      state,
      session,
      logger: deps.logger,
      gatewayUrl: (signal) => (config.gatewayUrl !== undefined ? Promise.resolve(config.gatewayUrl) : fetchGatewayUrl(rest, config.token, deps.logger, signal)),
      dispatch: (frame, bytes) => ingestDispatch(frame, bytes, state, deps),
    });
  return adapter;
}

/**
 * Stores the event a dispatch holds, if any. A dispatch imgate cannot read is logged and passed
 * over: failing on it would end the connection, and the RESUME would bring it back for ever.
 */
async function ingestDispatch(frame: DispatchFrame, bytes: Buffer, state: DiscordGatewayState, deps: AdapterDeps): Promise<void> {
  let event: NormalizedEvent | null;
  try {
    event = normalizeDiscordDispatch(frame, state.botUserId, new Date());
  } catch (error) {
    deps.logger.warn({ err: error, dispatch: frame.t, seq: frame.s }, 'passed over a Discord dispatch that could not be read');
    return;
  }
  if (event !== null) await deps.sink.ingest([event], bytes);
}

function discordStartupWarnings(config: DiscordChannelConfig): string[] {
  const name = `channel "${config.id}" (discord)`;
  const warnings: string[] = [];
  const messageContent = INTENT_BITS.get('MESSAGE_CONTENT') as number;
  if (config.gateway && (intentBitfield(config.intents) & messageContent) === 0) {
    warnings.push(`${name} does not ask for the MESSAGE_CONTENT intent: guild messages that do not mention the bot arrive without text`);
  }
  if (!config.gateway && config.publicKey === undefined) {
    warnings.push(`${name} has gateway: false and no publicKey: it receives nothing (it still sends)`);
  }
  if (config.testPrivateKey !== undefined) {
    const matches = config.publicKey !== undefined && publicKeyHexOf(config.testPrivateKey) === config.publicKey.toLowerCase();
    warnings.push(
      matches
        ? `${name} has a testPrivateKey: it takes interactions signed with your test key pair, not Discord's (for imgate simulate and staging only)`
        : `${name} has a testPrivateKey whose public half is not its publicKey: imgate simulate discord would be refused (401)`,
    );
  }
  return warnings;
}

export type { DiscordChannelConfig } from './config.ts';
export { buildDiscordSample, type DiscordSampleOptions } from './simulate.ts';
