import type { NormalizedEvent, UnifiedEvent } from '../../../src/core/event.ts';
import type { CallbackOutcome, InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { discord, type DiscordChannelConfig } from '../../../src/platforms/discord/index.ts';
import { BOT_TOKEN, signedInteractionHeaders, type TestKeyPair } from '../../helpers/fake-discord.ts';

export function channel(overrides: Record<string, unknown> = {}): DiscordChannelConfig {
  return discord.configSchema.parse({ id: 'dc', platform: 'discord', token: BOT_TOKEN, ...overrides });
}

/** An interaction as the callback route hands it to the adapter, signed with `keys` unless headers are given. */
export function interactionRequest(body: unknown, keys: TestKeyPair, overrides: Partial<InboundRequest> & { timestamp?: string } = {}): InboundRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const { timestamp, ...rest } = overrides;
  return {
    method: 'POST',
    headers: signedInteractionHeaders(keys, text, timestamp),
    query: {},
    rawQuery: '',
    pathToken: undefined,
    rawBody: Buffer.from(text, 'utf8'),
    receivedAt: new Date(),
    ...rest,
  };
}

export function onlyEvent(outcome: CallbackOutcome): NormalizedEvent {
  if (outcome.kind !== 'events' || outcome.events.length !== 1 || !outcome.events[0]) {
    throw new Error(`expected one event, got ${JSON.stringify(outcome)}`);
  }
  return outcome.events[0];
}

/** A normalized event as the store hands it to `send` (ids assigned as the pipeline would). */
export function stored(event: NormalizedEvent): UnifiedEvent {
  return {
    id: 'evt_test',
    type: event.type,
    channel: 'dc',
    platform: 'discord',
    receivedAt: new Date().toISOString(),
    message: { ...event.message, id: 'msg_test' },
    sender: event.sender,
    conversation: event.conversation,
    flags: event.flags,
  };
}
