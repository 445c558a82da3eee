import type { EventType, MessageType, NormalizedEvent, RawRequestShape } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { RobotCallbackMessage } from './types.ts';
import { scalarText } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

export interface NormalizeContext {
  receivedAt: Date;
  /** How WeCom's request looked (encrypted XML, signed query), for `format: raw` subscribers. */
  rawRequest: RawRequestShape;
}

interface Kind {
  eventType: EventType;
  messageType: MessageType;
  text: string | null;
  content: Json;
}

/**
 * `@RobotName ` at the start of a group message: in a group the robot only hears messages that
 * @ it, and WeCom leaves the mention in the text (`@RobotA hello robot`). The name is not in the
 * callback, so this takes the first word after `@`: a robot whose name holds a space keeps the
 * rest of its name in `text`.
 */
const LEADING_MENTION = /^@[^\s\u2005]+(?:[\s\u2005]+|$)/;

/**
 * One decrypted robot callback as a unified event. Its WebhookUrl holds the robot's key, so it is
 * kept only in `raw` (where a reply finds it), not in the event that subscribers and the API see.
 */
export function normalizeRobotMessage(message: RobotCallbackMessage, ctx: NormalizeContext): NormalizedEvent {
  // Read defensively whatever the type says: tags may be empty, repeated or missing.
  const msgId = scalarText(message.MsgId);
  if (msgId === null) throw unsupported('the robot callback has no MsgId');
  const chatType = scalarText(message.ChatType) ?? 'group';
  const from = child(message, 'From');
  const senderId = scalarText(from?.UserId);
  const isDirect = chatType === 'single';
  // A single chat's ChatId identifies it; older callbacks may leave it out, then the user is the chat.
  const chatId = scalarText(message.ChatId) ?? (isDirect ? senderId : null);
  if (chatId === null) throw unsupported('the robot callback has no ChatId');

  const kind = describeMessage(message, !isDirect);
  const content: Json = { chatType, ...kind.content };
  const postId = scalarText(message.PostId);
  if (postId !== null) content.postId = postId;
  const alias = scalarText(from?.Alias);
  if (alias !== null) content.senderAlias = alias;

  return {
    dedupKey: msgId,
    type: kind.eventType,
    message: {
      platformId: msgId,
      type: kind.messageType,
      text: kind.text,
      // Robot callbacks carry no send time.
      createdAt: ctx.receivedAt.toISOString(),
      mentions: [],
      // In a group (or blackboard) WeCom calls the robot only for messages that @ it.
      mentionsBot: !isDirect && kind.eventType === 'message',
      replyTo: null,
      content,
    },
    sender: { id: senderId ?? '', name: scalarText(from?.Name), isSelf: false },
    conversation: { id: chatId, type: isDirect ? 'direct' : 'group', name: null },
    flags: { history: false },
    raw: message,
    rawRequest: ctx.rawRequest,
  };
}

function describeMessage(message: RobotCallbackMessage, inGroup: boolean): Kind {
  const msgType = scalarText(message.MsgType) ?? '';
  switch (msgType) {
    case 'text': {
      const body = scalarText(child(message, 'Text')?.Content) ?? '';
      return { eventType: 'message', messageType: 'text', text: inGroup ? stripLeadingMention(body) : body, content: {} };
    }
    case 'image':
      return { eventType: 'message', messageType: 'image', text: null, content: { imageUrl: scalarText(child(message, 'Image')?.ImageUrl) } };
    case 'mixed':
      return describeMixed(message, inGroup);
    case 'event':
      return { eventType: 'system', messageType: 'system', text: null, content: { event: scalarText(child(message, 'Event')?.EventType) } };
    case 'attachment': {
      const attachment = child(message, 'Attachment');
      const actions = list(attachment?.Actions).map((action) => ({
        name: scalarText(action.Name),
        value: scalarText(action.Value),
        type: scalarText(action.Type),
      }));
      return {
        eventType: 'system',
        messageType: 'system',
        text: null,
        content: { event: 'attachment', callbackId: scalarText(attachment?.CallbackId), actions },
      };
    }
    default:
      return { eventType: 'message', messageType: 'unknown', text: null, content: { msgType } };
  }
}

/** Text and images: `text` joins the text parts (the first one without its @mention), `items` keeps the order. */
function describeMixed(message: RobotCallbackMessage, inGroup: boolean): Kind {
  const items = list(child(message, 'MixedMessage')?.MsgItem).map((item) => {
    if (scalarText(item.MsgType) === 'image') return { type: 'image', url: scalarText(child(item, 'Image')?.ImageUrl) };
    return { type: 'text', text: scalarText(child(item, 'Text')?.Content) ?? '' };
  });
  const parts: string[] = [];
  for (const item of items) {
    if (item.type !== 'text' || typeof item.text !== 'string') continue;
    parts.push(parts.length === 0 && inGroup ? stripLeadingMention(item.text) : item.text);
  }
  const body = parts.filter((part) => part !== '').join('\n');
  return {
    eventType: 'message',
    messageType: body === '' ? 'image' : 'text',
    text: body === '' ? null : body,
    content: { items },
  };
}

export function stripLeadingMention(body: string): string {
  return body.trimStart().replace(LEADING_MENTION, '').trim();
}

function child(node: unknown, name: string): Json | null {
  if (node === null || typeof node !== 'object') return null;
  const value = (node as Json)[name];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

/** A tag that occurs once parses as an object, several times as a list. */
function list(value: unknown): Json[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.filter((item): item is Json => item !== null && typeof item === 'object' && !Array.isArray(item));
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
