import type { EventType, MessageType, NormalizedEvent } from '../../core/event.ts';
import { isoTimeOr, jsonObject, optionalNumber, scalarText } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

export interface KfNormalizeContext {
  /** When the page was pulled: messages sent more than HISTORY_AFTER_MS before it are history. */
  pulledAt: Date;
}

/**
 * A message older than this when pulled is flagged `history`: the first pull of an account (no
 * cursor yet) returns up to three days of it, and a bot should not answer week-end backlog as if
 * it had just come. juzibot/wechaty-puppet-wxkf draws the same line at five minutes
 * (`HISTORY_MESSAGE_TIME_THRESHOLD` in its src/util/constant.ts).
 */
export const HISTORY_AFTER_MS = 5 * 60_000;

/** `origin` of a `msg_list` entry (https://kf.weixin.qq.com/api/doc/path/94745). */
export const ORIGIN = { customer: 3, system: 4, servicer: 5 } as const;

/** Event types that withdraw an earlier message; they carry its id in `recall_msgid`. */
const RECALL_EVENTS = new Set(['user_recall_msg', 'servicer_recall_msg']);

interface Described {
  eventType: EventType;
  messageType: MessageType;
  text: string | null;
  content: Json;
}

/**
 * Turns one `msg_list` entry of `kf/sync_msg` into the unified event, or null when it has no
 * `msgid` to deduplicate on (nothing WeCom documents; such an entry is skipped and logged).
 *
 * A KF conversation is one WeChat customer with one customer-service account: its id is
 * `${open_kfid}:${external_userid}`, because a reply needs both (`kf/send_msg` takes `open_kfid`
 * and `touser`) and the same customer talking to two accounts is two conversations.
 */
export function normalizeKfMessage(entry: Json, ctx: KfNormalizeContext): NormalizedEvent | null {
  const msgid = scalarText(entry.msgid);
  if (msgid === null) return null;
  const origin = optionalNumber(entry.origin);
  const msgtype = scalarText(entry.msgtype) ?? 'unknown';
  const event = jsonObject(entry.event);
  // Events may leave the top-level ids out and carry them inside `event` only.
  const openKfId = scalarText(entry.open_kfid) ?? scalarText(event?.open_kfid) ?? '';
  const externalUserId = scalarText(entry.external_userid) ?? scalarText(event?.external_userid);
  const servicerUserId = scalarText(entry.servicer_userid) ?? scalarText(event?.servicer_userid);

  const described = origin === ORIGIN.system || msgtype === 'event' ? describeEvent(event) : describeMessage(msgtype, entry);
  const sender =
    origin === ORIGIN.servicer
      ? { id: servicerUserId ?? openKfId, name: null, isSelf: true }
      : { id: externalUserId ?? servicerUserId ?? openKfId, name: null, isSelf: false };
  const sentAtMs = sendTimeMs(entry.send_time);

  return {
    dedupKey: msgid,
    type: described.eventType,
    message: {
      platformId: msgid,
      type: described.messageType,
      text: described.text,
      createdAt: isoTimeOr(sentAtMs, ctx.pulledAt),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: described.content,
    },
    sender,
    // An event about the account alone (servicer_status_change) has no customer: its
    // conversation is the account, which cannot be sent to.
    conversation: { id: externalUserId === null ? openKfId : kfConversationId(openKfId, externalUserId), type: 'direct', name: null },
    flags: { history: sentAtMs !== null && sentAtMs < ctx.pulledAt.getTime() - HISTORY_AFTER_MS },
    raw: entry,
  };
}

export function kfConversationId(openKfId: string, externalUserId: string): string {
  return `${openKfId}:${externalUserId}`;
}

function describeMessage(msgtype: string, entry: Json): Described {
  const body = jsonObject(entry[msgtype]) ?? {};
  switch (msgtype) {
    case 'text': {
      const menuId = scalarText(body.menu_id);
      return { eventType: 'message', messageType: 'text', text: scalarText(body.content) ?? '', content: menuId ? { menuId } : {} };
    }
    case 'image':
    case 'voice':
    case 'video':
    case 'file':
      return message(msgtype, { mediaId: scalarText(body.media_id) });
    case 'location':
      return message('location', {
        latitude: optionalNumber(body.latitude),
        longitude: optionalNumber(body.longitude),
        name: scalarText(body.name),
        address: scalarText(body.address),
      });
    case 'link':
      return message('link', {
        title: scalarText(body.title),
        description: scalarText(body.desc),
        url: scalarText(body.url),
        picUrl: scalarText(body.pic_url),
      });
    case 'miniprogram':
      return message('link', {
        kind: 'miniprogram',
        title: scalarText(body.title),
        appId: scalarText(body.appid),
        pagePath: scalarText(body.pagepath),
        thumbMediaId: scalarText(body.thumb_media_id),
      });
    default:
      // business_card, channels_shop_product, channels_shop_order, merged_msg, channels, note, …
      return message('unknown', { msgtype, value: entry[msgtype] ?? null });
  }
}

/**
 * origin 4: what happened around the conversation (`enter_session`, `msg_send_fail`,
 * `servicer_status_change`, `session_status_change`, …), kept whole in `content.event`. A recall
 * is `message.recalled`, naming the withdrawn message as other platforms' recalls do.
 */
function describeEvent(event: Json | null): Described {
  const eventType = scalarText(event?.event_type);
  const content: Json = { eventType, event: event ?? {} };
  if (eventType !== null && RECALL_EVENTS.has(eventType)) {
    return { eventType: 'message.recalled', messageType: 'system', text: null, content: { ...content, recalledPlatformId: scalarText(event?.recall_msgid) } };
  }
  return { eventType: 'system', messageType: 'system', text: null, content };
}

function message(messageType: MessageType, content: Json): Described {
  return { eventType: 'message', messageType, text: null, content };
}

function sendTimeMs(value: unknown): number | null {
  const seconds = optionalNumber(value);
  return seconds !== null && seconds > 0 ? seconds * 1000 : null;
}
