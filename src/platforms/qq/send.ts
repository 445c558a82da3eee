import type { Logger } from 'pino';
import type { UnifiedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { TokenService } from '../../tokens/token-service.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { checkImageUrl } from '../_kit/image-bytes.ts';
import { qqConversationId, parseQqTarget, type QqTarget } from './address.ts';
import { QQ_AUDIT_CODES, callQqApi, qqCode, type QqCredential } from './api.ts';
import { QQ_REPLY_RULES, checkReplyCount, checkReplyWindow, windowClosed } from './reply-rules.ts';
import type { ReplySequence } from './reply-sequence.ts';
import type { Json } from '../_kit/payload-values.ts';

/** What one send needs besides the request. */
export interface QqSender {
  credential: QqCredential;
  tokens: TokenService;
  replies: ReplySequence;
  logger: Logger;
  now: () => number;
}

/** The day QQ stopped proactive messages to users and groups (send.md, the notice at its top). */
const PROACTIVE_END = '2025-04-21';
/** msg_type of the v2 message APIs: 0 text, 2 markdown, 7 media (send.md). */
const MSG_TYPE = { text: 0, markdown: 2, media: 7 } as const;
/** "msg limit exceed" (send.md): on a reply, the message has had all its replies. */
const MSG_LIMIT_CODE = 22009;
/** "MSG_EXPIRE 回复的消息过期" (openapi/error/error.md). */
const REPLY_EXPIRED_CODE = 304027;
/** "消息被去重，请检查请求msgseq": a msg_id + msg_seq QQ has seen. Not in QQ's docs; the body bots log. */
const DUPLICATE_SEQ_CODE = 40054005;
/** Guild user ids, which go into `<@id>` mentions. */
const GUILD_USER_ID = /^\d{1,32}$/;

/**
 * Sends one message to `to` (src/platforms/qq/address.ts). Users and groups take only replies, since
 * QQ stopped proactive messages to them: `replyTo` names the message, which goes as `msg_id` with
 * the next `msg_seq` of that message, within the reply rules (reply-rules.ts). Guild channels and
 * DMs take replies (`msg_id`) and proactive messages. One attempt: the send service retries what is
 * unreachable, and a retry reuses its `msg_seq`.
 */
export async function sendQqMessage(sender: QqSender, req: SendRequest): Promise<SendResult> {
  const target = parseQqTarget(req.to);
  const reply = replyOf(req, target);
  if (target.kind === 'user' || target.kind === 'group') return sendToUserOrGroup(sender, req, target, reply);
  return sendToGuild(sender, req, target, reply);
}

/**
 * True for sends to a user or group: each is a reply numbered with `msg_seq`, which a retry of the
 * send reuses, and QQ refuses a msg_id + msg_seq it has seen (send.md), so a repeat makes no second
 * message. Guild channels and DMs take no msg_seq.
 */
export function qqDropsRepeats(req: SendRequest): boolean {
  return /^(user|group):/.test(req.to.trim());
}

/** `/v2/users/{openid}/messages` or `/v2/groups/{group_openid}/messages`, as a reply. */
async function sendToUserOrGroup(sender: QqSender, req: SendRequest, target: QqTarget, reply: UnifiedEvent | null): Promise<SendResult> {
  if (reply === null) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message: `QQ has taken no proactive messages to users and groups since ${PROACTIVE_END}: a message to ${req.to} must reply to one of theirs (replyTo), within ${QQ_REPLY_RULES[target.kind].windowMinutes} minutes of it`,
    });
  }
  if (req.mentions.length > 0) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'QQ C2C and group messages cannot mention anyone through the API' });
  }
  // Checked before a msg_seq is taken, which a refusal here would waste.
  const image = req.image === undefined ? null : imageUrl(req);
  checkReplyWindow(target.kind, reply, sender.now());
  const msgId = reply.message.platformId;
  const base = `/v2/${target.kind === 'user' ? 'users' : 'groups'}/${encodeURIComponent(target.id)}`;
  // Uploaded before a msg_seq is taken too: a failed upload must not use up one of the five replies.
  const message = image === null ? v2TextMessage(req) : await v2MediaMessage(sender, base, image);
  const { seq, retry } = await sender.replies.next(msgId, req.idempotencyKey);
  checkReplyCount(target.kind, seq);

  let answer: Json;
  try {
    answer = await callQqApi(sender.tokens, sender.credential, `${base}/messages`, { ...message, msg_id: msgId, msg_seq: seq });
  } catch (error) {
    const code = error instanceof ImgateError ? Number(error.details?.code) : NaN;
    // The first attempt of this send did arrive (it timed out on the way back): QQ kept it.
    if (code === DUPLICATE_SEQ_CODE && retry) return { platformMessageId: null };
    throw replyRefusal(error, target, code);
  }
  return resultOf(sender, answer, req.to);
}

