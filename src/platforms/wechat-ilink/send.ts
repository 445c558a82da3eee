import type { Dispatcher } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import type { ChannelValues, SendRequest, SendResult } from '../_kit/adapter.ts';
import { imageBytes } from '../_kit/image-bytes.ts';
import { withUnknownOutcome } from '../_kit/platform-http.ts';
import { scalarText } from '../_kit/payload-values.ts';
import { splitMessageText } from '../_kit/split-text.ts';
import { callIlink } from './api.ts';
import { contextTokenKey, parseContextToken, requireBot } from './bot-session.ts';
import { uploadToCdn, UPLOAD_IMAGE } from './cdn-upload.ts';
import { ILINK_API_BASE, ILINK_CDN_BASE, type WechatIlinkChannelConfig } from './config.ts';

/** Text per message: the official OpenClaw channel splits at 4000 characters (`textChunkLimit`). */
export const ILINK_MAX_TEXT = 4000;
/** sendmessage's `message_type` and `message_state` of a finished bot message (the official `MessageType.BOT`, `MessageState.FINISH`). */
const BOT_MESSAGE = 2;
const FINISHED = 2;

export interface IlinkSender {
  config: WechatIlinkChannelConfig;
  values: ChannelValues;
  downloads: Dispatcher;
}

/**
 * Sends to the user `to` (an event's `sender.id`, `…@im.wechat`) with sendmessage, carrying the
 * `context_token` of that user's latest message, which iLink requires: a user who never wrote gets
 * 409 IMG_ERR_SEND_NO_CONTEXT. Text longer than 4000 characters goes as several messages; an image
 * is uploaded to the CDN encrypted (cdn-upload.ts) and sent as an image item. Each message's
 * `client_id` is derived from the send's idempotency key (and the part's number).
 */
export async function sendIlinkMessage(sender: IlinkSender, req: SendRequest): Promise<SendResult> {
  const { config, values } = sender;
  const to = req.to.trim();
  if (to === '') throw new ImgateError('IMG_ERR_VALIDATION', { message: '`to` must be a WeChat user id (an event\'s sender.id)', details: { field: 'to' } });
  if (req.markdown !== undefined || req.mentions.length > 0) {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'wechat-ilink channels send text or an image (no markdown, no mentions)' });
  }
  const bot = await requireBot(values, config.id);
  const contextToken = parseContextToken(await values.get(contextTokenKey(to)))?.token ?? null;
  if (contextToken === null) {
    throw new ImgateError('IMG_ERR_SEND_NO_CONTEXT', {
      message: `no message from ${to} on this channel yet: iLink takes a send only with the context_token of the user's latest message`,
      details: { to },
    });
  }
  const apiBase = bot.baseUrl ?? config.apiBase ?? ILINK_API_BASE;
  let items: Record<string, unknown>[][];
  if (req.text !== undefined) {
    items = splitMessageText(req.text, ILINK_MAX_TEXT).map((text) => [{ type: 1, text_item: { text } }]);
  } else if (req.image !== undefined) {
    const bytes = await imageBytes(req.image, sender.downloads);
    const media = await uploadToCdn({ apiBase, cdnBase: config.cdnBase ?? ILINK_CDN_BASE, token: bot.token, toUserId: to }, bytes, UPLOAD_IMAGE);
    items = [[{ type: 2, image_item: { media: { encrypt_query_param: media.encryptQueryParam, aes_key: media.aesKey, encrypt_type: 1 }, mid_size: media.cipherSize } }]];
  } else {
    throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'wechat-ilink channels send text or an image (no news cards)' });
  }
  let first: string | null = null;
  for (const [index, itemList] of items.entries()) {
    const clientId = `imgate-${req.idempotencyKey.slice(0, 32)}${items.length > 1 ? `-${index}` : ''}`;
    const answer = await callIlink({
      base: apiBase,
      path: 'ilink/bot/sendmessage',
      token: bot.token,
      body: { msg: { from_user_id: '', to_user_id: to, client_id: clientId, message_type: BOT_MESSAGE, message_state: FINISHED, item_list: itemList, context_token: contextToken } },
    }).catch((error: unknown) => {
      // A later part failing leaves the earlier ones sent: the message is partly there.
      throw index === 0 ? error : withUnknownOutcome(error, { partsSent: index });
    });
    first ??= scalarText(answer.message_id) ?? clientId;
  }
  return { platformMessageId: first };
}
