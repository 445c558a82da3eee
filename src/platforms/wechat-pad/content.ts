import type { EventType, MessageType } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { isJsonObject, jsonObject, optionalNumber, scalarText, type Json } from '../_kit/payload-values.ts';
import { parseXmlSafely } from '../_kit/xml.ts';

/** What a message's type and body make of the event. */
export interface MessageKind {
  eventType: EventType;
  messageType: MessageType;
  text: string | null;
  content: Json;
  /** Who the event is really about when it is not FromUserName (friend requests come from `fmessage`). */
  origin?: { id: string; name: string | null };
}

/** WeChat message types (the webhook guide's table plus 37/48 from the pad protocol; docs/channels/wechat-pad.md, "Message types"). */
const MEDIA_TYPES: Record<number, MessageType> = { 3: 'image', 34: 'voice', 43: 'video' };

/**
 * The event for one message body (sender prefix already removed). `body` is text or XML, or, for
 * links in the flat format, an object with title/description/url.
 */
export function describeContent(msgType: number, body: string | Json): MessageKind {
  if (typeof body !== 'string') return describeObjectContent(msgType, body);
  const media = MEDIA_TYPES[msgType];
  if (media) return message(media, mediaContent(body));
  switch (msgType) {
    case 1:
      return { eventType: 'message', messageType: 'text', text: stripMentionMarkup(body), content: {} };
    case 47:
      return message('emoji', { ...mediaContent(body), ...emojiDetails(body) });
    case 48:
      return message('location', { xml: body, ...locationDetails(body) });
    case 49:
      return describeAppMessage(body);
    case 10000:
      return { eventType: 'system', messageType: 'system', text: null, content: { notice: body } };
    case 10002:
      return describeSysMessage(body);
    case 37:
      return describeFriendRequest(body);
    default:
      return message('unknown', { msgType, xml: body });
  }
}

/**
 * Removes WeChat's mention markup — `@name` followed by U+2005 (docs/channels/wechat-pad.md, "Groups
 * and mentions") — and trims. Names may hold spaces but no `@`, U+2005 or line break.
 */
export function stripMentionMarkup(text: string): string {
  return text.replace(/@[^@\u2005\n]*\u2005/g, '').trim();
}

/**
 * Parses XML embedded in a message. A DTD is refused outright (it is an attack, not a message);
 * XML that is merely broken leaves the message stored with its raw text and no parsed details.
 */
export function readEmbeddedXml(text: string): Json | null {
  try {
    return parseXmlSafely(text.trim());
  } catch (error) {
    if (error instanceof ImgateError && error.details?.reason === 'declaration') throw error;
    return null;
  }
}

function describeAppMessage(body: string): MessageKind {
  const appmsg = child(child(readEmbeddedXml(body), 'msg'), 'appmsg');
  const appType = text(appmsg?.type);
  // appmsg <type>6</type> is a file attachment; 5, 33, 57… are links, mini programs, quotes.
  if (appType === '6') {
    const attach = child(appmsg, 'appattach');
    return message('file', {
      xml: body,
      title: text(appmsg?.title),
      fileExt: text(attach?.fileext),
      size: optionalNumber(attach?.totallen),
    });
  }
  return message('link', {
    xml: body,
    appType,
    title: text(appmsg?.title),
    description: text(appmsg?.des),
    url: text(appmsg?.url),
  });
}

/** 10002 carries `<sysmsg type="revokemsg">` for recalls (and pats, group notices… otherwise). */
function describeSysMessage(body: string): MessageKind {
  const sysmsg = child(readEmbeddedXml(body), 'sysmsg');
  const sysType = text(sysmsg?.['@_type']);
  if (sysType === 'revokemsg') {
    const revoke = child(sysmsg, 'revokemsg');
    const recalledPlatformId = text(revoke?.newmsgid) ?? text(revoke?.msgid);
    return {
      eventType: 'message.recalled',
      messageType: 'system',
      text: null,
      content: { recalledPlatformId, notice: text(revoke?.replacemsg) },
    };
  }
  return { eventType: 'system', messageType: 'system', text: null, content: { sysmsgType: sysType, xml: body } };
}

/** 37 comes from `fmessage`; the requester is in `<msg fromusername=… fromnickname=… content=…>`. */
function describeFriendRequest(body: string): MessageKind {
  const msg = child(readEmbeddedXml(body), 'msg');
  const fromUser = text(msg?.['@_fromusername']);
  const fromNick = text(msg?.['@_fromnickname']);
  const kind: MessageKind = {
    eventType: 'friend.request',
    messageType: 'system',
    text: null,
    content: {
      xml: body,
      fromUser,
      fromNick,
      greeting: text(msg?.['@_content']),
      encryptUsername: text(msg?.['@_encryptusername']),
      ticket: text(msg?.['@_ticket']),
    },
  };
  if (fromUser) kind.origin = { id: fromUser, name: fromNick };
  return kind;
}

function emojiDetails(body: string): Json {
  const emoji = child(child(readEmbeddedXml(body), 'msg'), 'emoji');
  return emoji ? { url: text(emoji['@_cdnurl']), md5: text(emoji['@_md5']) } : {};
}

function locationDetails(body: string): Json {
  const location = child(child(readEmbeddedXml(body), 'msg'), 'location');
  if (!location) return {};
  return {
    latitude: optionalNumber(location['@_x']),
    longitude: optionalNumber(location['@_y']),
    label: text(location['@_label']),
    poiName: text(location['@_poiname']),
  };
}

/** The flat format's media content is "a URL or base64" (the webhook guide; docs/channels/wechat-pad.md); the pad format's is XML. */
function mediaContent(body: string): Json {
  const trimmed = body.trim();
  if (trimmed.startsWith('<')) return { xml: body };
  if (/^https?:\/\//i.test(trimmed)) return { url: trimmed };
  return { data: body };
}

function describeObjectContent(msgType: number, body: Json): MessageKind {
  if (msgType === 49) {
    return message('link', {
      title: text(body.title),
      description: text(body.description ?? body.des),
      url: text(body.url),
      value: body,
    });
  }
  const type = MEDIA_TYPES[msgType] ?? (msgType === 1 ? 'text' : 'unknown');
  return message(type, { value: body });
}

function message(messageType: MessageType, content: Json): MessageKind {
  return { eventType: 'message', messageType, text: null, content };
}

/** The child element `name` of a parsed XML node, if it is an element. */
function child(node: unknown, name: string): Json | null {
  return isJsonObject(node) ? jsonObject(node[name]) : null;
}

/** An element's or attribute's text; a tag with attributes keeps its text under '#text'. */
function text(value: unknown): string | null {
  return scalarText(isJsonObject(value) ? value['#text'] : value);
}