/** `/channels/{channel_id}/messages` or `/dms/{guild_id}/messages`: a reply while it may be one, or proactive. */
async function sendToGuild(sender: QqSender, req: SendRequest, target: QqTarget, reply: UnifiedEvent | null): Promise<SendResult> {
  if (reply !== null) checkReplyWindow(target.kind, reply, sender.now());
  const path = target.kind === 'channel' ? `/channels/${encodeURIComponent(target.id)}/messages` : `/dms/${encodeURIComponent(target.id)}/messages`;
  const body = guildMessage(req);
  if (reply !== null) body.msg_id = reply.message.platformId;
  let answer: Json;
  try {
    answer = await callQqApi(sender.tokens, sender.credential, path, body);
  } catch (error) {
    throw replyRefusal(error, target, error instanceof ImgateError ? Number(error.details?.code) : NaN);
  }
  return resultOf(sender, answer, req.to);
}

/**
 * The stored message `replyTo` names, which must be a message of `to`'s conversation: QQ ties a
 * reply to the chat of its msg_id.
 */
function replyOf(req: SendRequest, target: QqTarget): UnifiedEvent | null {
  const event = req.replyTo;
  if (event === null) return null;
  if (event.type !== 'message') {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: 'replyTo names an event that is not a message: QQ replies name a message', details: { field: 'replyTo' } });
  }
  if (event.conversation.id !== qqConversationId(target)) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: `replyTo names a message of conversation ${event.conversation.id}: a QQ reply goes to the conversation of the message it answers`,
      details: { field: 'to' },
    });
  }
  return event;
}

function v2TextMessage(req: SendRequest): Json {
  if (req.text !== undefined) return { msg_type: MSG_TYPE.text, content: req.text };
  if (req.markdown !== undefined) return { msg_type: MSG_TYPE.markdown, markdown: { content: req.markdown } };
  throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'QQ channels send text, markdown or an image' });
}

/** An image: uploaded to `{base}/files` first (rich-media.md), then sent as media with its file_info. */
async function v2MediaMessage(sender: QqSender, base: string, url: string): Promise<Json> {
  // srv_send_msg false: QQ only stores the file; sent by itself it would count as a proactive message.
  const uploaded = await callQqApi(sender.tokens, sender.credential, `${base}/files`, { file_type: 1, url, srv_send_msg: false }, true);
  const fileInfo = uploaded.file_info;
  if (typeof fileInfo !== 'string' || fileInfo === '') {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: `QQ ${base}/files answered without file_info` });
  }
  // QQ wants some content with a media message; a space is what its docs suggest (send.md).
  return { msg_type: MSG_TYPE.media, content: ' ', media: { file_info: fileInfo } };
}

/** A guild message: `content` (with `<@id>` mentions first), `markdown`, or an `image` URL QQ fetches. */
function guildMessage(req: SendRequest): Json {
  if (req.text !== undefined) return { content: `${mentionMarkup(req.mentions)}${req.text}` };
  if (req.mentions.length > 0) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'a QQ guild message mentions people in text only: send the mentions with text' });
  }
  if (req.markdown !== undefined) return { markdown: { content: req.markdown } };
  return { image: imageUrl(req) };
}

function mentionMarkup(mentions: string[]): string {
  const ids = [...new Set(mentions)];
  const bad = ids.find((id) => !GUILD_USER_ID.test(id));
  if (bad !== undefined) {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: 'mentions in a QQ guild are user ids (digits)', details: { field: 'mentions', value: bad } });
  }
  return ids.map((id) => `<@${id}> `).join('');
}

/** QQ fetches images itself, by URL; it does not take the bytes (file_data "暂未支持", rich-media.md). */
function imageUrl(req: SendRequest): string {
  const image = req.image;
  if (image === undefined) throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'QQ channels send text, markdown or an image' });
  if (image.url === undefined) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message: 'QQ sends images by URL (it fetches them itself, and takes no uploaded bytes): give image.url, reachable from QQ, instead of image.base64',
    });
  }
  checkImageUrl(image.url);
  return image.url;
}

/** QQ's reply refusals under imgate's reply-window code; anything else as it came. */
function replyRefusal(error: unknown, target: QqTarget, code: number): unknown {
  if (!(error instanceof ImgateError)) return error;
  const rule = QQ_REPLY_RULES[target.kind];
  if (code === REPLY_EXPIRED_CODE) {
    return windowClosed(`QQ refused the reply: ${rule.where} takes replies for ${rule.windowMinutes} minutes (${error.message})`, { ...error.details, rule: 'reply-window' });
  }
  if (code === MSG_LIMIT_CODE && rule.maxReplies !== null) {
    return windowClosed(`QQ refused the reply: ${rule.where} takes at most ${rule.maxReplies} replies (${error.message})`, { ...error.details, rule: 'reply-count' });
  }
  return error;
}

function resultOf(sender: QqSender, answer: Json, to: string): SendResult {
  const code = qqCode(answer);
  if (code !== null && QQ_AUDIT_CODES.has(code)) {
    sender.logger.info({ to, code, message: answer.message }, 'QQ holds the message for review before it is delivered');
    return { platformMessageId: null };
  }
  return { platformMessageId: typeof answer.id === 'string' && answer.id !== '' ? answer.id : null };
}
