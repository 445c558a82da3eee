import type { UnifiedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { QqTargetKind } from './address.ts';

interface ReplyRule {
  /** How long after the message QQ takes replies to it. */
  windowMinutes: number;
  /** How many replies one message takes; null: no documented limit. */
  maxReplies: number | null;
  /** The place, as the refusal names it. */
  where: string;
}

/**
 * QQ's passive-reply rules (send.md, "主动消息与被动消息说明"): a C2C message takes replies for 60
 * minutes, a group message for 5, each at most 5 of them; guild channel and DM messages for 5
 * minutes, with no count limit. Checked before any call, so a late reply is refused by name rather
 * than by QQ's code.
 */
export const QQ_REPLY_RULES: Record<QqTargetKind, ReplyRule> = {
  user: { windowMinutes: 60, maxReplies: 5, where: 'a C2C (direct) message' },
  group: { windowMinutes: 5, maxReplies: 5, where: 'a group message' },
  channel: { windowMinutes: 5, maxReplies: null, where: 'a guild channel message' },
  dm: { windowMinutes: 5, maxReplies: null, where: 'a guild DM message' },
};

/** Refuses a reply to `event` once its window has passed, by the message's own time. */
export function checkReplyWindow(kind: QqTargetKind, event: UnifiedEvent, now: number): void {
  const rule = QQ_REPLY_RULES[kind];
  const sentAt = Date.parse(event.message.createdAt);
  if (now - sentAt <= rule.windowMinutes * 60_000) return;
  const proactive = kind === 'channel' || kind === 'dm' ? '; send it without replyTo as a proactive message instead' : '';
  throw windowClosed(`QQ takes replies to ${rule.where} for ${rule.windowMinutes} minutes after it was sent, and this one was sent at ${event.message.createdAt}${proactive}`, {
    rule: 'reply-window',
    windowMinutes: rule.windowMinutes,
    messageCreatedAt: event.message.createdAt,
  });
}

/** Refuses the reply numbered `seq` when the message has had all the replies QQ allows. */
export function checkReplyCount(kind: QqTargetKind, seq: number): void {
  const rule = QQ_REPLY_RULES[kind];
  if (rule.maxReplies === null || seq <= rule.maxReplies) return;
  throw windowClosed(`QQ takes at most ${rule.maxReplies} replies to ${rule.where}, and this message has had them`, {
    rule: 'reply-count',
    maxReplies: rule.maxReplies,
  });
}

export function windowClosed(message: string, details: Record<string, unknown>): ImgateError {
  return new ImgateError('IMG_ERR_REPLY_WINDOW_CLOSED', { message, details });
}
