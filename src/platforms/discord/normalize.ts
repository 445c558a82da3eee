import type { EventConversation, EventType, Mention, MessageType, NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { isJsonObject, jsonObject, optionalNumber, scalarText, type Json } from '../_kit/payload-values.ts';

/** A Gateway dispatch (op 0) as received: its name, sequence number and data. */
export interface DispatchFrame {
  t: string;
  s: number;
  d: unknown;
}

/**
 * Discord message types that are someone writing (DEFAULT, REPLY, CHAT_INPUT_COMMAND and
 * CONTEXT_MENU_COMMAND, whose answers a bot posts as messages); every other type is a system message
 * (a pin, a boost, a thread created …). USER_JOIN is a member joining.
 * https://discord.com/developers/docs/resources/message#message-object-message-types
 */
const WRITTEN_TYPES = new Set([0, 19, 20, 23]);
const REPLY_TYPE = 19;
const USER_JOIN_TYPE = 7;
/** `<@id>` and the legacy nickname form `<@!id>`; roles (`<@&id>`) and channels (`<#id>`) stay in the text. */
const USER_MENTION = /<@!?(\d+)>/g;
const MENTION_EVERYONE = 'all';
/** The key a deletion is deduplicated on: a message id cannot contain `:`, so it never clashes with the create's. */
const DELETE_KEY_PREFIX = 'deleted:';

/**
 * `MESSAGE_CREATE` and `MESSAGE_DELETE` as unified events; other dispatches are not events (null).
 * `botUserId` is the bot's own user id from READY: its messages are `isSelf`, its mentions `mentionsBot`.
 */
export function normalizeDiscordDispatch(frame: DispatchFrame, botUserId: string | null, receivedAt: Date): NormalizedEvent | null {
  const data = jsonObject(frame.d);
  if (data === null) return null;
  if (frame.t === 'MESSAGE_CREATE') return normalizeDiscordMessage(data, frame, botUserId, receivedAt);
  if (frame.t === 'MESSAGE_DELETE') return normalizeDiscordDeletion(data, frame, receivedAt);
  return null;
}

/**
 * A message in a guild channel, thread or DM (https://discord.com/developers/docs/resources/message).
 * `conversation.id` is the `channel_id`, which the send API takes as `to` as it is (DMs are channels
 * too); a message with a `guild_id` is in a group. Without the MESSAGE_CONTENT intent, guild messages
 * that do not mention the bot come with empty content, and so as `unknown` with no text.
 */
function normalizeDiscordMessage(data: Json, frame: DispatchFrame, botUserId: string | null, receivedAt: Date): NormalizedEvent {
  const id = scalarText(data.id);
  const channelId = scalarText(data.channel_id);
  if (id === null || channelId === null) throw unsupported('the MESSAGE_CREATE has no id or channel_id');
  const author = jsonObject(data.author) ?? {};
  const authorId = scalarText(author.id) ?? '';
  const guildId = scalarText(data.guild_id);
  const discordType = optionalNumber(data.type) ?? 0;
  const rawText = typeof data.content === 'string' ? data.content : '';
  const { mentions, mentionsBot } = mentionsOf(rawText, data, botUserId);
  const text = withoutUserMentions(rawText);
  const attachments = (Array.isArray(data.attachments) ? data.attachments : []).filter(isJsonObject).map(attachmentOf);
  const stickers = (Array.isArray(data.sticker_items) ? data.sticker_items : []).filter(isJsonObject).map((s) => ({ id: scalarText(s.id), name: scalarText(s.name) }));

  const written = WRITTEN_TYPES.has(discordType);
  const eventType: EventType = written ? 'message' : discordType === USER_JOIN_TYPE ? 'member.joined' : 'system';
  const content: Json = { discordType };
  if (guildId !== null) content.guildId = guildId;
  if (attachments.length > 0) content.attachments = attachments;
  if (stickers.length > 0) content.stickers = stickers;
  if (author.bot === true) content.authorIsBot = true;
  if (scalarText(data.webhook_id) !== null) content.webhookId = scalarText(data.webhook_id);

  return {
    dedupKey: id,
    type: eventType,
    message: {
      platformId: id,
      type: written ? messageTypeOf(text, attachments, stickers.length) : 'system',
      text: text === '' ? null : text,
      createdAt: isoOr(data.timestamp, receivedAt),
      mentions,
      mentionsBot,
      replyTo: discordType === REPLY_TYPE ? scalarText(jsonObject(data.message_reference)?.message_id) : null,
      content,
    },
    sender: { id: authorId, name: displayName(author, jsonObject(data.member)), isSelf: botUserId !== null && authorId === botUserId },
    conversation: conversationOf(channelId, guildId),
    flags: { history: false },
    raw: frame,
  };
}

/**
 * A deleted message (`{id, channel_id, guild_id?}`): `message.recalled`, naming the message in
 * `content.recalledPlatformId` as other platforms' recalls do. Discord does not say who deleted it.
 */
function normalizeDiscordDeletion(data: Json, frame: DispatchFrame, receivedAt: Date): NormalizedEvent {
  const id = scalarText(data.id);
  const channelId = scalarText(data.channel_id);
  if (id === null || channelId === null) throw unsupported('the MESSAGE_DELETE has no id or channel_id');
  const guildId = scalarText(data.guild_id);
  return {
    dedupKey: `${DELETE_KEY_PREFIX}${id}`,
    type: 'message.recalled',
    message: {
      platformId: id,
      type: 'system',
      text: null,
      createdAt: receivedAt.toISOString(),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: guildId === null ? { recalledPlatformId: id } : { recalledPlatformId: id, guildId },
    },
    sender: { id: '', name: null, isSelf: false },
    conversation: conversationOf(channelId, guildId),
    flags: { history: false },
    raw: frame,
  };
}

/**
 * Who the message mentions: the users of `<@id>` markup and of the `mentions` list (which also
 * holds the author of a replied-to message when the reply pings them), the bot left out and
 * reported as `mentionsBot`; `@everyone`/`@here` as `{id: "all"}`, which does not count as
 * mentioning the bot (it reaches everyone alike).
 */
function mentionsOf(text: string, data: Json, botUserId: string | null): { mentions: Mention[]; mentionsBot: boolean } {
  const listed = (Array.isArray(data.mentions) ? data.mentions : []).filter(isJsonObject);
  const names = new Map(listed.map((user) => [scalarText(user.id) ?? '', displayName(user, jsonObject(user.member))]));
  const ids = [...new Set([...[...text.matchAll(USER_MENTION)].map((match) => match[1] as string), ...names.keys()])].filter((id) => id !== '');
  const mentions: Mention[] = ids.filter((id) => id !== botUserId).map((id) => ({ id, name: names.get(id) ?? null }));
  if (data.mention_everyone === true) mentions.push({ id: MENTION_EVERYONE, name: null });
  return { mentions, mentionsBot: botUserId !== null && ids.includes(botUserId) };
}

/** The text without user mentions, and without the doubled or edge spaces they leave. */
export function withoutUserMentions(text: string): string {
  return text
    .replace(USER_MENTION, '')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n[ \t]+/g, '\n')
    .trim();
}

function messageTypeOf(text: string, attachments: Json[], stickers: number): MessageType {
  if (text !== '') return 'text';
  const kind = String(attachments[0]?.contentType ?? '').split('/')[0];
  if (attachments.length > 0) return kind === 'image' ? 'image' : kind === 'video' ? 'video' : kind === 'audio' ? 'voice' : 'file';
  return stickers > 0 ? 'emoji' : 'unknown';
}

function attachmentOf(attachment: Json): Json {
  return {
    id: scalarText(attachment.id),
    filename: scalarText(attachment.filename),
    contentType: scalarText(attachment.content_type),
    size: optionalNumber(attachment.size),
    url: scalarText(attachment.url),
  };
}

/** A guild member's nickname, else the user's display name, else the username. */
export function displayName(user: Json, member: Json | null): string | null {
  return scalarText(member?.nick) ?? scalarText(user.global_name) ?? scalarText(user.username);
}

export function conversationOf(channelId: string, guildId: string | null): EventConversation {
  return { id: channelId, type: guildId === null ? 'direct' : 'group', name: null };
}

function isoOr(value: unknown, fallback: Date): string {
  const parsed = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(parsed) ? fallback.toISOString() : new Date(parsed).toISOString();
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
