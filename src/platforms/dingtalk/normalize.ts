import type { EventConversation, MessageType, Mention, NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { DingtalkCallbackBody } from './types.ts';

type Json = Record<string, unknown>;

interface Described {
  messageType: MessageType;
  text: string | null;
  content: Json;
}

/**
 * One robot callback as a unified event (PLATFORMS.md §4).
 *
 * `conversation.id` is what a bot sends to, so it is the id DingTalk's send APIs take: a group's
 * `conversationId` (the `openConversationId` of `groupMessages/send`), and in a single chat the
 * sender's staff id (the `userIds` of `oToMessages/batchSend`), whose own `conversationId` stays in
 * `content.conversationId`. Someone outside the organization has no staff id: their single chat
 * keeps its conversationId, and can be answered only through the sessionWebhook.
 *
 * The sessionWebhook is a credential (its `session` query posts into the chat), so it is kept out
 * of the event and stays only in `raw`, where a reply through imgate finds it.
 */
export function normalizeDingtalkMessage(body: DingtalkCallbackBody, receivedAt: Date): NormalizedEvent {
  const msgId = text(body.msgId);
  if (msgId === null) throw unsupported('the DingTalk callback has no msgId');
  const conversationId = text(body.conversationId);
  if (conversationId === null) throw unsupported('the DingTalk callback has no conversationId');
  const isGroup = text(body.conversationType) === '2';
  const staffId = text(body.senderStaffId);
  const dingtalkId = text(body.senderId);
  const botId = text(body.chatbotUserId);

  const atUsers = Array.isArray(body.atUsers) ? body.atUsers.filter(isObject) : [];
  const mentions: Mention[] = atUsers
    .filter((user) => botId === null || text(user.dingtalkId) !== botId)
    .map((user) => ({ id: text(user.staffId) ?? text(user.dingtalkId) ?? '', name: null }))
    .filter((mention) => mention.id !== '');
  const botInAtUsers = botId !== null && atUsers.some((user) => text(user.dingtalkId) === botId);

  const conversation: EventConversation = isGroup
    ? { id: conversationId, type: 'group', name: text(body.conversationTitle) }
    : { id: staffId ?? conversationId, type: 'direct', name: null };
  const described = describe(body);
  const content: Json = { ...described.content, conversationId };
  if (staffId !== null && dingtalkId !== null) content.senderDingtalkId = dingtalkId;

  return {
    dedupKey: msgId,
    type: 'message',
    message: {
      platformId: msgId,
      type: described.messageType,
      text: described.text,
      createdAt: createdAt(body.createAt, receivedAt),
      mentions,
      mentionsBot: body.isInAtList === true || botInAtUsers,
      replyTo: null,
      content,
    },
    sender: { id: staffId ?? dingtalkId ?? '', name: text(body.senderNick), isSelf: false },
    conversation,
    flags: { history: false },
    raw: body,
  };
}

/** The unified type, text and content of each msgtype (机器人接收消息, "消息类型"). */
function describe(body: DingtalkCallbackBody): Described {
  const msgtype = text(body.msgtype) ?? '';
  const c = isObject(body.content) ? body.content : {};
  switch (msgtype) {
    case 'text':
      // In a group DingTalk strips the robot's @name and leaves the space that followed it.
      return { messageType: 'text', text: (isObject(body.text) ? (text(body.text.content) ?? '') : '').trim(), content: {} };
    case 'picture':
      return media('image', { downloadCode: text(c.downloadCode), pictureDownloadCode: text(c.pictureDownloadCode) });
    case 'richText':
      return describeRichText(c);
    case 'audio':
      // `recognition` is DingTalk's transcript; it is not the message text, so it stays in content.
      return media('voice', { downloadCode: text(c.downloadCode), duration: numberOrNull(c.duration), recognition: text(c.recognition) });
    case 'video':
      return media('video', { downloadCode: text(c.downloadCode), duration: numberOrNull(c.duration), videoType: text(c.videoType) });
    case 'file':
      return media('file', { downloadCode: text(c.downloadCode), fileName: text(c.fileName), spaceId: text(c.spaceId), fileId: text(c.fileId) });
    default:
      return media('unknown', { msgType: msgtype === '' ? null : msgtype });
  }
}

/**
 * Text and pictures in one message: `text` joins the text parts (each trimmed) by newlines, `items` keeps the order.
 * Pictures carry a downloadCode, which `/v1.0/robot/messageFiles/download` turns into a URL.
 */
function describeRichText(c: Json): Described {
  const parts = Array.isArray(c.richText) ? c.richText.filter(isObject) : [];
  const items = parts.map((part) =>
    typeof part.text === 'string'
      ? { type: 'text', text: part.text }
      : { type: 'image', downloadCode: text(part.downloadCode), pictureDownloadCode: text(part.pictureDownloadCode) },
  );
  const joined = items
    .map((item) => (item.type === 'text' ? (item.text as string).trim() : ''))
    .filter((part) => part !== '')
    .join('\n');
  return { messageType: joined === '' ? 'image' : 'text', text: joined === '' ? null : joined, content: { items } };
}

function media(messageType: MessageType, content: Json): Described {
  return { messageType, text: null, content };
}

function createdAt(value: unknown, receivedAt: Date): string {
  const ms = numberOrNull(value);
  return ms !== null && ms > 0 ? new Date(ms).toISOString() : receivedAt.toISOString();
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number') return String(value);
  return null;
}

function numberOrNull(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
