import type { EventConversation, EventType, Mention, MessageType, NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { isJsonObject, jsonObject, optionalNumber, scalarText, type Json } from '../_kit/payload-values.ts';

/**
 * Subtypes of `message` that are someone writing (https://api.slack.com/events/message): a plain
 * message has none; the rest are files, a thread reply also sent to the channel, `/me` and
 * messages of bots and integrations.
 */
const WRITTEN_SUBTYPES = new Set(['file_share', 'thread_broadcast', 'me_message', 'bot_message']);
const JOIN_SUBTYPES = new Set(['channel_join', 'group_join']);
/**
 * Subtypes that are no event of their own: `message_replied` repeats a thread's parent when it gets
 * a reply (https://api.slack.com/events/message/message_replied).
 */
const IGNORED_SUBTYPES = new Set(['message_replied']);
/** `<@U123>` and `<@U123|name>`: user mentions (https://api.slack.com/reference/surfaces/formatting#mentioning-users). */
const USER_MENTION = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;
/** `<!here>`, `<!channel>`, `<!everyone>` (with an optional `|label`): everyone in the conversation. */
const BROADCAST = /<!(here|channel|everyone)(?:\|[^>]*)?>/;
const MENTION_EVERYONE = 'all';

/** Who the bot is, from the payload itself (see selfOf). */
interface BotIdentity {
  userId: string | null;
  appId: string | null;
}

/**
 * An `event_callback` payload (https://api.slack.com/apis/events-api#callback-field), as it comes
 * to `/hooks/<id>` and inside a Socket Mode `events_api` envelope, as a unified event; null for an
 * event that is none (another event type, a `message_replied`, a `message_changed` that is no
 * edit).
 *
 * A message is deduplicated on its channel and `ts`, which every retry repeats with its `event_id`:
 * so a message that comes both as `message` and as `app_mention` (an app subscribed to both) is
 * stored once too.
 */
export function normalizeSlackEventCallback(payload: Json, receivedAt: Date): NormalizedEvent | null {
  const event = jsonObject(payload.event);
  if (event === null) throw unsupported('the event_callback has no event');
  const kind = scalarText(event.type);
  if (kind !== 'message' && kind !== 'app_mention') return null;
  const bot = botIdentityOf(payload);
  const subtype = scalarText(event.subtype);
  if (subtype === 'message_changed') return normalizeEdit(event, payload, bot, receivedAt);
  if (subtype === 'message_deleted') return normalizeDeletion(event, payload, receivedAt);
  if (subtype !== null && IGNORED_SUBTYPES.has(subtype)) return null;
  const channel = required(event.channel, 'channel');
  const ts = required(event.ts, 'ts');
  const eventType: EventType = subtype === null || WRITTEN_SUBTYPES.has(subtype) ? 'message' : JOIN_SUBTYPES.has(subtype) ? 'member.joined' : 'system';
  const written = eventType === 'message';
  const rawText = typeof event.text === 'string' ? event.text : '';
  const { mentions, mentionsBot } = mentionsOf(rawText, bot.userId);
  const text = written ? plainText(rawText) : unescapeEntities(rawText).trim();
  const files = (Array.isArray(event.files) ? event.files : []).filter(isJsonObject).map(fileOf);
  const threadTs = scalarText(event.thread_ts);
  const content: Json = {};
  if (subtype !== null) content.subtype = subtype;
  if (threadTs !== null) content.threadTs = threadTs;
  if (files.length > 0) content.files = files;
  if (scalarText(event.bot_id) !== null) content.botId = scalarText(event.bot_id);
  const team = scalarText(event.team) ?? scalarText(payload.team_id);
  if (team !== null) content.team = team;

  return {
    dedupKey: `${channel}:${ts}`,
    type: eventType,
    message: {
      platformId: ts,
      type: written ? messageTypeOf(text, files) : 'system',
      text: text === '' ? null : text,
      createdAt: timeOf(ts, receivedAt),
      mentions,
      // An app_mention is the bot being mentioned, even when the bot's user id is not known.
      mentionsBot: mentionsBot || kind === 'app_mention',
      // In a thread, a reply answers the thread's parent (Slack threads are one level deep).
      replyTo: threadTs !== null && threadTs !== ts ? threadTs : null,
      content,
    },
    sender: senderOf(event, bot),
    conversation: conversationOf(channel),
    flags: { history: false },
    raw: payload,
  };
}

/**
 * `message_changed` (https://api.slack.com/events/message/message_changed): an edit when the new
 * message carries `edited`; Slack sends the subtype for other changes too (a link unfurled), which
 * are no events. imgate has no edit event type: an edit is a `system` event with the new text,
 * naming the edited message in `content.editedPlatformId`, as recalls name theirs.
 */
function normalizeEdit(event: Json, payload: Json, bot: BotIdentity, receivedAt: Date): NormalizedEvent | null {
  const message = jsonObject(event.message);
  const edited = jsonObject(message?.edited);
  if (message === null || edited === null) return null;
  const channel = required(event.channel, 'channel');
  const ts = required(message.ts, 'message.ts');
  const editedTs = scalarText(edited.ts) ?? required(event.ts, 'ts');
  const rawText = typeof message.text === 'string' ? message.text : '';
  const { mentions, mentionsBot } = mentionsOf(rawText, bot.userId);
  const text = plainText(rawText);
  const previous = jsonObject(event.previous_message);
  const threadTs = scalarText(message.thread_ts);
  const content: Json = { subtype: 'message_changed', editedPlatformId: ts };
  if (previous !== null && typeof previous.text === 'string') content.previousText = plainText(previous.text);
  if (threadTs !== null) content.threadTs = threadTs;
  return {
    dedupKey: `edited:${channel}:${ts}:${editedTs}`,
    type: 'system',
    message: {
      platformId: ts,
      type: 'system',
      text: text === '' ? null : text,
      createdAt: timeOf(editedTs, receivedAt),
      mentions,
      mentionsBot,
      replyTo: null,
      content,
    },
    sender: senderOf({ ...message, user: scalarText(edited.user) ?? message.user }, bot),
    conversation: conversationOf(channel),
    flags: { history: false },
    raw: payload,
  };
}

/**
 * `message_deleted` (https://api.slack.com/events/message/message_deleted): `message.recalled`,
 * naming the message in `content.recalledPlatformId` as other platforms' recalls do. Slack does not
 * say who deleted it.
 */
function normalizeDeletion(event: Json, payload: Json, receivedAt: Date): NormalizedEvent {
  const channel = required(event.channel, 'channel');
  const deletedTs = required(event.deleted_ts, 'deleted_ts');
  return {
    dedupKey: `deleted:${channel}:${deletedTs}`,
    type: 'message.recalled',
    message: {
      platformId: deletedTs,
      type: 'system',
      text: null,
      createdAt: timeOf(scalarText(event.ts) ?? '', receivedAt),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: { subtype: 'message_deleted', recalledPlatformId: deletedTs },
    },
    sender: { id: '', name: null, isSelf: false },
    conversation: conversationOf(channel),
    flags: { history: false },
    raw: payload,
  };
}

/**
 * The bot's own user id from `authorizations` (the installation the event is for, a bot one in a
 * workspace install: https://api.slack.com/apis/events-api#authorizations), and the app's id
 * (`api_app_id`). Every event names them, so imgate needs no `auth.test` to tell its own messages.
 */
function botIdentityOf(payload: Json): BotIdentity {
  const authorizations = Array.isArray(payload.authorizations) ? payload.authorizations.filter(isJsonObject) : [];
  const botAuthorization = authorizations.find((authorization) => authorization.is_bot === true);
  return { userId: scalarText(botAuthorization?.user_id), appId: scalarText(payload.api_app_id) };
}

/**
 * The author. A message is the bot's own (`isSelf`) when its `user` is the bot user, or when it was
 * posted by this app (`app_id`, or `bot_profile.app_id`, equal to `api_app_id`), as messages of an
 * app's bot are.
 */
function senderOf(message: Json, bot: BotIdentity): { id: string; name: string | null; isSelf: boolean } {
  const user = scalarText(message.user);
  const profile = jsonObject(message.user_profile);
  const botProfile = jsonObject(message.bot_profile);
  const appId = scalarText(message.app_id) ?? scalarText(botProfile?.app_id);
  const isSelf = (bot.userId !== null && user === bot.userId) || (bot.appId !== null && appId === bot.appId);
  const name = scalarText(profile?.display_name) ?? scalarText(profile?.real_name) ?? scalarText(botProfile?.name) ?? scalarText(message.username);
  return { id: user ?? scalarText(message.bot_id) ?? '', name, isSelf };
}

/**
 * The users a text mentions, the bot left out and reported as `mentionsBot`; `@here`, `@channel`
 * and `@everyone` as `{id: "all"}`, which does not count as mentioning the bot.
 */
function mentionsOf(text: string, botUserId: string | null): { mentions: Mention[]; mentionsBot: boolean } {
  const ids = [...new Set([...text.matchAll(USER_MENTION)].map((match) => match[1] as string))];
  const mentions: Mention[] = ids.filter((id) => id !== botUserId).map((id) => ({ id, name: null }));
  if (BROADCAST.test(text)) mentions.push({ id: MENTION_EVERYONE, name: null });
  return { mentions, mentionsBot: botUserId !== null && ids.includes(botUserId) };
}

/** The text without user mentions (and the spaces they leave), with Slack's `&amp;`, `&lt;`, `&gt;` undone. */
function plainText(text: string): string {
  return unescapeEntities(
    text
      .replace(USER_MENTION, '')
      .replace(/[ \t]{2,}/g, ' ')
      .replace(/[ \t]+\n/g, '\n')
      .replace(/\n[ \t]+/g, '\n'),
  ).trim();
}

/** Slack escapes exactly these three in message text (https://api.slack.com/reference/surfaces/formatting#escaping). */
function unescapeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** A direct message's channel id starts with D; channels, private channels and group DMs are groups. */
function conversationOf(channel: string): EventConversation {
  return { id: channel, type: channel.startsWith('D') ? 'direct' : 'group', name: null };
}

function messageTypeOf(text: string, files: Json[]): MessageType {
  if (text !== '' || files.length === 0) return text === '' ? 'unknown' : 'text';
  const kind = String(files[0]?.mimetype ?? '').split('/')[0];
  return kind === 'image' ? 'image' : kind === 'video' ? 'video' : kind === 'audio' ? 'voice' : 'file';
}

function fileOf(file: Json): Json {
  return {
    id: scalarText(file.id),
    name: scalarText(file.name),
    mimetype: scalarText(file.mimetype),
    size: optionalNumber(file.size),
    urlPrivate: scalarText(file.url_private),
  };
}

/** A Slack `ts` is unix seconds with microseconds after the point. */
function timeOf(ts: string, receivedAt: Date): string {
  const seconds = optionalNumber(ts);
  return seconds !== null && seconds > 0 ? new Date(Math.floor(seconds * 1000)).toISOString() : receivedAt.toISOString();
}

function required(value: unknown, field: string): string {
  const text = scalarText(value);
  if (text === null) throw unsupported(`the Slack event has no ${field}`);
  return text;
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
