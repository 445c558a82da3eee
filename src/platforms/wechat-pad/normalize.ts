import type { EventConversation, Mention, NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { containsXmlDeclaration } from '../_kit/xml.ts';
import { describeContent, readEmbeddedXml } from './content.ts';
import type { MessageView } from './types.ts';

export interface NormalizeContext {
  /** The channel's `botWxid`; the wrapper's `Wxid` counts as the bot as well. */
  botWxid: string | null;
  receivedAt: Date;
  /** The parsed payload, kept as the event's `raw`. */
  raw: unknown;
}

/** Group sender prefix of `Content.string`: `"wxid_sender:\ntext"` (docs/channels/wechat-pad.md, "Groups and mentions"). */
const SENDER_PREFIX = /^([A-Za-z0-9_@.-]+):\n/;
const AT_ALL = 'notify@all';
/** PushContent of a message that @-mentions the receiving account (docs/channels/wechat-pad.md, "Groups and mentions"). */
const MENTIONED_YOU = '在群聊中@了你';

interface Participants {
  conversation: EventConversation;
  senderId: string;
  isSelf: boolean;
  /** The content with any sender prefix removed. */
  body: string | Record<string, unknown>;
}

export function normalizeMessage(view: MessageView, ctx: NormalizeContext): NormalizedEvent {
  // NewMsgId is the unique one; MsgId repeats across accounts and devices.
  const platformId = view.newMsgId ?? view.msgId;
  if (platformId === null) throw unsupported('the message has neither NewMsgId nor MsgId');
  if (view.from === '') throw unsupported('the message has no FromUserName');

  const botIds = new Set([ctx.botWxid, view.accountWxid].filter((id): id is string => id !== null));
  const isBot = (id: string) => botIds.has(id);
  const participants = resolveParticipants(view, isBot);
  const kind = describeContent(view.msgType, participants.body);
  const mentions = parseMentions(view.msgSource);
  const mentionIds = mentions.map((m) => m.id);
  const mentionsBot =
    mentionIds.some(isBot) ||
    mentionIds.includes(AT_ALL) ||
    (view.pushContent?.includes(MENTIONED_YOU) ?? false);

  let { conversation } = participants;
  let sender = { id: participants.senderId, name: view.senderName ?? senderNameFrom(view.pushContent), isSelf: participants.isSelf };
  if (kind.origin) {
    sender = { id: kind.origin.id, name: kind.origin.name, isSelf: false };
    if (conversation.type === 'direct') conversation = { ...conversation, id: kind.origin.id };
  }

  return {
    dedupKey: platformId,
    type: kind.eventType,
    message: {
      platformId,
      type: kind.messageType,
      text: kind.text,
      createdAt: createdAt(view.createTime, ctx.receivedAt),
      mentions,
      mentionsBot,
      replyTo: null,
      content: kind.content,
    },
    sender,
    conversation,
    flags: { history: view.isHistory },
    raw: ctx.raw,
  };
}

/**
 * Works out conversation and sender. In a group the room (`…@chatroom`) is FromUserName and the
 * real sender is the content prefix; when the account itself sends to a group — and on old
 * clients — the room is ToUserName and FromUserName is the sender (docs/channels/wechat-pad.md,
 * "Groups and mentions").
 */
function resolveParticipants(view: MessageView, isBot: (id: string) => boolean): Participants {
  const fromBot = isBot(view.from);
  const room = [view.from, view.to].find((id) => id.endsWith('@chatroom'));
  if (room !== undefined) {
    const conversation: EventConversation = { id: room, type: 'group', name: null };
    const prefixed = view.from === room && typeof view.content === 'string' ? SENDER_PREFIX.exec(view.content) : null;
    if (prefixed?.[1] !== undefined && typeof view.content === 'string') {
      const senderId = prefixed[1];
      const isSelf = view.isSelf ?? isBot(senderId);
      return { conversation, senderId, isSelf, body: view.content.slice(prefixed[0].length) };
    }
    // No prefix: the account's own message, an old client's, or a room notice (10000).
    return { conversation, senderId: view.from, isSelf: view.isSelf ?? fromBot, body: view.content };
  }
  const isSelf = view.isSelf ?? fromBot;
  const otherParty = isSelf ? view.to || view.from : view.from;
  return {
    conversation: { id: otherParty, type: 'direct', name: null },
    senderId: view.from,
    isSelf,
    body: view.content,
  };
}

/** `<msgsource><atuserlist><![CDATA[,wxid_a,wxid_b]]></atuserlist>` — comma separated, maybe a leading comma. */
function parseMentions(msgSource: string | null): Mention[] {
  if (msgSource === null) return [];
  // MsgSource is always the server's own XML: a DTD there is hostile even when nothing is parsed.
  if (containsXmlDeclaration(msgSource)) readEmbeddedXml(msgSource);
  if (!msgSource.includes('atuserlist')) return [];
  const source = readEmbeddedXml(msgSource)?.msgsource;
  const list = source !== null && typeof source === 'object' ? (source as Record<string, unknown>).atuserlist : undefined;
  if (typeof list !== 'string') return [];
  const ids = [...new Set(list.split(',').map((id) => id.trim()).filter((id) => id !== ''))];
  return ids.map((id) => ({ id, name: null }));
}

/** PushContent is `"name : text"`, or `"name在群聊中@了你"` for a mention. */
function senderNameFrom(pushContent: string | null): string | null {
  if (pushContent === null) return null;
  const match = /^(.+?) : /s.exec(pushContent) ?? /^(.+?)在群聊中@了你/s.exec(pushContent);
  return match?.[1]?.trim() || null;
}

function createdAt(createTime: number | null, receivedAt: Date): string {
  if (createTime === null) return receivedAt.toISOString();
  const ms = createTime > 1e12 ? createTime : createTime * 1000;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? receivedAt.toISOString() : date.toISOString();
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
