import type { MessageType, NormalizedEvent } from '../../core/event.ts';
import { isJsonObject, isoTimeOr, jsonObject, optionalNumber, scalarText } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

/** `message_type` of a WeixinMessage the bot itself sent (`MessageType.BOT` in the official types). */
const FROM_BOT = 2;
/** `item_list[].type` (`MessageItemType` in the official `src/api/types.ts`). */
const ITEM_TYPES: Record<number, MessageType> = { 1: 'text', 2: 'image', 3: 'voice', 4: 'file', 5: 'video' };

/**
 * A WeixinMessage from `getupdates` as an event, or null when it has no id to deduplicate on.
 * The dedup key is its `message_id` (a uint64, read exactly); the conversation is the group
 * (`group_id`) or the user. The text is that of the text items, or WeChat's transcription of a
 * voice message; media items keep their CDN reference and key in `content` so a subscriber can
 * fetch and decrypt them (AES-128-ECB). A quoted message is `content.quote`.
 */
export function normalizeIlinkMessage(message: Json, receivedAt: Date): NormalizedEvent | null {
  const messageId = scalarText(message.message_id) ?? null;
  if (messageId === null) return null;
  const isSelf = optionalNumber(message.message_type) === FROM_BOT;
  const from = scalarText(message.from_user_id) ?? '';
  const to = scalarText(message.to_user_id) ?? '';
  const group = scalarText(message.group_id);
  const items = Array.isArray(message.item_list) ? message.item_list.filter(isJsonObject) : [];
  const types = items.map((item) => ITEM_TYPES[optionalNumber(item.type) ?? 0] ?? 'unknown');
  const type = types.find((t) => t !== 'text') ?? types[0] ?? 'unknown';
  const texts = items.flatMap((item) => {
    const text = scalarText(jsonObject(item.text_item)?.text) ?? scalarText(jsonObject(item.voice_item)?.text);
    return text === null ? [] : [text];
  });
  const quoted = items.map((item) => jsonObject(item.ref_msg)).find((ref) => ref !== null) ?? null;
  const content: Json = { items: items.map(itemContent) };
  if (quoted !== null) content.quote = quoteContent(quoted);
  const contextToken = scalarText(message.context_token);
  return {
    dedupKey: `msg:${messageId}`,
    type: 'message',
    message: {
      platformId: messageId,
      type,
      text: texts.length === 0 ? null : texts.join('\n'),
      createdAt: isoTimeOr(optionalNumber(message.create_time_ms), receivedAt),
      mentions: [],
      mentionsBot: false,
      replyTo: quoted === null ? null : scalarText(quoted.svr_id),
      content: { ...content, hasContextToken: contextToken !== null },
    },
    sender: { id: from, name: null, isSelf },
    conversation: group !== null ? { id: group, type: 'group', name: null } : { id: isSelf ? to : from, type: 'direct', name: null },
    flags: { history: false },
    raw: message,
  };
}

/** The user whose latest `context_token` this message carries, and the token; null for the bot's own. */
export function contextTokenOf(message: Json): { userId: string; token: string } | null {
  if (optionalNumber(message.message_type) === FROM_BOT) return null;
  const userId = scalarText(message.from_user_id);
  const token = scalarText(message.context_token);
  return userId === null || token === null ? null : { userId, token };
}

function itemContent(item: Json): Json {
  const type = ITEM_TYPES[optionalNumber(item.type) ?? 0] ?? 'unknown';
  const image = jsonObject(item.image_item);
  const voice = jsonObject(item.voice_item);
  const file = jsonObject(item.file_item);
  const video = jsonObject(item.video_item);
  if (image !== null) return { type, media: mediaOf(image.media), aesKeyHex: scalarText(image.aeskey) };
  if (voice !== null) return { type, media: mediaOf(voice.media), playtimeMs: optionalNumber(voice.playtime), transcription: scalarText(voice.text) };
  if (file !== null) return { type, media: mediaOf(file.media), fileName: scalarText(file.file_name), size: optionalNumber(file.len), md5: scalarText(file.md5) };
  if (video !== null) return { type, media: mediaOf(video.media), size: optionalNumber(video.video_size), playLength: optionalNumber(video.play_length) };
  return { type, text: scalarText(jsonObject(item.text_item)?.text) };
}

/** A CDNMedia reference: where the encrypted bytes are and the key (base64) that opens them. */
function mediaOf(value: unknown): Json | null {
  const media = jsonObject(value);
  if (media === null) return null;
  return { encryptQueryParam: scalarText(media.encrypt_query_param), aesKey: scalarText(media.aes_key), fullUrl: scalarText(media.full_url) };
}

function quoteContent(ref: Json): Json {
  const item = jsonObject(ref.message_item);
  return { svrId: scalarText(ref.svr_id), title: scalarText(ref.title), item: item === null ? null : itemContent(item) };
}
