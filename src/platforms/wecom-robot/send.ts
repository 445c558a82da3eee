import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { UnifiedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { SendLimiter } from '../_kit/send-rate-limiter.ts';
import type { SendRequest, SendResult } from '../_kit/adapter.ts';
import { imageBytes } from '../_kit/image-bytes.ts';
import { platformRequest } from '../_kit/platform-http.ts';
import { trustedReplyUrl } from '../_kit/reply-url.ts';
import { checkWecomAnswer, WECOM_API_BASE } from '../_kit/wecom-api.ts';
import type { WecomRobotChannelConfig } from './config.ts';

type Json = Record<string, unknown>;

/** `to` for "the robot's own group": no `chatid` is sent, and WeCom posts where the robot lives. */
export const DEFAULT_TARGET = 'default';

/** WeCom's hosts for robot webhooks: the one of the robot's own URL, and the one its callbacks name. */
const ROBOT_WEBHOOK_HOSTS = ['qyapi.weixin.qq.com', 'in.qyapi.weixin.qq.com'];

/** Limits of the robot send API (群机器人配置说明, https://developer.work.weixin.qq.com/document/path/91770). */
const MAX_TEXT_BYTES = 2048;
const MAX_MARKDOWN_BYTES = 4096;
const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
/** Mainland mobile numbers: 11 digits. `mentions` entries like this go to `mentioned_mobile_list`. */
const MOBILE = /^\d{11}$/;

/** Where one send goes: a robot's webhook URL, its key (the limiter's key too) and the chat. */
export interface RobotTarget {
  url: string;
  key: string;
  chatId: string | null;
  /** The user a reply mentions: the sender of the group message replied to. */
  replyMention: string | null;
}

/**
 * Sends through a robot's webhook: `POST …/cgi-bin/webhook/send?key=` with text, markdown or an
 * image, once a slot of the robot's rate limit is free. One attempt: the send service retries a
 * call that never reached WeCom (the webhook drops no repeats). The webhook answers no message id.
 */
export async function sendWecomRobotMessage(
  config: WecomRobotChannelConfig,
  limiter: SendLimiter,
  downloads: Dispatcher,
  req: SendRequest,
): Promise<SendResult> {
  const target = robotTarget(config, req);
  const body = await robotMessageBody(req, target, downloads);
  const answer = await limiter.run(target.key, () => platformRequest({ url: target.url, body, redact: [target.key] }));
  checkWecomAnswer(answer, 'robot webhook', { redact: [target.key] });
  return { platformMessageId: null };
}

/**
 * A reply goes back through the WebhookUrl of the callback it answers (the robot that heard the
 * message), to `to` (normally that message's conversation.id); anything else through the
 * channel's `webhookKey`. `to: "default"` sends no chatid (the robot's own group); any other
 * `to` is sent as `chatid`, which WeCom accepts for chats the robot is in (ids from callbacks).
 */
export function robotTarget(config: WecomRobotChannelConfig, req: SendRequest): RobotTarget {
  const event = req.replyTo;
  const replyMention = event !== null && mentionsSenderOnReply(event) ? event.sender.id : null;
  const chatId = req.to === DEFAULT_TARGET ? (event?.conversation.id ?? null) : req.to;
  const fromCallback = event !== null ? callbackWebhook(event, req.replyToRaw, config.apiBase) : null;
  if (fromCallback !== null) return { ...fromCallback, chatId, replyMention };
  if (!config.webhookKey) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
      message: `channel "${config.id}" has no webhookKey: it can only reply to messages received through its callback (give replyTo)`,
    });
  }
  const base = (config.apiBase ?? WECOM_API_BASE).replace(/\/+$/, '');
  const url = `${base}/cgi-bin/webhook/send?key=${encodeURIComponent(config.webhookKey)}`;
  return { url, key: config.webhookKey, chatId, replyMention };
}

