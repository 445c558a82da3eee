import type { NormalizedEvent, UnifiedEvent } from '../../../src/core/event.ts';
import type { InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { discord, type DiscordChannelConfig } from '../../../src/platforms/discord/index.ts';
import { BOT_TOKEN, signedInteractionHeaders, type TestKeyPair } from '../../helpers/fake-discord.ts';
import { inboundPost, onlyEvent, storedEvent } from '../../helpers/callback-outcome.ts';

export function channel(overrides: Record<string, unknown> = {}): DiscordChannelConfig {
  return discord.configSchema.parse({ id: 'dc', platform: 'discord', token: BOT_TOKEN, ...overrides });
}

/** An interaction as the callback route hands it to the adapter, signed with `keys` unless headers are given. */
export function interactionRequest(body: unknown, keys: TestKeyPair, overrides: Partial<InboundRequest> & { timestamp?: string } = {}): InboundRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const { timestamp, ...rest } = overrides;
  return inboundPost(text, signedInteractionHeaders(keys, text, timestamp), rest);
}


export const stored = (event: NormalizedEvent): UnifiedEvent => storedEvent(event, 'dc', 'discord');

export { onlyEvent };
