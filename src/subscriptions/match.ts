import type { UnifiedEvent } from '../core/event.ts';
import type { SubscriptionRecord } from '../store/store.ts';

/**
 * WeChat's numeric message types, accepted in `messageTypes` filters because the webhook guide's
 * `MessageTypes: ["1","3",…]` uses them (docs/channels/wechat-pad.md, "Message types"). Each maps
 * to the unified type it normalizes to.
 */
const WECHAT_TYPE_NAMES: Record<string, string> = {
  '1': 'text',
  '3': 'image',
  '34': 'voice',
  '43': 'video',
  '47': 'emoji',
  '49': 'link',
  '10000': 'system',
  '10002': 'message.recalled',
};

/** The names an event answers to in a `messageTypes` filter: its message type and its event type. */
function typeNames(event: UnifiedEvent): string[] {
  return event.type === 'message' ? [event.message.type] : [event.type, event.message.type];
}

export function subscriptionMatches(sub: SubscriptionRecord, event: UnifiedEvent): boolean {
  if (!sub.enabled) return false;
  if (sub.channels && !sub.channels.includes(event.channel)) return false;
  if (event.sender.isSelf && !sub.includeSelf) return false;
  if (event.conversation.type === 'group') {
    if (sub.groups === 'none') return false;
    if (sub.groups === 'mention' && !event.message.mentionsBot) return false;
  }
  if (sub.messageTypes) {
    const wanted = new Set(sub.messageTypes.map((t) => WECHAT_TYPE_NAMES[t] ?? t));
    if (!typeNames(event).some((name) => wanted.has(name))) return false;
  }
  return true;
}
