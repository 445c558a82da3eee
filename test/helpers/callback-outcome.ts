import type { NormalizedEvent, UnifiedEvent } from '../../src/core/event.ts';
import type { CallbackOutcome, InboundRequest } from '../../src/platforms/_kit/adapter.ts';

/** The one event a callback produced; throws when it produced none or several, or a reply. */
export function onlyEvent(outcome: CallbackOutcome): NormalizedEvent {
  if (outcome.kind !== 'events' || outcome.events.length !== 1 || !outcome.events[0]) {
    throw new Error(`expected one event, got ${JSON.stringify(outcome)}`);
  }
  return outcome.events[0];
}

/** A normalized event as the store hands it to `send` (ids derived from the dedup key, as unique as it). */
export function storedEvent(event: NormalizedEvent, channel: string, platform: string): UnifiedEvent {
  return {
    id: `evt_${event.dedupKey}`,
    type: event.type,
    channel,
    platform,
    receivedAt: new Date().toISOString(),
    message: { ...event.message, id: `msg_${event.dedupKey}` },
    sender: event.sender,
    conversation: event.conversation,
    flags: event.flags,
  };
}

/** A POST callback as the `/hooks` route hands it to an adapter: this body and these headers, then `overrides`. */
export function inboundPost(text: string, headers: InboundRequest['headers'], overrides: Partial<InboundRequest> = {}): InboundRequest {
  return { method: 'POST', headers, query: {}, rawQuery: '', pathToken: undefined, rawBody: Buffer.from(text, 'utf8'), receivedAt: new Date(), ...overrides };
}
