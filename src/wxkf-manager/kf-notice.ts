import type { NormalizedEvent, RawRequestShape } from '../core/event.ts';

/**
 * A `kf_msg_or_event` notice forwarded to a registered puppet, as an event of its own. Deduplicated
 * on the notice's Token, which WeCom issues once per notice (its retries repeat it), so a retried
 * notice reaches the puppet once; the encrypted and the decrypted form of one notice count as one.
 */
export function kfNoticeEvent(notice: {
  corpId: string;
  openKfId: string;
  token: string;
  createdAt: Date;
  raw: unknown;
  rawRequest: RawRequestShape;
}): NormalizedEvent {
  return {
    dedupKey: `kf_msg_or_event:${notice.token}`,
    type: 'system',
    message: {
      platformId: notice.token,
      type: 'system',
      text: null,
      createdAt: notice.createdAt.toISOString(),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: { event: 'kf_msg_or_event', openKfId: notice.openKfId },
    },
    sender: { id: notice.corpId, name: null, isSelf: false },
    conversation: { id: notice.openKfId, type: 'direct', name: null },
    flags: { history: false },
    raw: notice.raw,
    rawRequest: notice.rawRequest,
  };
}
