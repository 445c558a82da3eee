import type { EventConversation, MessageType, Mention, NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { DingtalkCallbackBody } from './types.ts';
import { isJsonObject, isoTimeOr, optionalNumber, scalarText } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

interface Described {
  messageType: MessageType;
  text: string | null;
  content: Json;
}

/**
 * One robot callback as a unified event (https://open.dingtalk.com/document/orgapp/receive-message).
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
  const msgId = scalarText(body.msgId);
  if (msgId === null) throw unsupported('the DingTalk callback has no msgId');
  const conversationId = scalarText(body.conversationId);
  if (conversationId === null) throw unsupported('the DingTalk callback has no conversationId');
  const isGroup = scalarText(body.conversationType) === '2';
  const staffId = scalarText(body.senderStaffId);
  const dingtalkId = scalarText(body.senderId);
  const botId = scalarText(body.chatbotUserId);

  const atUsers = Array.isArray(body.atUsers) ? body.atUsers.filter(isJsonObject) : [];
  const mentions: Mention[] = atUsers
    .filter((user) => botId === null || scalarText(user.dingtalkId) !== botId)
    .map((user) => ({ id: scalarText(user.staffId) ?? scalarText(user.dingtalkId) ?? '', name: null }))
    .filter((mention) => mention.id !== '');
  const botInAtUsers = botId !== null && atUsers.some((user) => scalarText(user.dingtalkId) === botId);

  const conversation: EventConversation = isGroup
    ? { id: conversationId, type: 'group', name: scalarText(body.conversationTitle) }
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
    sender: { id: staffId ?? dingtalkId ?? '', name: scalarText(body.senderNick), isSelf: false },
    conversation,
    flags: { history: false },
    raw: body,
  };
}

/** The unified type, text and content of each msgtype (机器人接收消息, "消息类型"). */
function describe(body: DingtalkCallbackBody): Described {
  const msgtype = scalarText(body.msgtype) ?? '';
  const c = isJsonObject(body.content) ? body.content : {};
  switch (msgtype) {
    case 'text':
      // In a group DingTalk strips the robot's @name and leaves the space that followed it.
      return { messageType: 'text', text: (isJsonObject(body.text) ? (scalarText(body.text.content) ?? '') : '').trim(), content: {} };
    case 'picture':
      return media('image', { downloadCode: scalarText(c.downloadCode), pictureDownloadCode: scalarText(c.pictureDownloadCode) });
    case 'richText':
      return describeRichText(c);
    case 'audio':
      // `recognition` is DingTalk's transcript; it is not the message text, so it stays in content.
      return media('voice', { downloadCode: scalarText(c.downloadCode), duration: optionalNumber(c.duration), recognition: scalarText(c.recognition) });
    case 'video':
      return media('video', { downloadCode: scalarText(c.downloadCode), duration: optionalNumber(c.duration), videoType: scalarText(c.videoType) });
    case 'file':
      return media('file', { downloadCode: scalarText(c.downloadCode), fileName: scalarText(c.fileName), spaceId: scalarText(c.spaceId), fileId: scalarText(c.fileId) });
    default:
      return media('unknown', { msgType: msgtype === '' ? null : msgtype });
  }
}

/**
 * Text and pictures in one message: `text` joins the text parts (each trimmed) by newlines, `items` keeps the order.
 * Pictures carry a downloadCode, which `/v1.0/robot/messageFiles/download` turns into a URL.
 */
function describeRichText(c: Json): Described {
  const parts = Array.isArray(c.richText) ? c.richText.filter(isJsonObject) : [];
  const items = parts.map((part) =>
    typeof part.text === 'string'
      ? { type: 'text', text: part.text }
      : { type: 'image', downloadCode: scalarText(part.downloadCode), pictureDownloadCode: scalarText(part.pictureDownloadCode) },
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
  return isoTimeOr(optionalNumber(value), receivedAt);
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