/** In a group, a reply @-mentions whoever it answers; in a single chat there is no one else to tell. */
function mentionsSenderOnReply(event: UnifiedEvent): boolean {
  return event.type === 'message' && event.conversation.type === 'group' && event.sender.id !== '';
}

/**
 * The callback's WebhookUrl, if it is one: `/cgi-bin/webhook/send` with a `key`, on WeCom's own
 * hosts (the callback docs' sample uses `in.qyapi.weixin.qq.com`) or the channel's `apiBase` (see
 * `_kit/reply-url.ts`). It came inside a signed and encrypted callback; the policy keeps a reply
 * from following anything else all the same.
 */
function callbackWebhook(event: UnifiedEvent, payload: unknown, apiBase: string | undefined): { url: string; key: string } | null {
  const raw = payload !== null && typeof payload === 'object' ? (payload as { WebhookUrl?: unknown }).WebhookUrl : undefined;
  if (event.platform !== 'wecom-robot') return null;
  const trusted = trustedReplyUrl(raw, { hosts: ROBOT_WEBHOOK_HOSTS, apiBase, path: '/cgi-bin/webhook/send', credential: 'key' });
  return trusted && { url: trusted.url, key: trusted.credential };
}

/** The webhook's JSON for one message (text with mentioned_list, markdown with `<@userid>`, image). */
export async function robotMessageBody(req: SendRequest, target: RobotTarget, downloads: Dispatcher): Promise<Json> {
  const given = [req.text, req.markdown, req.image, req.news].filter((part) => part !== undefined).length;
  if (given === 0) throw new ImgateError('IMG_ERR_VALIDATION', { message: 'one of text, markdown, image or news is required' });
  if (given > 1) throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'a robot message is text, markdown, an image or news: send them apart' });
  const body: Json = {};
  if (target.chatId !== null) body.chatid = target.chatId;
  const mentions = unique([...(target.replyMention === null ? [] : [target.replyMention]), ...req.mentions]);

  if (req.text !== undefined) {
    checkBytes(req.text, MAX_TEXT_BYTES, 'text');
    const text: Json = { content: req.text };
    const byId = mentions.filter((id) => !MOBILE.test(id));
    const byMobile = mentions.filter((id) => MOBILE.test(id));
    if (byId.length > 0) text.mentioned_list = byId;
    if (byMobile.length > 0) text.mentioned_mobile_list = byMobile;
    return { ...body, msgtype: 'text', text };
  }

  if (req.markdown !== undefined) {
    const unmentionable = mentions.find((id) => MOBILE.test(id) || id === '@all');
    if (unmentionable !== undefined) {
      throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', {
        message: 'markdown mentions people by userid (<@userid>) only: mention mobile numbers and @all in a text message',
      });
    }
    const tags = mentions.filter((id) => !req.markdown!.includes(`<@${id}>`)).map((id) => `<@${id}>`);
    const content = tags.length > 0 ? `${tags.join(' ')} ${req.markdown}` : req.markdown;
    checkBytes(content, MAX_MARKDOWN_BYTES, 'markdown');
    return { ...body, msgtype: 'markdown', markdown: { content } };
  }

  if (req.mentions.length > 0) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'a robot image or news card cannot mention anyone: send the mentions as text' });
  }
  if (req.news !== undefined) return { ...body, msgtype: 'news', news: { articles: req.news.articles } };
  const bytes = await imageBytes(req.image!, downloads);
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: `WeCom robots take images up to 2 MB (JPG or PNG); this one is ${bytes.length} bytes`,
      details: { field: 'image' },
    });
  }
  // md5 of the raw bytes, before base64 (the robot API's rule).
  const image = { base64: bytes.toString('base64'), md5: createHash('md5').update(bytes).digest('hex') };
  return { ...body, msgtype: 'image', image };
}

function checkBytes(text: string, max: number, field: string): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > max) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: `WeCom robots take ${field} up to ${max} bytes of UTF-8; this is ${bytes}`,
      details: { field },
    });
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
