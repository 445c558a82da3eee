import { createHash } from 'node:crypto';
import type { EventType, MessageType, NormalizedEvent, RawRequestShape } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { isoTimeOr, optionalNumber } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

export interface WecomNormalizeContext {
  receivedAt: Date;
  /** How WeCom's request looked (encrypted XML, signed query), for `format: raw` subscribers. */
  rawRequest: RawRequestShape;
}

interface Described {
  eventType: EventType;
  messageType: MessageType;
  text: string | null;
  content: Json;
}

/** Fields every callback carries; an event's other fields go to `content.details`. */
const ENVELOPE = new Set(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'MsgId', 'AgentID', 'Event', 'EventKey']);

/**
 * Turns a decrypted app callback (https://developer.work.weixin.qq.com/document/path/90239 for
 * messages, path/90240 for events) into the unified event. A self-built app only ever receives
 * member ↔ app direct messages: no groups, no mentions, so the conversation is
 * always the member (FromUserName) and a reply goes back to them.
 */
export function normalizeWecomMessage(message: Json, ctx: WecomNormalizeContext): NormalizedEvent {
  const from = field(message, 'FromUserName');
  const msgType = field(message, 'MsgType');
  if (from === null) throw unsupported('the WeCom callback has no FromUserName');
  if (msgType === null) throw unsupported('the WeCom callback has no MsgType');

  const createTime = field(message, 'CreateTime');
  const described = describe(msgType, message);
  const dedupKey = field(message, 'MsgId') ?? eventKey(message, from, createTime, msgType);

  return {
    dedupKey,
    type: described.eventType,
    message: {
      platformId: dedupKey,
      type: described.messageType,
      text: described.text,
      createdAt: createdAt(createTime, ctx.receivedAt),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: described.content,
    },
    sender: { id: from, name: null, isSelf: false },
    conversation: { id: from, type: 'direct', name: null },
    flags: { history: false },
    raw: message,
    rawRequest: ctx.rawRequest,
  };
}

function describe(msgType: string, m: Json): Described {
  switch (msgType) {
    case 'text':
      return { eventType: 'message', messageType: 'text', text: field(m, 'Content') ?? '', content: {} };
    case 'image':
      return message('image', { url: field(m, 'PicUrl'), mediaId: field(m, 'MediaId') });
    case 'voice':
      return message('voice', { mediaId: field(m, 'MediaId'), format: field(m, 'Format') });
    case 'video':
      return message('video', { mediaId: field(m, 'MediaId'), thumbMediaId: field(m, 'ThumbMediaId') });
    case 'file':
      // Not in the self-built app's documented list (path/90239); read as other WeCom callbacks spell it.
      return message('file', {
        mediaId: field(m, 'MediaId'),
        fileName: field(m, 'FileName') ?? field(m, 'Title'),
        size: optionalNumber(field(m, 'FileSize')),
      });
    case 'location':
      return message('location', {
        latitude: optionalNumber(field(m, 'Location_X')),
        longitude: optionalNumber(field(m, 'Location_Y')),
        scale: optionalNumber(field(m, 'Scale')),
        label: field(m, 'Label'),
      });
    case 'link':
      return message('link', {
        title: field(m, 'Title'),
        description: field(m, 'Description'),
        url: field(m, 'Url'),
        picUrl: field(m, 'PicUrl'),
      });
    case 'event':
      return {
        eventType: 'system',
        messageType: 'system',
        text: null,
        content: { event: field(m, 'Event'), eventKey: field(m, 'EventKey'), details: eventDetails(m) },
      };
    default:
      return message('unknown', { msgType });
  }
}

function message(messageType: MessageType, content: Json): Described {
  return { eventType: 'message', messageType, text: null, content };
}

/** What an event says beyond the envelope: LOCATION's Latitude/Longitude, ScanCodeInfo, … */
function eventDetails(m: Json): Json {
  return Object.fromEntries(Object.entries(m).filter(([name]) => !ENVELOPE.has(name)));
}

/** A tag's text; null when absent, empty or not text (values are strings: the parser keeps them so). */
function field(m: Json, name: string): string | null {
  const value = m[name];
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number') return String(value);
  return null;
}

function createdAt(createTime: string | null, receivedAt: Date): string {
  const seconds = createTime === null ? NaN : Number(createTime);
  return isoTimeOr(Number.isFinite(seconds) ? seconds * 1000 : null, receivedAt);
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}

/**
 * Events carry no MsgId. Two different events can share sender, second and kind (a bulk contact
 * import, two menu clicks in one second), so a digest of the whole decrypted event is part of the
 * key; WeCom's retries repeat the same plaintext and so still deduplicate.
 */
function eventKey(message: Record<string, unknown>, from: string, createTime: string | null, msgType: string): string {
  const digest = createHash('sha256').update(JSON.stringify(message)).digest('hex').slice(0, 16);
  return `${from}:${createTime ?? ''}:${field(message, 'Event') ?? msgType}:${digest}`;
}
