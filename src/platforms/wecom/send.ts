import { ImgateError } from '../../core/errors.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { callWecomApi, wecomCredential, type WecomCredential } from '../_kit/wecom-api.ts';
import { uploadWecomImage, type WecomSendDeps } from '../_kit/wecom-media.ts';
import type { WecomChannelConfig } from './config.ts';

type Json = Record<string, unknown>;

/**
 * errcodes a self-built app's send commonly meets, explained in words an operator can act on
 * (https://developer.work.weixin.qq.com/document/path/90313). The errcode and WeCom's errmsg stay
 * in `details` either way.
 */
const SEND_ERRCODES: Record<number, string> = {
  60020: 'WeCom refused the call from this IP (errcode 60020): add the gateway\'s public IP to the app\'s trusted IPs (企业可信IP)',
  81013: 'WeCom found no valid recipient (errcode 81013): `to` must be a member\'s UserID within the app\'s visible range',
  40056: 'WeCom does not know this agentid (errcode 40056): check the channel\'s agentId',
  60011: 'the app may not reach this member (errcode 60011): widen the app\'s visible range (可见范围)',
  48002: 'the app may not use this API (errcode 48002)',
  40007: 'WeCom refused the uploaded image (errcode 40007)',
};

/**
 * Sends an app message (`POST /cgi-bin/message/send`,
 * https://developer.work.weixin.qq.com/document/path/90236) to the member `to` (or several,
 * `u1|u2`). Images are uploaded first as temporary media. App messages can neither
 * quote a message nor mention anyone: `replyTo` only picks the recipient (the caller's `to`), and
 * mentions are refused rather than silently dropped.
 */
export async function sendWecomMessage(config: WecomChannelConfig, deps: WecomSendDeps, req: SendRequest): Promise<SendResult> {
  if (req.mentions.length > 0) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message: 'WeCom app messages cannot mention anyone: they go to one member at a time; send without mentions',
    });
  }
  if (config.agentId === undefined) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message: `channel "${config.id}" has no agentId: set it to the app's AgentId to send`,
    });
  }
  const credential = wecomCredential(config);
  const body: Json = { touser: req.to, agentid: config.agentId, ...(await messagePart(deps, credential, req)) };
  const answer = await callWecomApi(deps.tokens, credential, { path: '/cgi-bin/message/send', body, explain: SEND_ERRCODES });
  checkRecipients(req.to, answer);
  return { platformMessageId: typeof answer.msgid === 'string' && answer.msgid !== '' ? answer.msgid : null };
}

/** The `msgtype` and its part of the body. */
async function messagePart(deps: WecomSendDeps, credential: WecomCredential, req: SendRequest): Promise<Json> {
  if (req.text !== undefined) return { msgtype: 'text', text: { content: req.text } };
  if (req.markdown !== undefined) return { msgtype: 'markdown', markdown: { content: req.markdown } };
  if (req.news !== undefined) return { msgtype: 'news', news: { articles: req.news.articles } };
  if (req.image !== undefined) {
    return { msgtype: 'image', image: { media_id: await uploadWecomImage(deps, credential, req.image, SEND_ERRCODES) } };
  }
  throw new ImgateError('IMG_ERR_VALIDATION', { message: 'one of text, markdown, image or news is required' });
}

/**
 * WeCom answers errcode 0 even when some recipients were invalid, listing them in `invaliduser`.
 * When none was valid nothing was sent, which is a refusal; when some were, the message went out
 * and must not be reported as failed (a retry would send it twice).
 */
function checkRecipients(to: string, answer: Json): void {
  const invalid = typeof answer.invaliduser === 'string' ? answer.invaliduser.split('|').filter((id) => id !== '') : [];
  if (invalid.length === 0) return;
  const recipients = to.split('|').filter((id) => id !== '');
  if (recipients.every((id) => invalid.includes(id))) {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
      message: 'WeCom found no valid recipient: `to` must be a member\'s UserID within the app\'s visible range',
      details: { errcode: 0, invaliduser: answer.invaliduser },
    });
  }
}
