import type { NormalizedEvent, UnifiedEvent } from '../core/event.ts';
import { newId } from '../core/ids.ts';

/** Gives a normalized event the ids imgate assigns and the channel it came through. */
export function buildUnifiedEvent(
  normalized: NormalizedEvent,
  channel: { id: string; platform: string },
  receivedAt: Date,
): UnifiedEvent {
  return {
    id: newId('evt'),
    type: normalized.type,
    channel: channel.id,
    platform: channel.platform,
    receivedAt: receivedAt.toISOString(),
    message: { id: newId('msg'), ...normalized.message },
    sender: normalized.sender,
    conversation: normalized.conversation,
    flags: normalized.flags,
  };
}
