import type { MessageType } from '../../core/event.ts';
import { jsonObject, optionalNumber, scalarText } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

export interface DescribedContent {
  messageType: MessageType;
  /** Plain text with the mention placeholders removed; null for messages without text. */
  text: string | null;
  /** What `message.content` gets besides `msgType`: the keys of files, the card, … */
  content: Json;
}

/**
 * Feishu's mention placeholders in message content: `@_user_1`, `@_user_2`, … and `@_all`
 * (接收消息, https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/events/receive).
 * `@_user_1` must not match the start of `@_user_10`, hence the whole digits.
 * One space after a placeholder goes with it, so `@_user_1 hello` becomes `hello`.
 */
const PLACEHOLDER = /@_user_\d+ ?|@_all\b ?/g;

/** Whether the content (as sent, JSON text) holds `@_all`: Feishu often leaves it out of `mentions`. */
export function mentionsAllInContent(raw: string | null): boolean {
  return raw !== null && /@_all\b/.test(raw);
}

/** Removes every mention placeholder and trims, as other platforms' mention markup is removed. */
export function stripMentionPlaceholders(text: string): string {
  return text.replace(PLACEHOLDER, '').trim();
}

/**
 * A message's `content` (a JSON string whose shape depends on `message_type`,
 * https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content)
 * as unified type, plain text and details. Content that is not the JSON it should be is kept as
 * text in `content.raw` rather than refusing an event Feishu has signed.
 */
export function describeFeishuContent(msgType: string, raw: string | null): DescribedContent {
  const parsed = parseContent(raw);
  if (parsed === null) return { messageType: 'unknown', text: null, content: raw === null ? {} : { raw } };
  switch (msgType) {
    case 'text':
      return { messageType: 'text', text: stripMentionPlaceholders(scalarText(parsed.text) ?? ''), content: {} };
    case 'post':
      return describePost(parsed);
    case 'image':
      return { messageType: 'image', text: null, content: { imageKey: scalarText(parsed.image_key) } };
    case 'file':
      return { messageType: 'file', text: null, content: { fileKey: scalarText(parsed.file_key), fileName: scalarText(parsed.file_name) } };
    case 'audio':
      return { messageType: 'voice', text: null, content: { fileKey: scalarText(parsed.file_key), durationMs: optionalNumber(parsed.duration) } };
    case 'media':
      return {
        messageType: 'video',
        text: null,
        content: {
          fileKey: scalarText(parsed.file_key),
          imageKey: scalarText(parsed.image_key),
          fileName: scalarText(parsed.file_name),
          durationMs: optionalNumber(parsed.duration),
        },
      };
    case 'sticker':
      return { messageType: 'emoji', text: null, content: { fileKey: scalarText(parsed.file_key) } };
    case 'location':
      return {
        messageType: 'location',
        text: null,
        content: { name: scalarText(parsed.name), latitude: optionalNumber(parsed.latitude), longitude: optionalNumber(parsed.longitude) },
      };
    case 'interactive': {
      const text = cardText(parsed);
      return { messageType: 'unknown', text: text === '' ? null : stripMentionPlaceholders(text), content: { card: parsed } };
    }
    case 'system':
      return { messageType: 'system', text: null, content: { value: parsed } };
    default:
      // share_chat, share_user, merge_forward, hongbao, vote, todo, calendar, video_chat, …
      return { messageType: 'unknown', text: null, content: { value: parsed } };
  }
}

/**
 * Rich text: `{title, content: [[element, …], …]}` (one array per paragraph), sometimes wrapped in
 * a locale (`{zh_cn: {…}}`, the send-side shape, which the SDK's own normalizer also unwraps).
 * Becomes plain text: the title on the first line, then one line per paragraph; links keep their
 * URL; images and media become keys in `content`. A post of images only is an `image` message.
 */
function describePost(parsed: Json): DescribedContent {
  const body = unwrapLocale(parsed);
  const imageKeys: string[] = [];
  const fileKeys: string[] = [];
  const lines: string[] = [];
  const title = scalarText(body.title);
  if (title !== null) lines.push(title);
  for (const paragraph of Array.isArray(body.content) ? body.content : []) {
    if (!Array.isArray(paragraph)) continue;
    lines.push(paragraph.map((element) => renderPostElement(jsonObject(element), imageKeys, fileKeys)).join(''));
  }
  const text = stripMentionPlaceholders(lines.join('\n'));
  const content: Json = { title };
  if (imageKeys.length > 0) content.imageKeys = imageKeys;
  if (fileKeys.length > 0) content.fileKeys = fileKeys;
  if (text === '' && imageKeys.length > 0) return { messageType: 'image', text: null, content: { ...content, imageKey: imageKeys[0] } };
  return { messageType: 'text', text, content };
}

function renderPostElement(element: Json | null, imageKeys: string[], fileKeys: string[]): string {
  if (element === null) return '';
  const text = scalarText(element.text) ?? '';
  switch (element.tag) {
    case 'text':
    case 'md':
    case 'code_block':
      return text;
    case 'a': {
      const href = scalarText(element.href);
      if (href === null || href === text) return text || (href ?? '');
      return text === '' ? href : `${text} (${href})`;
    }
    case 'at': {
      // Received posts name the mention by its placeholder (`@_user_1`), removed with the others.
      const userId = scalarText(element.user_id) ?? '';
      if (userId === 'all' || userId === 'all_members') return '@_all';
      if (userId.startsWith('@_')) return userId;
      const name = scalarText(element.user_name);
      return name === null ? '' : `@${name}`;
    }
    case 'img': {
      const key = scalarText(element.image_key);
      if (key !== null) imageKeys.push(key);
      return '';
    }
    case 'media': {
      const key = scalarText(element.file_key);
      if (key !== null) fileKeys.push(key);
      return '';
    }
    case 'emotion': {
      const emoji = scalarText(element.emoji_type);
      return emoji === null ? '' : `:${emoji}:`;
    }
    case 'hr':
      return '';
    default:
      return text;
  }
}

function unwrapLocale(parsed: Json): Json {
  if ('title' in parsed || 'content' in parsed) return parsed;
  for (const locale of ['zh_cn', 'en_us', 'ja_jp', ...Object.keys(parsed)]) {
    const body = jsonObject(parsed[locale]);
    if (body !== null) return body;
  }
  return parsed;
}

/** Tags whose `text` or `content` is what a reader of the card sees. */
const CARD_TEXT_TAGS = new Set(['text', 'plain_text', 'lark_md', 'markdown', 'md']);

/**
 * The readable text of a card (title, text and markdown elements, button labels), one piece a
 * line, repeated pieces once: a card has no plain text of its own, and bots mostly want this.
 */
function cardText(card: Json): string {
  const pieces: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    const obj = jsonObject(node);
    if (obj === null) return;
    if (typeof obj.tag === 'string' && CARD_TEXT_TAGS.has(obj.tag)) {
      const value = scalarText(obj.text) ?? scalarText(obj.content);
      if (value !== null) pieces.push(value);
      else visit(obj.text);
      return;
    }
    const title = scalarText(obj.title);
    if (title !== null) pieces.push(title);
    for (const value of Object.values(obj)) {
      if (value !== null && typeof value === 'object') visit(value);
    }
  };
  visit(card);
  return [...new Set(pieces.map((piece) => piece.trim()).filter((piece) => piece !== ''))].join('\n');
}

function parseContent(raw: string | null): Json | null {
  if (raw === null) return null;
  try {
    return jsonObject(JSON.parse(raw));
  } catch {
    return null;
  }
}
