/** The unified event every platform's callback is normalized into. */

export const EVENT_TYPES = ['message', 'message.recalled', 'member.joined', 'friend.request', 'system'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const MESSAGE_TYPES = [
  'text',
  'image',
  'voice',
  'video',
  'emoji',
  'link',
  'file',
  'location',
  'system',
  'unknown',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface Mention {
  id: string;
  name: string | null;
}

export interface EventMessage {
  /** imgate's id, `msg_…`. */
  id: string;
  /** The platform's own message id, always a string (WeChat's NewMsgId exceeds 2^53). */
  platformId: string;
  type: MessageType;
  text: string | null;
  createdAt: string;
  mentions: Mention[];
  mentionsBot: boolean;
  replyTo: string | null;
  content: Record<string, unknown>;
}

export interface EventSender {
  id: string;
  name: string | null;
  isSelf: boolean;
}

export interface EventConversation {
  id: string;
  type: 'direct' | 'group';
  name: string | null;
}

export interface UnifiedEvent {
  id: string;
  type: EventType;
  channel: string;
  platform: string;
  receivedAt: string;
  message: EventMessage;
  sender: EventSender;
  conversation: EventConversation;
  /** Flags that are not part of the message itself. */
  flags: { history: boolean };
}

/**
 * What an adapter hands the pipeline: the event without the ids imgate assigns, plus the key it
 * deduplicates on and the payload as the platform sent it (decrypted, parsed).
 */
export interface NormalizedEvent {
  dedupKey: string;
  type: EventType;
  message: Omit<EventMessage, 'id'>;
  sender: EventSender;
  conversation: EventConversation;
  flags: { history: boolean };
  raw: unknown;
  /**
   * How the platform's request looked, for `format: raw` subscribers that verify it with the
   * platform's own SDK (WeCom's encrypted XML and its signed query). Unset: JSON, no query.
   */
  rawRequest?: RawRequestShape;
  /**
   * This event's own bytes, when one request or page carried many events (a KF `sync_msg` page):
   * each event then stores and forwards its own entry, not the whole page.
   */
  rawBody?: Buffer;
}

export interface RawRequestShape {
  contentType: string;
  /** The query string to append to the subscriber's URL, without `?`. */
  query: string;
}
