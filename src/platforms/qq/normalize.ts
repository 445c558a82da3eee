import type { EventConversation, EventSender, Mention, MessageType, NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { isJsonObject, jsonObject, optionalNumber, scalarText, type Json } from '../_kit/payload-values.ts';
import { qqConversationId, type QqTarget } from './address.ts';
import type { QqAttachment, QqMessageData, QqPayload } from './types.ts';

/** The dispatch types imgate stores, and where each one's conversation is. */
const MESSAGE_EVENTS = {
  C2C_MESSAGE_CREATE: 'user',
  GROUP_AT_MESSAGE_CREATE: 'group',
  AT_MESSAGE_CREATE: 'channel',
  DIRECT_MESSAGE_CREATE: 'dm',
} as const satisfies Record<string, QqTarget['kind']>;

type MessageEventType = keyof typeof MESSAGE_EVENTS;

/** `<@!id>` (and `<@id>`) mention markup in guild messages, with the space that follows it. */
const MENTION_MARKUP = /<@!?[^<>\s]+> ?/g;

function isQqMessageEvent(eventType: string | undefined): eventType is MessageEventType {
  return eventType !== undefined && Object.hasOwn(MESSAGE_EVENTS, eventType);
}

/**
 * One op 0 dispatch as a unified event, or null for a dispatch imgate does not store (anything but
 * the four message events: it is acknowledged and dropped). Messages are deduplicated on their own id
 * (`d.id`, the `msg_id` replies name), which QQ may push twice (event.md, "其他说明").
 */
export function normalizeQqDispatch(payload: QqPayload, receivedAt: Date): NormalizedEvent | null {
  const eventType = scalarText(payload.t) ?? undefined;
  if (!isQqMessageEvent(eventType)) return null;
  const data = jsonObject(payload.d) as QqMessageData | null;
  if (data === null) throw unsupported(`the ${eventType} event has no d object`);
  const messageId = scalarText(data.id);
  if (messageId === null) throw unsupported(`the ${eventType} event has no d.id`);
  const kind = MESSAGE_EVENTS[eventType];
  const text = plainText(data.content);
  const attachments = Array.isArray(data.attachments) ? data.attachments.filter(isJsonObject).map(attachmentOf) : [];
  const content: Json = {};
  if (attachments.length > 0) content.attachments = attachments;
  if (kind === 'channel' || kind === 'dm') {
    content.guildId = scalarText(data.guild_id);
    content.channelId = scalarText(data.channel_id);
  }
  return {
    dedupKey: messageId,
    type: 'message',
    message: {
      platformId: messageId,
      type: messageTypeOf(text, attachments),
      text: text === '' && attachments.length > 0 ? null : text,
      createdAt: createdAt(data.timestamp, receivedAt),
      mentions: mentionsOf(data),
      // Groups and guild channels deliver only messages that @-mention the bot.
      mentionsBot: eventType === 'GROUP_AT_MESSAGE_CREATE' || eventType === 'AT_MESSAGE_CREATE',
      replyTo: scalarText(jsonObject(data.message_reference)?.message_id),
      content,
    },
    sender: senderOf(kind, data),
    conversation: conversationOf(kind, data, eventType),
    flags: { history: false },
    raw: payload,
  };
}

/**
 * The content without mention markup (guild messages carry `<@!botid>`), trimmed: in groups QQ
 * removes the bot's @ itself and leaves the space that followed it.
 */
function plainText(content: unknown): string {
  return (typeof content === 'string' ? content : '').replace(MENTION_MARKUP, '').trim();
}

/** Where each kind of message names its conversation. */
const CONVERSATION_FIELD: Record<QqTarget['kind'], { name: string; read: (data: QqMessageData) => unknown }> = {
  user: { name: 'author.user_openid', read: (data) => jsonObject(data.author)?.user_openid },
  group: { name: 'group_openid', read: (data) => data.group_openid },
  channel: { name: 'channel_id', read: (data) => data.channel_id },
  dm: { name: 'guild_id', read: (data) => data.guild_id },
};

function conversationOf(kind: QqTarget['kind'], data: QqMessageData, eventType: MessageEventType): EventConversation {
  const field = CONVERSATION_FIELD[kind];
  const id = scalarText(field.read(data));
  if (id === null) throw unsupported(`the ${eventType} event has no ${field.name}`);
  return { id: qqConversationId({ kind, id }), type: kind === 'user' || kind === 'dm' ? 'direct' : 'group', name: null };
}

/** C2C: the user's openid; group: the member's openid in that group; guild: the user id and name. */
function senderOf(kind: QqTarget['kind'], data: QqMessageData): EventSender {
  const author = jsonObject(data.author) ?? {};
  if (kind === 'user') return { id: scalarText(author.user_openid) ?? '', name: null, isSelf: false };
  if (kind === 'group') return { id: scalarText(author.member_openid) ?? '', name: null, isSelf: false };
  return { id: scalarText(author.id) ?? '', name: scalarText(jsonObject(data.member)?.nick) ?? scalarText(author.username), isSelf: false };
}

/** Guild messages list who they mention; the bot itself (`bot: true`) is `mentionsBot`, not a mention. */
function mentionsOf(data: QqMessageData): Mention[] {
  if (!Array.isArray(data.mentions)) return [];
  return data.mentions
    .filter(isJsonObject)
    .filter((user) => user.bot !== true)
    .map((user) => ({ id: scalarText(user.id) ?? '', name: scalarText(user.username) }))
    .filter((mention) => mention.id !== '');
}

interface Attachment {
  type: MessageType;
  contentType: string | null;
  url: string | null;
  filename: string | null;
  width: number | null;
  height: number | null;
  size: number | null;
}

/** QQ sometimes gives attachment URLs without a scheme (`gchat.qpic.cn/…`); they are served over https. */
function attachmentOf(raw: QqAttachment): Attachment {
  const contentType = scalarText(raw.content_type);
  const url = scalarText(raw.url);
  return {
    type: attachmentType(contentType),
    contentType,
    url: url === null || /^https?:\/\//i.test(url) ? url : `https://${url.replace(/^\/\//, '')}`,
    filename: scalarText(raw.filename),
    width: optionalNumber(raw.width),
    height: optionalNumber(raw.height),
    size: optionalNumber(raw.size),
  };
}

function attachmentType(contentType: string | null): MessageType {
  if (contentType === null) return 'file';
  if (contentType.startsWith('image/')) return 'image';
  if (contentType.startsWith('video/')) return 'video';
  if (contentType === 'voice' || contentType.startsWith('audio/')) return 'voice';
  return 'file';
}

/** Text when there is any; otherwise the kind of the first attachment. */
function messageTypeOf(text: string, attachments: Attachment[]): MessageType {
  if (text !== '' || attachments.length === 0) return 'text';
  return (attachments[0] as Attachment).type;
}

function createdAt(timestamp: unknown, receivedAt: Date): string {
  const ms = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
  return Number.isNaN(ms) ? receivedAt.toISOString() : new Date(ms).toISOString();
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
