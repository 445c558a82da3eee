import { createHash } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { callWecomApi, wecomCredential, type WecomCredential } from '../_kit/wecom-api.ts';
import { uploadWecomImage, type WecomSendDeps } from '../_kit/wecom-media.ts';
import type { WecomKfChannelConfig } from './config.ts';

type Json = Record<string, unknown>;

/**
 * errcodes customer-service sends meet, in words an operator can act on (the errcode and WeCom's
 * errmsg stay in `details`). The 5-message rule is the one every KF bot runs into.
 */
export const KF_SEND_ERRCODES: Record<number, string> = {
  95001:
    "WeCom customer service allows at most 5 messages after the customer's last message; wait for the customer to write again (errcode 95001)",
  95002: 'WeCom customer service may answer only within 48 hours of the customer\'s last message (errcode 95002)',
  95000: 'WeCom does not know this open_kfid (errcode 95000): `to` must be "<open_kfid>:<external_userid>" of this corp',
  95004: 'this open_kfid does not exist in this corp (errcode 95004): `to` must be "<open_kfid>:<external_userid>"',
  40096: 'WeCom does not know this external_userid (errcode 40096)',
  40007: 'WeCom refused the uploaded image (errcode 40007)',
};

/** WeCom's `msgid` for send_msg: at most 32 characters of [0-9a-zA-Z_-] (path/94677). */
const MSGID_CHARS = 32;

/**
 * Sends a customer-service message (`POST /cgi-bin/kf/send_msg`,
 * https://developer.work.weixin.qq.com/document/path/94677) into the conversation
 * `to` = `${open_kfid}:${external_userid}`, the id inbound events carry. KF has
 * neither markdown (sent as its text) nor mentions (refused) nor quotes (`replyTo` only names the
 * conversation). The `msgid` is derived from the idempotency key, so a repeat of one send carries
 * the same msgid; WeCom does not document dropping such a repeat, so nothing relies on it.
 */
export async function sendWecomKfMessage(config: WecomKfChannelConfig, deps: WecomSendDeps, req: SendRequest): Promise<SendResult> {
  if (req.mentions.length > 0) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message: 'WeCom customer service is one customer with one account: there is nobody to mention; send without mentions',
    });
  }
  const { openKfId, externalUserId } = parseKfConversationId(req.to);
  const credential = wecomCredential(config);
  const msgid = kfMsgid(req.to, req.idempotencyKey);
  const body: Json = { touser: externalUserId, open_kfid: openKfId, msgid, ...(await messagePart(deps, credential, req)) };
  const answer = await callWecomApi(deps.tokens, credential, { path: '/cgi-bin/kf/send_msg', body, explain: KF_SEND_ERRCODES });
  return { platformMessageId: typeof answer.msgid === 'string' && answer.msgid !== '' ? answer.msgid : msgid };
}

/** `wk…:wm…` → its two halves; open_kfids and external_userids hold no `:`. */
export function parseKfConversationId(to: string): { openKfId: string; externalUserId: string } {
  const split = to.indexOf(':');
  const openKfId = split === -1 ? '' : to.slice(0, split);
  const externalUserId = split === -1 ? '' : to.slice(split + 1);
  if (openKfId === '' || externalUserId === '' || externalUserId.includes(':')) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: 'to must be a wecom-kf conversation id, "<open_kfid>:<external_userid>" (as in inbound events)',
      details: { field: 'to' },
    });
  }
  return { openKfId, externalUserId };
}

/**
 * The first 32 hex characters of sha256(conversation, idempotency key): the same logical send
 * (a retry with its key) gets the same msgid, and the same key reused for another customer does
 * not collide with it.
 */
export function kfMsgid(to: string, idempotencyKey: string): string {
  return createHash('sha256').update(`${to}\n${idempotencyKey}`).digest('hex').slice(0, MSGID_CHARS);
}

async function messagePart(deps: WecomSendDeps, credential: WecomCredential, req: SendRequest): Promise<Json> {
  // KF messages have no markdown: the text goes out as written.
  const text = req.text ?? req.markdown;
  if (text !== undefined) return { msgtype: 'text', text: { content: text } };
  if (req.image !== undefined) {
    return { msgtype: 'image', image: { media_id: await uploadWecomImage(deps, credential, req.image, KF_SEND_ERRCODES) } };
  }
  throw new ImgateError('IMG_ERR_VALIDATION', { message: 'one of text, markdown or image is required' });
}
