import type { EventConversation, Mention, NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { describeFeishuContent, mentionsAllInContent } from './content.ts';
import type { FeishuBotMembershipEvent, FeishuMention, FeishuMessageEvent, FeishuRecallEvent, FeishuUserId } from './types.ts';
import { isJsonObject, isoTimeOr, jsonObject, scalarText } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

/** The bot's own open_id, from the config or `bot/v3/info`; null while unknown. */
export interface BotIdentity {
  openId: string | null;
}

export interface FeishuNormalizeContext {
  receivedAt: Date;
  botOpenId: string | null;
}

/** The unified id of "everyone" in mentions, as the send side's `<at user_id="all">` spells it. */
export const MENTION_ALL = 'all';

/**
 * A decrypted schema 2.0 event as a unified event, or null for event types imgate does not store
 * (they are acknowledged and dropped). Every stored event is deduplicated on `header.event_id`,
 * which Feishu repeats when it retries (接收事件,
 * https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/encrypt-key-encryption-configuration-case).
 */
export function normalizeFeishuEvent(payload: Json, ctx: FeishuNormalizeContext): NormalizedEvent | null {
  const header = jsonObject(payload.header) ?? {};
  const eventType = scalarText(header.event_type);
  const event = jsonObject(payload.event);
  if (eventType === null || !STORED_EVENTS.has(eventType)) return null;
  const eventId = scalarText(header.event_id);
  if (eventId === null) throw unsupported('the event has no header.event_id');
  if (event === null) throw unsupported(`the ${eventType} event has no event object`);
  const common = { eventId, eventType, createdAt: millis(header.create_time, ctx.receivedAt), payload: withoutToken(payload, header) };
  switch (eventType) {
    case 'im.message.receive_v1':
      return normalizeMessage(event as FeishuMessageEvent, common, ctx);
    case 'im.message.recalled_v1':
      return normalizeRecall(event as FeishuRecallEvent, common);
    default:
      return normalizeBotMembership(event as FeishuBotMembershipEvent, common);
  }
}

const STORED_EVENTS = new Set([
  'im.message.receive_v1',
  'im.message.recalled_v1',
  'im.chat.member.bot.added_v1',
  'im.chat.member.bot.deleted_v1',
]);

interface Common {
  eventId: string;
  eventType: string;
  /** `header.create_time`, as ISO text. */
  createdAt: string;
  /** The event as `raw`: the decrypted payload, its verification token blanked. */
  payload: Json;
}

/** What `header.token` reads in `raw`. */
export const REDACTED = '[redacted]';

/**
 * `header.token` is the app's Verification Token, a secret: it is blanked before the event is
 * stored, so it reaches neither the API nor `includeRaw` deliveries (nothing needs it once checked).
 */
function withoutToken(payload: Json, header: Json): Json {
  if (!('token' in header)) return payload;
  return { ...payload, header: { ...header, token: REDACTED } };
}

/**
 * `im.message.receive_v1`. The conversation is the chat (`chat_id`, also for p2p chats: sending
 * to it reaches the user), the sender is the `open_id`, and `message.replyTo` is the message this
 * one answers (`parent_id`, else the thread's `root_id`), as Feishu's `om_…` id.
 */
function normalizeMessage(event: FeishuMessageEvent, common: Common, ctx: FeishuNormalizeContext): NormalizedEvent {
  const message = jsonObject(event.message);
  if (message === null) throw unsupported('the im.message.receive_v1 event has no message');
  const messageId = scalarText(message.message_id);
  const chatId = scalarText(message.chat_id);
  if (messageId === null) throw unsupported('the message has no message_id');
  if (chatId === null) throw unsupported('the message has no chat_id');
  const msgType = scalarText(message.message_type) ?? 'unknown';
  const rawContent = typeof message.content === 'string' ? message.content : null;
  const described = describeFeishuContent(msgType, rawContent);

  const rawMentions = (Array.isArray(message.mentions) ? message.mentions : []).filter(isJsonObject) as FeishuMention[];
  const mentions = unifiedMentions(rawMentions, mentionsAllInContent(rawContent));
  const senderIds = jsonObject(event.sender?.sender_id) as FeishuUserId | null;
  const senderId = userIdOf(senderIds);
  const senderType = scalarText(event.sender?.sender_type);
  const bot = ctx.botOpenId;

  const content: Json = { msgType, ...described.content };
  for (const [name, field] of [
    ['parentId', 'parent_id'],
    ['rootId', 'root_id'],
    ['threadId', 'thread_id'],
  ] as const) {
    const value = scalarText(message[field]);
    if (value !== null) content[name] = value;
  }
  if (senderType !== null && senderType !== 'user') content.senderType = senderType;

  return {
    dedupKey: common.eventId,
    type: 'message',
    message: {
      platformId: messageId,
      type: described.messageType,
      text: described.text,
      createdAt: millis(message.create_time, new Date(common.createdAt)),
      mentions,
      mentionsBot: mentionsTheBot(rawMentions, mentions, bot, senderIds),
      replyTo: scalarText(message.parent_id) ?? scalarText(message.root_id),
      content,
    },
    sender: {
      id: senderId,
      name: null,
      isSelf: senderType === 'app' && bot !== null && senderIds?.open_id === bot,
    },
    conversation: { id: chatId, type: conversationType(message.chat_type), name: null },
    flags: { history: false },
    raw: common.payload,
  };
}

/**
 * `im.message.recalled_v1`: which message was withdrawn (`content.recalledPlatformId`, as other
 * platforms' recalls) and by whom in kind (`recallType`: message_owner, group_owner, …). The event
 * names no operator, so `sender.id` is empty, and not whether the chat is a group: it is given as
 * one, since recalls by anyone but the sender happen only there.
 */
function normalizeRecall(event: FeishuRecallEvent, common: Common): NormalizedEvent {
  const chatId = scalarText(event.chat_id);
  if (chatId === null) throw unsupported('the im.message.recalled_v1 event has no chat_id');
  const recallTime = scalarText(event.recall_time);
  return {
    dedupKey: common.eventId,
    type: 'message.recalled',
    message: {
      platformId: common.eventId,
      type: 'system',
      text: null,
      createdAt: recallTime === null ? common.createdAt : millis(recallTime, new Date(common.createdAt)),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: { event: common.eventType, recalledPlatformId: scalarText(event.message_id), recallType: scalarText(event.recall_type) },
    },
    sender: { id: '', name: null, isSelf: false },
    conversation: { id: chatId, type: 'group', name: null },
    flags: { history: false },
    raw: common.payload,
  };
}

/**
 * The bot added to a chat (`member.joined`: the bot is the member who joined, `sender` the user who
 * added it) or removed from one (`system`, with `content.event` saying which). Both name the chat
 * (`name`, kept as `conversation.name`).
 */
function normalizeBotMembership(event: FeishuBotMembershipEvent, common: Common): NormalizedEvent {
  const chatId = scalarText(event.chat_id);
  if (chatId === null) throw unsupported(`the ${common.eventType} event has no chat_id`);
  const added = common.eventType === 'im.chat.member.bot.added_v1';
  const operator = jsonObject(event.operator_id) as FeishuUserId | null;
  return {
    dedupKey: common.eventId,
    type: added ? 'member.joined' : 'system',
    message: {
      platformId: common.eventId,
      type: 'system',
      text: null,
      createdAt: common.createdAt,
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: { event: common.eventType, external: typeof event.external === 'boolean' ? event.external : null },
    },
    sender: { id: userIdOf(operator), name: null, isSelf: false },
    conversation: { id: chatId, type: 'group', name: scalarText(event.name) },
    flags: { history: false },
    raw: common.payload,
  };
}

/**
 * `mentions` as unified mentions: `{id: open_id, name}`, everyone as `{id: "all"}`. Feishu often
 * leaves `@_all` out of `mentions` while the content holds it (the SDK's normalizer says so too),
 * so the content is looked at as well.
 */
function unifiedMentions(raw: FeishuMention[], allInContent: boolean): Mention[] {
  const out: Mention[] = [];
  let all = false;
  for (const mention of raw) {
    const name = scalarText(mention.name);
    if (mention.key === '@_all') {
      all = true;
      out.push({ id: MENTION_ALL, name });
      continue;
    }
    const id = userIdOf(jsonObject(mention.id) as FeishuUserId | null);
    if (id !== '') out.push({ id, name });
  }
  if (allInContent && !all) out.push({ id: MENTION_ALL, name: null });
  return out;
}

/**
 * Whether the message mentions the bot: `@all` does (as on WeChat; it reaches the bot too), and
 * so does a mention of the bot's open_id once that is known (`botOpenId`, or `bot/v3/info` at
 * start). Until then, a guess that holds when the app may read user_ids (获取用户 user ID): the
 * sender then comes with a user_id, and a mentioned user_id that is missing can only be a bot's
 * (bots have none). Without that scope nobody has a user_id, and nothing is guessed.
 */
function mentionsTheBot(raw: FeishuMention[], mentions: Mention[], botOpenId: string | null, sender: FeishuUserId | null): boolean {
  if (mentions.some((mention) => mention.id === MENTION_ALL)) return true;
  if (botOpenId !== null) return raw.some((mention) => jsonObject(mention.id)?.open_id === botOpenId);
  if (scalarText(sender?.user_id) === null) return false;
  return raw.some((mention) => {
    const id = jsonObject(mention.id);
    return mention.key !== '@_all' && scalarText(id?.open_id) !== null && scalarText(id?.user_id) === null;
  });
}

function userIdOf(ids: FeishuUserId | null): string {
  return scalarText(ids?.open_id) ?? scalarText(ids?.user_id) ?? scalarText(ids?.union_id) ?? '';
}

function conversationType(chatType: unknown): EventConversation['type'] {
  return chatType === 'p2p' ? 'direct' : 'group';
}

/** Feishu's times are milliseconds since the epoch, as strings. */
function millis(value: unknown, fallback: Date): string {
  const ms = typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
  return isoTimeOr(Number.isFinite(ms) ? ms : null, fallback);
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
